"""Earnings reads against the size of the account's history, on PostgreSQL; prints a Markdown table (issue 22).

    python -m benchmarks.earnings_scale --postgres URL [--json PATH] [--sizes 10000,100000,1000000]
                                           [--repeat 15] [--scan-repeat 3]

In a scratch database (created from the admin URL, dropped at the end), one production account per size is seeded
through the real importer (`earnings.import_for_tenant`: dedupe, FX, split allocation, and the maintained totals in
the same transaction): three years of monthly reports, one per store, over tracks and territories, US lines in USD
at a monthly rate, a release split (one share accepted, one pending) in force for the last 18 months, some negative
lines. Autovacuum is off for the scratch tables, so the first measurement runs on a database whose statistics have
never been gathered (a plan must not depend on luck); the second runs after ANALYZE.

Each operation is timed as a request runs it (a fresh session, the service call) and reported as the median of
`--repeat` runs (`--scan-repeat` for the scans) after one warm-up, the sizes taking turns in each repetition (so the
machine's other load falls on every size alike): `balance` (`balance.compute`), `summary_period` and
`summary_store` (`earnings.summarize`, read from the totals), `list_page` (the first page of 20 of
`GET /earnings`), and, as the "before", the same answers computed from the lines (`*_scan`: the balance's former
queries over every line and allocation, the summaries through their lines query). The growth is each operation's
time at the largest size over its time at the smallest; the goal for the maintained reads is at most 1.5x. Every
size also checks that the totals answer exactly what the lines answer (the run fails otherwise).
"""

import argparse
import json
import math
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, literal, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from benchmarks import rounds, scratch
from benchmarks.load import load_average
from server import clock
from server.config import Settings
from server.db import engine as db
from server.db.engine import session_scope
from server.db.migrate import upgrade_to_head
from server.db.models.earnings import EarningsAllocation, EarningsLine
from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.splits import Split, SplitShare
from server.db.models.tracks import Track
from server.db.sums import dialect_of, exact_sum, read_sum
from server.ids import new_id
from server.principal import Principal
from server.services import accounts, balance, earnings

ENVIRONMENT = "production"
MONTHS = 36
STORES = ["spotify", "apple_music", "amazon_music", "deezer", "youtube_music", "tidal"]
TERRITORIES = sorted(earnings.COUNTRY_NAMES)  # 28
GOAL = 1.5
STATEMENT_TIMEOUT_S = Settings.db_statement_timeout  # the server's default: where a request would give up
# The maintained reads, held to the goal; the scans are the "before".
MAINTAINED = ["balance", "summary_period", "summary_store", "list_page"]
SCANS = ["balance_scan", "summary_period_scan", "summary_store_scan"]
TABLES = [
    "earnings_lines",
    "earnings_allocations",
    "earnings_report_totals",
    "earnings_share_totals",
    "earnings_summary_totals",
    "split_shares",
    "splits",
]


def _month_start(months_back: int) -> date:
    today = clock.now().date()
    year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
    return date(year, month + 1, 1)


def _month_end(start: date) -> date:
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1) - timedelta(days=1)


