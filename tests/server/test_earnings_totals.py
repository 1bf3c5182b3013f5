"""The totals the importer maintains with the lines give the balance and the summaries exactly what the lines give:
on random imports (negative lines, several currencies and rates, release-level lines, duplicates re-sent), across
settlement boundaries, share acceptance and payouts; they change only with a committed import; concurrent imports
into the same totals on PostgreSQL lose nothing; and the migration builds the same totals from the lines."""

import random
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from server.clock import now, shifted
from server.db.engine import session_scope
from server.db.migrate import alembic_config
from server.db.models.earnings import (
    EarningsAllocation,
    EarningsLine,
    EarningsReportTotal,
    EarningsShareTotal,
    EarningsSummaryTotal,
)
from server.db.models.payouts import Payout
from server.db.models.splits import SplitShare
from server.ids import new_id
from server.principal import Principal
from server.services import balance, earnings
from tests.conftest import Tenant
from tests.server.money_helpers import catalogue
from tests.server.releases_helpers import ok

STORES = ["spotify", "apple_music", "tidal"]
TERRITORIES = ["DE", "US", "JP"]
RATES = {"EUR": [Decimal(1)], "USD": [Decimal("0.9123456789"), Decimal("0.93")], "JPY": [Decimal("0.0061234567")]}


