"""Payouts through the HTTP API: reservation against the balance, validation, idempotency, production gating,
the Wise transfer (sandbox simulation and the real client against a stand-in) and concurrency."""

import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.payouts import Payout
from server.domain.errors import DomainError
from server.domain.payouts import PayoutRequest
from server.principal import Principal
from server.services import balance, payouts
from tests.conftest import Tenant, TenantFactory
from tests.server.payouts_helpers import WISE_PROFILE, fake_wise, fund, make_payable


def _request(client: TestClient, tenant: Tenant, key: str | None = None, **body: Any) -> Any:
    headers = {**tenant.headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return client.post("/api/v1/payouts/request", json={"currency": "EUR", **body}, headers=headers)


def _available(tenant: Tenant) -> Decimal:
    with session_scope() as session:
        return balance.available_balance(session, tenant.account_id, tenant.environment)


def _events(client: TestClient, tenant: Tenant, kind: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/events", params={"type": kind, "limit": 100}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_sandbox_payout_of_the_whole_balance_runs_the_simulated_transfer(client: TestClient, tenant: Tenant) -> None:
    fund(tenant.account_id, "sandbox", "152.437")
    response = _request(client, tenant, metadata={"invoice": "2026-11"})
    assert response.status_code == 201, response.text
    payout = response.json()
    # Rounded down to cents: the fraction of a cent stays on the balance.
    assert payout["amount"] == "152.43"
    assert payout["fee"] == "1.07"  # sandbox fee: 0.41 + 0.43 %
    assert payout["net_amount"] == "151.36"
    assert payout["status"] == "paid"
    assert payout["provider_reference"] is not None
    assert payout["metadata"] == {"invoice": "2026-11"}
    assert _available(tenant) == Decimal("0.007")
    assert client.get(f"/api/v1/payouts/{payout['id']}", headers=tenant.headers).json() == payout

    requested = _events(client, tenant, "payout.requested")
    assert [e["data"]["object"]["status"] for e in requested] == ["requested"]
    changes = _events(client, tenant, "payout.status_changed")
    moves = [(e["data"]["previous_attributes"]["status"], e["data"]["object"]["status"]) for e in changes]
    assert sorted(moves) == sorted([("requested", "processing"), ("processing", "paid")])


def test_sandbox_failing_amount_credits_the_balance_back(client: TestClient, tenant: Tenant) -> None:
    fund(tenant.account_id, "sandbox", "100")
    payout = _request(client, tenant, amount="20.13").json()
    assert payout["status"] == "cancelled"
    assert payout["failure_reason"]
    assert _available(tenant) == Decimal("100")


def test_list_filters_by_status_and_pages(client: TestClient, tenant: Tenant) -> None:
    fund(tenant.account_id, "sandbox", "100")
    paid = [_request(client, tenant, amount="10.00").json()["id"] for _ in range(3)]
    cancelled = _request(client, tenant, amount="10.13").json()["id"]
    page = client.get("/api/v1/payouts", params={"limit": 2}, headers=tenant.headers).json()
    assert [p["id"] for p in page["data"]] == [cancelled, paid[2]]
    rest = client.get(
        "/api/v1/payouts", params={"limit": 2, "cursor": page["next_cursor"]}, headers=tenant.headers
    ).json()
    assert [p["id"] for p in rest["data"]] == [paid[1], paid[0]]
    only = client.get("/api/v1/payouts", params={"status": "cancelled"}, headers=tenant.headers).json()
    assert [p["id"] for p in only["data"]] == [cancelled]


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"amount": "9.99"}, "below_minimum_payout", "/amount"),
        ({"amount": "12.345"}, "too_many_decimals", "/amount"),
        ({"amount": "20.00", "currency": "USD"}, "currency_mismatch", "/currency"),
    ],
)
def test_invalid_amounts_are_refused_and_reserve_nothing(
    client: TestClient, tenant: Tenant, body: dict[str, str], code: str, pointer: str
) -> None:
    fund(tenant.account_id, "sandbox", "50")
    response = _request(client, tenant, **body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert {"code": code, "pointer": pointer} in [
        {"code": e["code"], "pointer": e["pointer"]} for e in response.json()["errors"]
    ]
    assert _available(tenant) == Decimal("50")


def test_more_than_the_balance_is_refused(client: TestClient, tenant: Tenant) -> None:
    fund(tenant.account_id, "sandbox", "40")
    response = _request(client, tenant, amount="40.01")
    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_balance"
    whole = _request(client, tenant)  # the whole balance of 40 is fine
    assert whole.status_code == 201
    assert whole.json()["amount"] == "40.00"
    again = _request(client, tenant)
    assert again.status_code == 422
    assert again.json()["code"] == "insufficient_balance"


def test_the_idempotency_key_is_required_and_replays_the_same_payout(client: TestClient, tenant: Tenant) -> None:
    fund(tenant.account_id, "sandbox", "100")
    missing = client.post("/api/v1/payouts/request", json={"currency": "EUR"}, headers=tenant.headers)
    assert missing.status_code == 422
    assert "header:Idempotency-Key" in [e["pointer"] for e in missing.json()["errors"]]
    first = _request(client, tenant, key="payout-key-1", amount="30.00")
    second = _request(client, tenant, key="payout-key-1", amount="30.00")
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert _available(tenant) == Decimal("70")
    reused = _request(client, tenant, key="payout-key-1", amount="31.00")
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"


def test_production_needs_a_verified_payee_and_payout_details(client: TestClient, make_tenant: TenantFactory) -> None:
    live = make_tenant(environment="production", production_access=True)
    fund(live.account_id, "production", "100")
    unverified = _request(client, live, amount="20.00")
    assert unverified.status_code == 409
    assert unverified.json()["current_state"] == "verification_required"
    make_payable(live.account_id, verified=True, details=False)
    no_details = _request(client, live, amount="20.00")
    assert no_details.status_code == 409
    assert no_details.json()["current_state"] == "payout_details_missing"
    assert _available(live) == Decimal("100")
    # The same account's sandbox never asks.
    sandbox = make_tenant(account_id=live.account_id)
    fund(live.account_id, "sandbox", "20")
    assert _request(client, sandbox, amount="20.00").status_code == 201


def test_production_payout_creates_one_wise_transfer(client: TestClient, make_tenant: TenantFactory) -> None:
    live = make_tenant(environment="production", production_access=True)
    fund(live.account_id, "production", "500")
    make_payable(live.account_id)
    with fake_wise(client) as wise:
        response = _request(client, live, amount="150.00")
    assert response.status_code == 201, response.text
    payout = response.json()
    assert payout["status"] == "processing"
    assert payout["fee"] == "0.62"  # from the quote's BALANCE pay-in option
    assert payout["net_amount"] == "149.38"
    transfer_id = str(next(iter(wise.transfers.values()))["id"])
    assert payout["provider_reference"] == transfer_id
    paths = [path for _method, path, _body in wise.requests]
    assert paths == [
        f"/v3/profiles/{WISE_PROFILE}/quotes",
        "/v1/accounts",
        "/v1/transfers",
        f"/v3/profiles/{WISE_PROFILE}/transfers/{transfer_id}/payments",
    ]
    quote = wise.requests[0][2]
    assert (quote["sourceCurrency"], quote["targetCurrency"], quote["sourceAmount"]) == ("EUR", "EUR", 150.0)
    recipient = wise.requests[1][2]
    assert recipient["details"]["IBAN"] == "DE89370400440532013000"
    with session_scope() as session:
        # At rest the IBAN is encrypted; only the request to Wise carries it in plaintext.
        stored = session.exec(select(Account.payout_iban_encrypted).where(col(Account.id) == live.account_id)).one()
        assert stored
        assert "370400440532013000" not in stored
        row = session.get(Payout, payout["id"])
        assert row is not None
        assert wise.transfer_posts()[0]["customerTransactionId"] == str(row.customer_transaction_id)
    assert _available(live) == Decimal("350")


def test_a_transfer_that_failed_to_start_is_retried_as_the_same_transfer(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    live = make_tenant(environment="production", production_access=True)
    fund(live.account_id, "production", "100")
    make_payable(live.account_id)
    with fake_wise(client) as wise:
        wise.fail_transfers_with = 503  # Wise down after the reservation committed
        payout = _request(client, live, amount="60.00").json()
        assert payout["status"] == "requested"
        assert _available(live) == Decimal("40")  # reserved all the same: nothing can spend it twice
        wise.fail_transfers_with = None
        payouts.send_waiting()
        payouts.send_waiting()  # a second retry finds nothing to do
        payouts.send(payout["id"])
    keys = {body["customerTransactionId"] for body in wise.transfer_posts()}
    assert len(keys) == 1
    assert len(wise.transfers) == 1
    after = client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()
    assert after["status"] == "processing"
    assert after["provider_reference"] == str(next(iter(wise.transfers.values()))["id"])


def test_wise_refusing_the_transfer_fails_the_payout_and_credits_back(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    live = make_tenant(environment="production", production_access=True)
    fund(live.account_id, "production", "100")
    make_payable(live.account_id)
    with fake_wise(client) as wise:
        wise.fail_transfers_with = 422
        payout = _request(client, live, amount="60.00").json()
    assert payout["status"] == "failed"
    assert "Wise said no" in payout["failure_reason"]
    assert _available(live) == Decimal("100")


def test_another_tenants_payout_is_not_found(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    fund(owner.account_id, "sandbox", "20")
    payout = _request(client, owner).json()
    response = client.get(f"/api/v1/payouts/{payout['id']}", headers=stranger.headers)
    assert response.status_code == 404
    assert client.get("/api/v1/payouts", headers=stranger.headers).json()["data"] == []


def test_concurrent_requests_never_pay_out_more_than_the_balance(make_tenant: TenantFactory) -> None:
    """Real concurrency: threads with their own connections race for one balance (PostgreSQL row lock; SQLite's
    writer lock)."""
    tenant = make_tenant()
    fund(tenant.account_id, "sandbox", "100")
    principal = Principal(tenant.account_id, "sandbox", frozenset({"payouts:write"}), tenant.key_id, "api_key")
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def race() -> None:
        start.wait()
        try:
            with session_scope() as session:
                payouts.reserve(session, principal, PayoutRequest(currency="EUR", amount=Decimal("30.00")))
            outcomes.append("reserved")
        except DomainError as problem:
            outcomes.append(problem.code)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["insufficient_balance"] * 5 + ["reserved"] * 3
    assert _available(tenant) == Decimal("10")


def test_a_crash_after_the_reservation_still_answers_the_payout(
    client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 would not be replayed, so the client's retry would reserve a second payout: the request answers 201
    with the payout waiting in `requested`, and the retry job sends it later."""
    fund(tenant.account_id, "sandbox", "100")

    def broken(environment: str) -> None:
        raise RuntimeError("the Wise client could not be built")

    monkeypatch.setattr(payouts, "wise_for", broken)
    first = _request(client, tenant, key="crash-key", amount="40.00")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "requested"
    again = _request(client, tenant, key="crash-key", amount="40.00")
    assert again.json()["id"] == first.json()["id"]
    assert _available(tenant) == Decimal("60")
    monkeypatch.undo()
    payouts.send_waiting()
    assert client.get(f"/api/v1/payouts/{first.json()['id']}", headers=tenant.headers).json()["status"] == "paid"
