"""The webhooks guide's plain-code verifiers (Python, JavaScript) agree with the official standardwebhooks library."""

import base64
import json
import re
import shutil
import subprocess
import time
from typing import Any

import pytest
from standardwebhooks import Webhook

from server.docs_site.build import GUIDES_SOURCE

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another secret, another endpoint").decode()
BODY = json.dumps({"id": "evt_01jc3md0a1b2c3d4e5f6g7h8j9", "type": "webhook.test", "data": {"object": {}}})


def _snippet(language: str, marker: str) -> str:
    guide = (GUIDES_SOURCE / "webhooks.md").read_text(encoding="utf-8")
    blocks = re.findall(rf"```{language}\n(.*?)```", guide, flags=re.S)
    matching = [block for block in blocks if marker in block]
    assert len(matching) == 1, f"one {language} block with {marker} in webhooks.md"
    return matching[0]


def _headers(secret: str, body: str = BODY, timestamp: int | None = None, msg_id: str = "evt_1") -> dict[str, str]:
    from datetime import UTC, datetime

    sent = int(time.time()) if timestamp is None else timestamp
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(sent, tz=UTC), body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(sent), "webhook-signature": signature}


def _cases() -> list[tuple[str, dict[str, str], str, bool]]:
    good = _headers(SECRET)
    rotated = _headers(OTHER_SECRET)
    rotated["webhook-signature"] += " " + good["webhook-signature"]
    return [
        ("signed with the secret", good, BODY, True),
        ("two signatures during a rotation, one valid", rotated, BODY, True),
        ("another secret", _headers(OTHER_SECRET), BODY, False),
        ("body changed", good, BODY.replace("webhook.test", "payout.requested"), False),
        ("ten minutes old", _headers(SECRET, timestamp=int(time.time()) - 600), BODY, False),
        ("from the future", _headers(SECRET, timestamp=int(time.time()) + 600), BODY, False),
        ("no signature", {k: v for k, v in good.items() if k != "webhook-signature"}, BODY, False),
        ("malformed timestamp", {**good, "webhook-timestamp": "soon"}, BODY, False),
    ]


def _library_accepts(headers: dict[str, str], body: str) -> bool:
    try:
        Webhook(SECRET).verify(body, headers)
    except Exception:
        return False
    return True


# The cases are signed when the test runs, not when it is collected: a timestamp taken at collection is minutes old
# by the time a long suite reaches the test (then "signed now" is stale and "ten minutes ahead" is current).
@pytest.mark.parametrize("case", [c[0] for c in _cases()])
def test_the_python_verifier_agrees_with_standardwebhooks(case: str) -> None:
    headers, body, valid = next((h, b, v) for c, h, b, v in _cases() if c == case)
    namespace: dict[str, Any] = {}
    exec(compile(_snippet("python", "def verify_webhook"), "webhooks.md", "exec"), namespace)
    assert _library_accepts(headers, body) is valid
    if valid:
        namespace["verify_webhook"](SECRET, headers, body.encode())
    else:
        with pytest.raises(namespace["WebhookVerificationError"]):
            namespace["verify_webhook"](SECRET, headers, body.encode())


def test_the_javascript_verifier_agrees_with_standardwebhooks() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js")
    cases = [{"case": c, "headers": h, "body": b, "valid": v} for c, h, b, v in _cases()]
    program = (
        _snippet("javascript", "async function verifyWebhook")
        + f"\nconst cases = {json.dumps(cases)};\nconst secret = {json.dumps(SECRET)};\n"
        + """
const results = [];
for (const c of cases) {
  try { await verifyWebhook(secret, c.headers, c.body); results.push([c.case, true]); }
  catch { results.push([c.case, false]); }
}
console.log(JSON.stringify(results));
"""
    )
    run = subprocess.run(
        [node, "--input-type=module", "-e", program], capture_output=True, text=True, timeout=60, check=True
    )
    outcomes = dict(json.loads(run.stdout))
    assert outcomes == {c["case"]: c["valid"] for c in cases}