def _random_lines(rng: random.Random, cat: dict[str, Any], count: int, prefix: str) -> list[earnings.MatchedLine]:
    lines = []
    for n in range(count):
        currency = rng.choice(list(RATES))
        # November 2026 is before the splits (effective from today, December 2026): those lines are the account's.
        year, month = divmod(2026 * 12 + 10 + rng.randrange(14), 12)
        start = date(year, month + 1, 1)
        end = date(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(days=1)
        net = Decimal(rng.randint(-3_000_000, 90_000_000)).scaleb(-rng.randint(4, 12))
        track = rng.choice([*cat["tracks"], None])  # None: a release-level sale
        report_line = earnings.ReportLine(
            line_id=f"{prefix}-{n}",
            store=rng.choice(STORES),
            territory=rng.choice(TERRITORIES),
            sale_period_start=start,
            sale_period_end=end,
            isrc=None,
            upc=None,
            usage_type="stream",
            units=rng.randint(-5, 5000),
            gross=net * Decimal("1.3"),
            net=net,
            currency=currency,
            fx_rate=rng.choice(RATES[currency]),
        )
        lines.append(earnings.MatchedLine(report_line, cat["release"]["id"], track["id"] if track else None))
    return lines


def _import_in(
    session: Session, tenant: Tenant, lines: list[earnings.MatchedLine], reported_at: datetime, report_id: str
) -> int:
    """Import `lines` as one report in the caller's transaction; how many were new."""
    return earnings.import_for_tenant(
        session,
        tenant.account_id,
        tenant.environment,
        sender="test",
        report_id=report_id,
        reported_at=reported_at,
        lines=lines,
        emit_event=False,
    ).imported


def _import(tenant: Tenant, lines: list[earnings.MatchedLine], reported_at: datetime, report_id: str) -> int:
    with session_scope() as session:
        return _import_in(session, tenant, lines, reported_at, report_id)


def _balance_from_lines(session: Session, tenant: Tenant) -> tuple[Decimal, Decimal]:
    """(available, pending) summed in Python over every line and allocation: the definition the totals must meet."""
    cutoff = now() - balance.SETTLEMENT_DELAY
    currency = balance.account_currency(session, tenant.account_id)
    lines = session.exec(
        select(EarningsLine).where(
            col(EarningsLine.account_id) == tenant.account_id,
            col(EarningsLine.environment) == tenant.environment,
            col(EarningsLine.account_currency) == currency,
        )
    ).all()
    settled = {line.id for line in lines if line.reported_at <= cutoff}
    earned_settled = sum((line.amount for line in lines if line.id in settled), Decimal(0))
    earned_unsettled = sum((line.amount for line in lines if line.id not in settled), Decimal(0))
    held = Decimal(0)
    for allocation, status in session.exec(
        select(EarningsAllocation, SplitShare.acceptance_status)
        .join(SplitShare, col(SplitShare.id) == col(EarningsAllocation.share_id))
        .where(col(EarningsAllocation.account_id) == tenant.account_id)
    ).all():
        if allocation.line_id in settled and status != "accepted":
            held += allocation.amount
    debited = sum(
        (
            p.amount
            for p in session.exec(select(Payout).where(col(Payout.account_id) == tenant.account_id)).all()
            if p.status not in balance.CREDITED_BACK and p.environment == tenant.environment
        ),
        Decimal(0),
    )
    return earned_settled - held - debited, earned_unsettled + held


def _assert_balance_exact(tenant: Tenant) -> None:
    with session_scope() as session:
        computed = balance.compute(session, tenant.account_id, tenant.environment)
        assert (computed.available, computed.pending) == _balance_from_lines(session, tenant)


def _summaries(tenant: Tenant, cat: dict[str, Any], force_lines: bool) -> list[dict[str, Any]]:
    principal = Principal(tenant.account_id, tenant.environment, frozenset(), tenant.key_id, "api_key")
    track_id = cat["tracks"][0]["id"]
    filter_sets = [
        earnings.Filters(),
        earnings.Filters(period_start=date(2027, 3, 1), period_end=date(2027, 9, 30)),
        earnings.Filters(period_start=date(2027, 3, 15)),  # not a period boundary: day-exact
        earnings.Filters(release_id=cat["release"]["id"]),
        earnings.Filters(track_id=track_id, period_end=date(2027, 6, 30)),
        earnings.Filters(track_id=cat["release"]["id"]),  # not a track id: matches no line
        earnings.Filters(store="tidal"),
        earnings.Filters(territory="JP", period_start=date(2027, 2, 1)),
        earnings.Filters(store="spotify", territory="US"),
    ]
    answers = []
    real = earnings._totals_answer
    earnings._totals_answer = (lambda filters, group_by: False) if force_lines else real  # type: ignore[assignment]
    try:
        with session_scope() as session:
            for filters in filter_sets:
                for group_by in earnings.SUMMARY_DIMENSIONS:
                    answers.append(earnings.summarize(session, principal, filters, group_by))
    finally:
        earnings._totals_answer = real  # type: ignore[assignment]
    return answers


def _split(client: TestClient, tenant: Tenant, cat: dict[str, Any], target: dict[str, str], *bps: int) -> None:
    shares = [
        {"person_id": p["id"], "role": "artist", "share_bps": b} for p, b in zip(cat["persons"], bps, strict=False)
    ]
    body = {**target, "shares": shares, "effective_from": now().date().isoformat()}
    ok(client.post("/api/v1/splits", json=body, headers=tenant.headers), 201)


def _accept(person_id: str, status: str) -> None:
    with session_scope() as session:
        for share in session.exec(select(SplitShare).where(col(SplitShare.person_id) == person_id)).all():
            share.acceptance_status = status
            session.add(share)


def test_totals_answer_exactly_what_the_lines_give(client: TestClient, tenant: Tenant) -> None:
    rng = random.Random(22)
    cat = catalogue(client, tenant, tracks=3)
    _split(client, tenant, cat, {"track_id": cat["tracks"][0]["id"]}, 3333, 6667)
    _split(client, tenant, cat, {"release_id": cat["release"]["id"]}, 5000, 5000)
    ada, ben = cat["persons"]
    base = now()
    reports = [(base - timedelta(days=days), _random_lines(rng, cat, 40, f"r{days}")) for days in (90, 45, 31, 29, 2)]
    for reported_at, lines in reports:
        assert _import(tenant, lines, reported_at, f"rep-{reported_at:%s}") == len(lines)
    # Re-sent reports (the whole of one, part of another under a new report id) count nothing twice.
    assert _import(tenant, reports[1][1], reports[1][0], "again") == 0
    assert _import(tenant, reports[3][1][:10] + _random_lines(rng, cat, 5, "late"), reports[3][0], "mixed") == 5

    _assert_balance_exact(tenant)
    _accept(ada["id"], "accepted")
    _assert_balance_exact(tenant)
    _accept(ben["id"], "declined")
    _assert_balance_exact(tenant)
    with session_scope() as session:
        for status, amount in (("requested", "3.5"), ("failed", "7")):
            session.add(
                Payout(
                    id=new_id("pay"),
                    account_id=tenant.account_id,
                    environment=tenant.environment,
                    amount=Decimal(amount),
                    currency="EUR",
                    status=status,
                )
            )
    # The settlement cutoff moves over the reports (29 and 31 days old: either side of it), back and forward.
    for days in (-20, 1, 2, 3, 30, 60):
        with shifted(timedelta(days=days)):
            _assert_balance_exact(tenant)

    assert _summaries(tenant, cat, force_lines=False) == _summaries(tenant, cat, force_lines=True)


def test_a_rolled_back_import_leaves_the_totals_unchanged(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant, tracks=1)
    _split(client, tenant, cat, {"release_id": cat["release"]["id"]}, 5000, 5000)
    reported_at = now() - timedelta(days=40)
    _import(tenant, _random_lines(random.Random(1), cat, 10, "kept"), reported_at, "kept")

    def totals() -> list[Any]:
        with session_scope() as session:
            return [
                sorted(map(tuple, session.exec(select(model).where(col(model.account_id) == tenant.account_id)).all()))  # type: ignore[arg-type]
                for model in (EarningsReportTotal, EarningsShareTotal, EarningsSummaryTotal)
            ]

    def import_then_fail() -> None:
        with session_scope() as session:
            lost = _random_lines(random.Random(2), cat, 10, "lost")
            assert _import_in(session, tenant, lost, reported_at, "lost") == 10
            raise RuntimeError("the caller fails after the import")

    before = totals()
    with pytest.raises(RuntimeError, match="after the import"):
        import_then_fail()
    assert totals() == before
    _assert_balance_exact(tenant)


def _a_session_waits_for_a_lock(within_s: float = 10) -> bool:
    """Whether, within `within_s`, another session of this database waits for a lock (the second import, blocked on
    the total rows the first holds). Polls with sleep(): a timed wait on a never-set event outlasted the statement
    timeout under faketime's moved clock (FAKETIME_FORCE_MONOTONIC_FIX=0)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with session_scope() as session:
            waiting = session.exec(
                text(  # type: ignore[call-overload]
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).one()[0]
        if waiting:
            return True
        time.sleep(0.02)
    return False


def test_concurrent_imports_into_the_same_totals_add_up(client: TestClient, tenant: Tenant, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: imports cannot overlap")
    cat = catalogue(client, tenant, tracks=1)
    _split(client, tenant, cat, {"release_id": cat["release"]["id"]}, 5000, 5000)
    reported_at = now() - timedelta(days=40)
    rng = random.Random(3)
    first, second = _random_lines(rng, cat, 30, "a"), _random_lines(rng, cat, 30, "b")
    first_inserted, second_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    overlapped: list[bool] = []

    def hold_open() -> None:
        try:
            with session_scope() as session:
                _import_in(session, tenant, first, reported_at, "a")
                first_inserted.set()
                # Commit only once the other import is under way: it reads and writes the same total rows.
                second_started.wait(10)
                overlapped.append(_a_session_waits_for_a_lock())
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    holder = threading.Thread(target=hold_open)
    holder.start()
    assert first_inserted.wait(20)
    second_started.set()
    _import(tenant, second, reported_at, "b")
    holder.join(20)
    assert not errors
    assert overlapped == [True], "the second import never waited for the first: the imports did not overlap"
    _assert_balance_exact(tenant)
    with session_scope() as session:
        total = session.exec(
            select(EarningsReportTotal).where(col(EarningsReportTotal.account_id) == tenant.account_id)
        ).one()
        assert total.line_count == 60
        assert total.amount == sum((m.line.net * m.line.fx_rate).quantize(earnings.QUANTUM) for m in first + second)  # type: ignore[operator]
    assert _summaries(tenant, cat, force_lines=False) == _summaries(tenant, cat, force_lines=True)


def test_the_migration_builds_the_totals_the_importer_keeps(
    client: TestClient, tenant: Tenant, database_url: str
) -> None:
    cat = catalogue(client, tenant, tracks=2)
    _split(client, tenant, cat, {"release_id": cat["release"]["id"]}, 2500, 7500)
    for days in (50, 10):
        _import(tenant, _random_lines(random.Random(days), cat, 30, f"m{days}"), now() - timedelta(days=days), "m")

    def every_total() -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = defaultdict(list)
        with session_scope() as session:
            for model in (EarningsReportTotal, EarningsShareTotal, EarningsSummaryTotal):
                found[model.__tablename__] = sorted(tuple(row) for row in session.exec(select(model)).all())  # type: ignore[arg-type]
        return found

    kept = every_total()
    config = alembic_config(database_url)
    command.downgrade(config, "0012_platform_identifiers")
    command.upgrade(config, "head")
    assert every_total() == kept
