"""Every Python snippet of the guides (docs/guides/*.md) runs, in order per guide, against the live server, with the
environment a reader sets up: OG_RECORDS_API_KEY and OG_RECORDS_BASE_URL."""

import base64
import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from og_records import OGRecords
from og_records.webhooks import sign
from test_releases_live import write_wav

SNIPPET = re.compile(r"```python\n(.*?)```", re.DOTALL)
GUIDES = Path(os.environ.get("OG_SDK_TEST_GUIDES", "")).glob("*.md") if os.environ.get("OG_SDK_TEST_GUIDES") else []
GUIDE_FILES = sorted(GUIDES)


def test_the_guides_have_python_snippets() -> None:
    assert sum(len(SNIPPET.findall(guide.read_text())) for guide in GUIDE_FILES) >= 5


@pytest.mark.parametrize("guide", GUIDE_FILES, ids=[guide.stem for guide in GUIDE_FILES])
def test_every_python_snippet_of_the_guide_runs(
    guide: Path, base_url: str, api_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snippets = SNIPPET.findall(guide.read_text())
    if not snippets:
        pytest.skip(f"{guide.name} has no Python snippet")
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("OG_RECORDS_API_KEY", api_key)
    monkeypatch.setenv("OG_RECORDS_BASE_URL", base_url)
    monkeypatch.setenv("OG_RECORDS_WEBHOOK_SECRET", secret)
    monkeypatch.chdir(tmp_path)
    write_wav(tmp_path / "northern-lights-master.flac")  # what the uploads guide uploads (a real, QC-able master)
    event = {
        "id": "evt_" + "d" * 26,
        "object": "event",
        "type": "release.status_changed",
        "created": "2026-01-01T00:00:00Z",
        "environment": "sandbox",
        "data": {"object": {"id": "rel_" + "e" * 26, "object": "release", "status": "submitted"}},
    }
    body = json.dumps(event).encode()
    now = int(time.time())
    namespace: dict[str, object] = {
        # What a fragment continues from: a client (the quickstart's), and a received webhook.
        "client": OGRecords(api_key=api_key, base_url=base_url),
        "body": body,
        "headers": {
            "webhook-id": event["id"],
            "webhook-timestamp": str(now),
            "webhook-signature": sign(body, secret=secret, msg_id=str(event["id"]), timestamp=now),
        },
    }
    for index, snippet in enumerate(snippets, start=1):
        try:
            exec(compile(snippet, f"{guide.name} snippet {index}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"{guide.name} snippet {index} failed: {exc!r}\n{snippet}")
    if "get_with_backoff" in namespace:  # rate-limits.md defines a helper: it must work against the API
        with httpx.Client(headers={"Authorization": f"Bearer {api_key}"}) as http:
            answer = namespace["get_with_backoff"](http, f"{base_url}/api/v1/persons")  # type: ignore[operator]
            assert answer.status_code == 200
    for made in namespace.values():
        if isinstance(made, OGRecords):
            made.close()
