"""Helpers for payout and inbound-webhook tests: money on a tenant's balance, Wise's stand-in server, settings."""

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from starlette.testclient import TestClient

from server import config
from server.app import App
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.releases import Release
from server.db.types import utcnow
from server.ids import new_id
from server.services import earnings, payouts

WISE_TOKEN = "wise-test-token-7d1f"
WISE_PROFILE = "217896"
# Wise transfer ids are unique across the whole test session (payouts of many tests share one database).
_transfer_ids = itertools.count(16521632)


def fund(account_id: str, environment: str, amount: str) -> None:
    """Settled earnings of `amount` (account currency) with no split in force: all of it is available."""
    reported = utcnow() - timedelta(days=90)
    with session_scope() as session:
        release = Release(id=new_id("rel"), account_id=account_id, environment=environment, title="Funded")
        session.add(release)
        session.flush()
        # Through the importer, the only writer of lines: it keeps the balance's totals with them.
        line = earnings.ReportLine(
            line_id=new_id("ern"),
            store="spotify",
            territory="DE",
            sale_period_start=date(2026, 6, 1),
            sale_period_end=date(2026, 6, 30),
            isrc=None,
            upc=None,
            usage_type="stream",
            units=1000,
            gross=Decimal(amount),
            net=Decimal(amount),
            currency="EUR",
            fx_rate=Decimal(1),
        )
        earnings.import_for_tenant(
            session,
            account_id,
            environment,
            sender="test",
            report_id=f"test-{line.line_id}",
            reported_at=reported,
            lines=[earnings.MatchedLine(line, release.id, None)],
            emit_event=False,
        )


def make_payable(account_id: str, *, verified: bool = True, details: bool = True) -> None:
    with session_scope() as session:
        if details:
            payouts.set_payout_details(
                session, account_id, account_holder="Nordlicht Records GmbH", iban="DE89 3704 0044 0532 0130 00"
            )
        account = session.get(Account, account_id)
        assert account is not None
        account.payee_verified = verified
        session.add(account)


@contextmanager
def settings_with(app: App | TestClient, **changes: Any) -> Iterator[None]:
    """The app's settings with some fields changed, for the block (its requests and the test's own code read them)."""
    target = app.app if isinstance(app, TestClient) else app
    assert isinstance(target, App)
    state, before = target.state, config.active()
    target.state = replace(state, settings=replace(state.settings, **changes))
    config.activate(replace(before, **changes))
    try:
        yield
    finally:
        target.state = state
        config.activate(before)


@dataclass
class FakeWise:
    """Wise's REST API as far as payouts use it, on a local port: same paths, JSON fields and bearer auth."""

    url: str = ""
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)  # customerTransactionId → transfer
    fail_transfers_with: int | None = None  # answer POST /v1/transfers with this status instead
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, auth: str | None, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append((method, path, body))
            if auth != f"Bearer {WISE_TOKEN}":
                return 401, {"error": "unauthorized"}
            if path == f"/v3/profiles/{WISE_PROFILE}/quotes":
                amount = body["sourceAmount"]
                return 200, {
                    "id": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf",
                    "sourceCurrency": body["sourceCurrency"],
                    "targetCurrency": body["targetCurrency"],
                    "sourceAmount": amount,
                    "paymentOptions": [
                        {"payIn": "BANK_TRANSFER", "payOut": "BANK_TRANSFER", "fee": {"total": 1.50}},
                        {"payIn": "BALANCE", "payOut": "BANK_TRANSFER", "fee": {"total": 0.62}, "disabled": False},
                    ],
                }
            if path == "/v1/accounts":
                if "IBAN" not in body.get("details", {}):
                    return 422, {"errors": [{"code": "NOT_VALID", "message": "IBAN missing"}]}
                return 200, {"id": 40000001, "currency": body["currency"], "type": "iban"}
            if path == "/v1/transfers":
                if self.fail_transfers_with is not None:
                    return self.fail_transfers_with, {"errors": [{"code": "error", "message": "Wise said no"}]}
                key = body["customerTransactionId"]
                if key not in self.transfers:  # Wise: the same customerTransactionId is the same transfer
                    self.transfers[key] = {
                        "id": next(_transfer_ids),
                        "targetAccount": body["targetAccount"],
                        "quoteUuid": body["quoteUuid"],
                        "customerTransactionId": key,
                        "status": "incoming_payment_waiting",
                    }
                return 200, self.transfers[key]
            if path.startswith(f"/v3/profiles/{WISE_PROFILE}/transfers/") and path.endswith("/payments"):
                return 201, {"type": "BALANCE", "status": "COMPLETED", "errorCode": None}
            return 404, {"errors": [{"code": "not_found", "message": path}]}

    def transfer_posts(self) -> list[dict[str, Any]]:
        return [body for method, path, body in self.requests if path == "/v1/transfers"]


@contextmanager
def fake_wise(client: TestClient) -> Iterator[FakeWise]:
    wise = FakeWise()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, answer = wise.handle("POST", self.path, self.headers.get("Authorization"), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    wise.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with settings_with(client, wise_api_url=wise.url, wise_api_token=WISE_TOKEN, wise_profile_id=WISE_PROFILE):
            yield wise
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
