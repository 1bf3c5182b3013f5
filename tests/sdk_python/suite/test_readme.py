"""Every Python snippet of the SDK's README runs, in order, against the live server."""

import base64
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from og_records import OAuthClient, OGRecords
from og_records.webhooks import sign
from test_oauth import StandIn
from test_releases_live import write_wav

SNIPPET = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.fixture
def oauth_server() -> Iterator[tuple[str, StandIn]]:
    stand_in = StandIn(client_id="cli_7d2f9a4c1b8e")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = httpx.Request("POST", f"http://stand-in{self.path}", headers=dict(self.headers), content=body)
            answer = stand_in(request)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", stand_in
    server.shutdown()
    server.server_close()
    thread.join()


def test_every_readme_snippet_runs(
    base_url: str, api_key: str, oauth_server: tuple[str, StandIn], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = Path(os.environ["OG_SDK_TEST_README"]).read_text()
    snippets = SNIPPET.findall(readme)
    assert len(snippets) >= 10
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("OG_RECORDS_API_KEY", api_key)
    monkeypatch.setenv("OG_RECORDS_BASE_URL", base_url)
    monkeypatch.setenv("OG_RECORDS_WEBHOOK_SECRET", secret)
    master = write_wav(tmp_path / "master.wav")
    event = {
        "id": "evt_" + "d" * 26,
        "object": "event",
        "type": "person.created",
        "created": "2026-01-01T00:00:00Z",
        "environment": "sandbox",
        "data": {"object": {"id": "per_" + "e" * 26}},
    }
    raw_body = json.dumps(event).encode()
    now = int(time.time())
    headers = {
        "webhook-id": event["id"],
        "webhook-timestamp": str(now),
        "webhook-signature": sign(raw_body, secret=secret, msg_id=str(event["id"]), timestamp=now),
    }
    namespace: dict[str, object] = {
        "master_path": master,
        "raw_body": raw_body,
        "headers": headers,
        "store": {},
        "token_owner": "acct_demo",
    }
    oauth_url, stand_in = oauth_server
    opened: dict[int, OGRecords | OAuthClient] = {}  # snippets rebind names; close every client they made
    for index, snippet in enumerate(snippets):
        if "OAuthClient(" in snippet:
            monkeypatch.setenv("OG_RECORDS_BASE_URL", oauth_url)
        if "exchange_code" in snippet:
            namespace["code"] = stand_in.authorize(namespace["start"].url)  # type: ignore[attr-defined]
        try:
            exec(compile(snippet, f"README snippet {index + 1}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"README snippet {index + 1} failed: {exc!r}\n{snippet}")
        opened.update({id(v): v for v in namespace.values() if isinstance(v, OGRecords | OAuthClient)})
    assert namespace["status"] == 200, "the webhook snippet accepted the signed delivery"
    assert namespace["store"] == {"acct_demo": namespace["token"].refresh_token}  # type: ignore[attr-defined]
    for made in opened.values():
        made.close()