def seed(size: int) -> tuple[str, float]:
    """A production account with `size` earnings lines; returns its id and the seconds the seeding took."""
    started = time.monotonic()
    rng = random.Random(size)
    with session_scope() as session:
        account, _user, _password = accounts.create_account(
            session,
            name=f"Scale {size}",
            email=f"scale-{size}-{secrets.token_hex(3)}@example.com",
            password=None,
            production_access=True,
            mock_data=False,
        )
        account_id = account.id
        tenant = {"account_id": account_id, "environment": ENVIRONMENT}
        release = Release(id=new_id("rel"), title="Scale", **tenant)
        session.add(release)
        session.flush()
        per_report = math.ceil(size / (MONTHS * len(STORES)))
        track_count = math.ceil(per_report / len(TERRITORIES))
        tracks = [
            Track(id=new_id("trk"), release_id=release.id, title=f"Scale {n}", track_number=n + 1, **tenant)
            for n in range(track_count)
        ]
        session.add_all(tracks)
        persons = [Person(id=new_id("per"), name=name, email=f"{name}@example.com", **tenant) for name in ("a", "b")]
        session.add_all(persons)
        split = Split(id=new_id("spl"), release_id=release.id, effective_from=_month_start(MONTHS // 2), **tenant)
        session.add(split)
        session.flush()
        for person, status in zip(persons, ("accepted", "pending"), strict=True):
            session.add(
                SplitShare(
                    split_id=split.id,
                    person_id=person.id,
                    role="artist",
                    share_bps=5000,
                    acceptance_status=status,
                    **tenant,
                )
            )
    remaining = size
    for back in range(MONTHS, 0, -1):
        start = _month_start(back)
        usd_rate = (Decimal("0.88") + Decimal(back) / 1000).quantize(earnings.QUANTUM)
        for store_number, store in enumerate(STORES):
            count = min(per_report, remaining)
            if count <= 0:
                break
            remaining -= count
            lines = []
            for n in range(count):
                track, territory = tracks[n // len(TERRITORIES)], TERRITORIES[n % len(TERRITORIES)]
                net = Decimal(rng.randint(-20_000, 3_000_000)).scaleb(-6)  # some corrections: negative lines
                currency, rate = ("USD", usd_rate) if territory == "US" else ("EUR", Decimal(1))
                report_line = earnings.ReportLine(
                    line_id=f"{start:%Y-%m}-{store}-{track.id}-{territory}",
                    store=store,
                    territory=territory,
                    sale_period_start=start,
                    sale_period_end=_month_end(start),
                    isrc=None,
                    upc=None,
                    usage_type="stream",
                    units=rng.randint(-3, 40_000),
                    gross=(net * Decimal("1.25")).quantize(earnings.QUANTUM),
                    net=net,
                    currency=currency,
                    fx_rate=rate,
                )
                lines.append(earnings.MatchedLine(report_line, release.id, track.id))
            # Stores report about two months after the sale period; the newest reports are not settled yet.
            reported_at = datetime.combine(_month_start(back - 2), datetime.min.time(), clock.now().tzinfo)
            with session_scope() as session:
                earnings.import_for_tenant(
                    session,
                    account_id,
                    ENVIRONMENT,
                    sender="scale",
                    report_id=f"scale-{start:%Y-%m}-{store}",
                    reported_at=reported_at + timedelta(hours=store_number),
                    lines=lines,
                    emit_event=False,
                )
    return account_id, time.monotonic() - started


def balance_scan(session: Session, account_id: str) -> tuple[Decimal, Decimal]:
    """(available before payouts, pending) summed over every line and allocation: the balance's former queries."""
    dialect = dialect_of(session)
    cutoff = clock.now() - balance.SETTLEMENT_DELAY
    currency = balance.account_currency(session, account_id)
    tenant_lines = (
        col(EarningsLine.account_id) == account_id,
        col(EarningsLine.environment) == ENVIRONMENT,
        col(EarningsLine.account_currency) == literal(currency),
    )
    settled = col(EarningsLine.reported_at) <= cutoff
    earned = {True: Decimal(0), False: Decimal(0)}
    statement = (
        select(settled.label("settled"), exact_sum(dialect, col(EarningsLine.amount)))
        .where(*tenant_lines)
        .group_by(settled)
    )
    for is_settled, total in session.exec(statement).all():
        earned[bool(is_settled)] += read_sum(dialect, total)
    held_statement = (
        select(exact_sum(dialect, col(EarningsAllocation.amount)))
        .select_from(EarningsAllocation)
        .join(EarningsLine, col(EarningsLine.id) == col(EarningsAllocation.line_id))
        .join(SplitShare, col(SplitShare.id) == col(EarningsAllocation.share_id))
        .where(
            col(EarningsAllocation.account_id) == account_id,
            col(EarningsAllocation.environment) == ENVIRONMENT,
            *tenant_lines,
            settled,
            col(SplitShare.acceptance_status) != "accepted",
        )
    )
    held = read_sum(dialect, session.exec(held_statement).one())
    return earned[True] - held, earned[False] + held


@contextmanager
def lines_only() -> Iterator[None]:
    """Summaries computed through their lines query (the answer before the totals existed)."""
    real = earnings._totals_answer
    earnings._totals_answer = lambda filters, group_by: False  # type: ignore[assignment]
    try:
        yield
    finally:
        earnings._totals_answer = real  # type: ignore[assignment]


def operations(account_id: str) -> dict[str, Callable[[Session], Any]]:
    principal = Principal(account_id, ENVIRONMENT, frozenset(), "key_scale", "api_key")
    no_filter = earnings.Filters()

    def summary(group_by: str, scan: bool) -> Callable[[Session], Any]:
        def run(session: Session) -> Any:
            if not scan:
                return earnings.summarize(session, principal, no_filter, group_by)
            with lines_only():
                return earnings.summarize(session, principal, no_filter, group_by)

        return run

    def balance_now(session: Session) -> Any:
        computed = balance.compute(session, account_id, ENVIRONMENT)
        return computed.available, computed.pending

    return {
        "balance": balance_now,
        "summary_period": summary("period", scan=False),
        "summary_store": summary("store", scan=False),
        "list_page": lambda session: earnings.list_page(session, principal, no_filter, limit=20, cursor=None).items,
        "balance_scan": lambda session: balance_scan(session, account_id),
        "summary_period_scan": summary("period", scan=True),
        "summary_store_scan": summary("store", scan=True),
    }


def check_exact(account_id: str, size: int) -> bool:
    """The maintained totals answer what the lines answer (no payouts in the benchmark: available is the same)."""
    ops = operations(account_id)
    with session_scope() as session:
        same = ops["balance"](session) == ops["balance_scan"](session)
        for group_by in ("period", "store"):
            same = same and ops[f"summary_{group_by}"](session) == ops[f"summary_{group_by}_scan"](session)
        line_count = earnings.summarize(
            session, Principal(account_id, ENVIRONMENT, frozenset(), "k", "api_key"), earnings.Filters(), "period"
        )["total"]["line_count"]
    return same and line_count == size


def time_once(run: Callable[[Session], Any]) -> float | None:
    """Milliseconds of one `run` in a fresh session (as a request does); None when it hits the server's statement
    timeout (a request would get 503)."""
    try:
        with session_scope() as session:
            started = time.perf_counter()
            run(session)
            return (time.perf_counter() - started) * 1000
    except OperationalError as exc:
        if isinstance(exc.orig, psycopg.errors.QueryCanceled):
            return None
        raise


def plans(run: Callable[[Session], Any]) -> list[str]:
    """The planner's choice (EXPLAIN, not run) for each SELECT `run` issues."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    engine = db.engine()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope() as session:
            run(session)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    found = []
    with engine.connect() as connection:
        for statement, parameters in captured:
            plan = connection.exec_driver_sql("EXPLAIN (COSTS OFF) " + statement, parameters).scalars().all()
            found.append("\n".join(plan))
    return found


Timings = dict[str, dict[str, float | None]]  # operation → size → median ms (None: timed out)


def measure(accounts_by_size: dict[int, str], repeat: int, scan_repeat: int) -> Timings:
    """Median ms per operation and size. The sizes take turns within each repetition (one warm-up first), so the
    machine's other load falls on every size alike; an operation that timed out at a size is not run there again."""
    by_size = {size: operations(account_id) for size, account_id in accounts_by_size.items()}
    ms: Timings = {}
    for name in [*MAINTAINED, *SCANS]:
        samples: dict[int, list[float]] = {size: [] for size in by_size}
        timed_out: set[int] = set()
        for index in range((repeat if name in MAINTAINED else scan_repeat) + 1):
            for size, ops in by_size.items():
                if size in timed_out:
                    continue
                found = time_once(ops[name])
                if found is None:
                    timed_out.add(size)
                elif index:
                    samples[size].append(found)
        ms[name] = {
            str(size): None if size in timed_out else round(statistics.median(samples[size]), 3) for size in by_size
        }
    return ms


def growth(ms: Timings, sizes: list[int]) -> dict[str, float | None]:
    """Time at the largest size over time at the smallest (None when either timed out)."""
    low, high = str(sizes[0]), str(sizes[-1])
    grown: dict[str, float | None] = {}
    for name, by_size in ms.items():
        first, last = by_size[low], by_size[high]
        grown[name] = None if first is None or last is None else round(last / first, 2)
    return grown


def _cell(value: float | None) -> str:
    return f"timeout (>{STATEMENT_TIMEOUT_S:.0f} s)" if value is None else f"{value:.2f}"


def table(title: str, ms: Timings, sizes: list[int]) -> str:
    grown = growth(ms, sizes)
    header = " | ".join(f"{size:,} lines (ms)" for size in sizes)
    rows = [
        f"**{title}**",
        "",
        f"| operation | {header} | growth {sizes[-1]:,}/{sizes[0]:,} | within {GOAL}x |",
        "|---|" + "---:|" * len(sizes) + "---:|:---:|",
    ]
    for name, by_size in ms.items():
        cells = " | ".join(_cell(by_size[str(size)]) for size in sizes)
        factor = grown[name]
        verdict = "(before)" if name not in MAINTAINED else "yes" if factor is not None and factor <= GOAL else "**no**"
        rows.append(f"| {name} | {cells} | {'-' if factor is None else f'{factor:.2f}x'} | {verdict} |")
    return "\n".join(rows)


def run(admin_url: str, sizes: list[int], repeat: int, scan_repeat: int) -> tuple[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as directory, scratch.postgres_database(admin_url, prefix="og_scale") as url:
        settings = scratch.settings(url, Path(directory))
        db.configure(settings)
        upgrade_to_head(settings.database_url)
        with session_scope() as session:
            for name in TABLES:  # statistics only when we say so: no autovacuum-triggered ANALYZE in between
                session.exec(text(f"ALTER TABLE {name} SET (autovacuum_enabled = false)"))  # type: ignore[call-overload]
        load_before = load_average()
        seeded = {size: seed(size) for size in sizes}
        accounts_by_size = {size: account_id for size, (account_id, _seconds) in seeded.items()}
        biggest = operations(accounts_by_size[sizes[-1]])
        plan_text = {name: plans(biggest[name]) for name in MAINTAINED}
        cold = measure(accounts_by_size, repeat, scan_repeat)
        with session_scope() as session:
            session.exec(text("ANALYZE"))  # type: ignore[call-overload]
        # After ANALYZE: without statistics the scans may not finish within the statement timeout.
        exact = {str(size): check_exact(account_id, size) for size, account_id in accounts_by_size.items()}
        analyzed = measure(accounts_by_size, repeat, scan_repeat)
        db.engine().dispose()  # our connections closed before the database is dropped
    metrics = {
        "sizes": sizes,
        "repeat": repeat,
        "scan_repeat": scan_repeat,
        "ms": cold,
        "growth": growth(cold, sizes),
        "within_goal": {name: (growth(cold, sizes)[name] or math.inf) <= GOAL for name in MAINTAINED},
        "statement_timeout_s": STATEMENT_TIMEOUT_S,
        "analyzed": {"ms": analyzed, "growth": growth(analyzed, sizes)},
        "exact": exact,
        "seed_seconds": {str(size): round(seconds, 1) for size, (_account, seconds) in seeded.items()},
        "load_average": load_before,
        "plans_without_statistics": plan_text,
    }
    report = [
        f"Earnings reads by history size on PostgreSQL, median of {repeat} runs ({scan_repeat} for the scans), the "
        f"sizes taking turns (load average {load_before:.2f} at the start; seeding "
        + ", ".join(f"{size:,} lines {seconds:.0f} s" for size, (_a, seconds) in seeded.items())
        + ").",
        "",
        table("Without statistics (never analyzed, autovacuum off)", cold, sizes),
        "",
        table("After ANALYZE", analyzed, sizes),
        "",
        f"Totals equal the lines' answer: {', '.join(f'{s}: {v}' for s, v in exact.items())}.",
        "",
        f"Plans at {sizes[-1]:,} lines without statistics:",
        "",
    ]
    for name, found in plan_text.items():
        report += [f"- {name}:", "", *("      " + line for plan in found for line in plan.splitlines()), ""]
    return "\n".join(report), {"name": "earnings_scale", "metrics": metrics}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="admin URL: a scratch database is created and dropped")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated line counts, ascending")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each maintained read, per size")
    parser.add_argument("--scan-repeat", type=int, default=3, help="timed runs of each scan (seconds each at 10^6)")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    report, document = run(args.postgres, sizes, args.repeat, args.scan_repeat)
    print(report)
    print(rounds.metrics_line(document["metrics"]))
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if all(document["metrics"]["exact"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
