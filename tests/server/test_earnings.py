"""Earnings and the balance through the HTTP API: allocation by largest remainder (odd units, negative lines), the
split in force per sale period (track before release), held shares, settlement, payouts, summaries and filters."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from starlette.testclient import TestClient

from server.clock import now, shifted
from server.db.engine import session_scope
from server.db.models.payouts import Payout
from server.db.models.splits import SplitShare
from server.ids import new_id
from tests.conftest import Tenant, TenantFactory
from tests.server.money_helpers import catalogue, line, report, send_dsp
from tests.server.releases_helpers import ok


def _next_month() -> tuple[date, str]:
    today = now().date()
    first = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return first, first.strftime("%Y-%m")


def _accept(person_id: str) -> None:
    # Payees accept through the invitation email, which has no API operation: set the outcome directly.
    with session_scope() as session:
        for share in session.exec(select(SplitShare).where(col(SplitShare.person_id) == person_id)).all():
            share.acceptance_status = "accepted"
            session.add(share)


def _balance(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    return ok(client.get("/api/v1/balance", headers=tenant.headers))


def _split(client: TestClient, tenant: Tenant, target: dict[str, str], persons: list[Any], *bps: int) -> None:
    first, _ = _next_month()
    shares = [{"person_id": p["id"], "role": "artist", "share_bps": b} for p, b in zip(persons, bps, strict=False)]
    body = {**target, "shares": shares, "effective_from": first.isoformat()}
    ok(client.post("/api/v1/splits", json=body, headers=tenant.headers), 201)


def test_balance_allocates_exactly_and_holds_unaccepted_shares(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant)
    ada, ben = cat["persons"]
    track_isrc, other_isrc = cat["tracks"][0]["isrc"], cat["tracks"][1]["isrc"]
    _, month = _next_month()
    _split(client, tenant, {"track_id": cat["tracks"][0]["id"]}, [ada, ben], 3333, 6667)
    _split(client, tenant, {"release_id": cat["release"]["id"]}, [ada, ben], 5000, 5000)
    _accept(ada["id"])
    assert _balance(client, tenant)["available"] == "0.0000000000"
    with shifted(timedelta(days=75)):
        settled_at = now() - timedelta(days=35)
        lines = [
            line(track_isrc, "1.00", sale_period=month),  # ada 0.3333, ben 0.6667
            line(track_isrc, "0.0000000001", sale_period=month),  # the odd unit goes to the larger remainder: ben
            line(track_isrc, "-0.0000000005", sale_period=month, units=-1),  # ada -2 units, ben -3 units
            line(other_isrc, "0.0000000003", sale_period=month),  # release split 50/50, a tie: ada 2 units, ben 1
        ]
        assert send_dsp(client, report(lines, at=settled_at)).status_code == 200
        # A report from yesterday is not settled yet: all of it is pending.
        assert send_dsp(client, report([line(track_isrc, "5.00", sale_period=month)])).status_code == 200
        balance = _balance(client, tenant)
    assert balance["available"] == "0.3333000000"  # ada: 0.3333 - 2 units + 2 units
    assert balance["pending"] == "5.6666999999"
    assert Decimal(balance["available"]) + Decimal(balance["pending"]) == Decimal("6.0000000001") - Decimal(
        "0.0000000005"
    ) + Decimal("0.0000000003")
    assert balance["currency"] == "EUR"
    assert balance["minimum_payout"] == "10.00"
    assert balance["payouts_enabled"]


def test_lines_before_a_split_belong_to_the_account_and_payouts_debit(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    tenant = make_tenant(production_access=True)
    cat = catalogue(client, tenant, tracks=1)
    ada, ben = cat["persons"]
    # A split created now applies from next month on: September's lines are the account's alone.
    _split(client, tenant, {"release_id": cat["release"]["id"]}, [ada, ben], 5000, 5000)
    old = now() - timedelta(days=40)
    payload = report([line(cat["tracks"][0]["isrc"], "100.0000000001", sale_period="2026-09")], at=old)
    assert send_dsp(client, payload).status_code == 200
    assert _balance(client, tenant)["available"] == "100.0000000001"
    with session_scope() as session:
        for status, amount in (
            ("requested", "30"),
            ("paid", "20"),
            ("failed", "40"),
            ("returned", "1"),
            ("cancelled", "2"),
        ):
            session.add(
                Payout(
                    id=new_id("pay"),
                    account_id=tenant.account_id,
                    environment="sandbox",
                    amount=Decimal(amount),
                    currency="EUR",
                    status=status,
                )
            )
    balance = _balance(client, tenant)
    assert balance["available"] == "50.0000000001"
    assert balance["pending"] == "0.0000000000"
    # Another environment of the same account sees none of it.
    production = make_tenant(environment="production", production_access=True, account_id=tenant.account_id)
    assert _balance(client, production)["available"] == "0.0000000000"
    assert _balance(client, production)["payouts_enabled"] is False


def test_list_filters_and_summary_groups(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant)
    first, second = (t["isrc"] for t in cat["tracks"])
    lines = [
        line(first, "1.10", sale_period="2026-08", territory="DE", gross="1.30"),
        line(first, "2.00", sale_period="2026-09", territory="US", currency="USD", fx_rate="0.5", gross="3.00"),
        line(second, "0.25", sale_period="2026-09", territory="DE", units=7),
    ]
    assert send_dsp(client, report(lines, dsp="spotify")).status_code == 200
    tidal = [line(second, "-0.05", sale_period="2026-09", territory="FR", units=-1)]
    assert send_dsp(client, report(tidal, dsp="tidal")).status_code == 200

    def listed(**params: Any) -> list[dict[str, Any]]:
        return list(ok(client.get("/api/v1/earnings", params=params, headers=tenant.headers))["data"])

    assert len(listed()) == 4
    assert {e["territory"] for e in listed(store="spotify", territory="DE")} == {"DE"}
    assert len(listed(period_start="2026-09-01")) == 3
    assert len(listed(period_end="2026-08-31")) == 1
    assert len(listed(track_id=cat["tracks"][1]["id"])) == 2
    assert len(listed(release_id=cat["release"]["id"])) == 4
    bad = client.get(
        "/api/v1/earnings", params={"period_start": "2026-09-01", "period_end": "2026-08-01"}, headers=tenant.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "query:period_end"

    def summary(**params: Any) -> dict[str, Any]:
        return ok(client.get("/api/v1/earnings/summary", params=params, headers=tenant.headers))

    by_period = summary(group_by="period")
    assert [(g["key"], g["label"], g["line_count"]) for g in by_period["groups"]] == [
        ("2026-08", "August 2026", 1),
        ("2026-09", "September 2026", 3),
    ]
    assert by_period["groups"][1]["net"] == "1.2000000000"  # 2.00 x 0.5 + 0.25 - 0.05
    assert by_period["groups"][1]["gross"] == "1.7000000000"  # 3.00 x 0.5 + 0.25 - 0.05
    assert by_period["total"] == {"line_count": 4, "units": 206, "gross": "3.0000000000", "net": "2.3000000000"}
    by_store = summary(group_by="store")
    assert [(g["key"], g["label"]) for g in by_store["groups"]] == [("spotify", "Spotify"), ("tidal", "TIDAL")]
    by_territory = summary(group_by="territory", store="spotify")
    assert [(g["key"], g["net"]) for g in by_territory["groups"]] == [("DE", "1.3500000000"), ("US", "1.0000000000")]
    by_track = summary(group_by="track")
    assert [g["label"] for g in by_track["groups"]] == ["Song 0", "Song 1"]
    by_release = summary()
    assert by_release["group_by"] == "release"
    assert [(g["key"], g["label"]) for g in by_release["groups"]] == [(cat["release"]["id"], "Northern Lights")]


def test_earnings_are_private_to_the_tenant(client: TestClient, tenant: Tenant, make_tenant: TenantFactory) -> None:
    cat = catalogue(client, tenant, tracks=1)
    assert send_dsp(client, report([line(cat["tracks"][0]["isrc"], "1")])).status_code == 200
    other = make_tenant()
    assert ok(client.get("/api/v1/earnings", headers=other.headers))["data"] == []
    assert ok(client.get("/api/v1/earnings/summary", headers=other.headers))["total"]["line_count"] == 0
