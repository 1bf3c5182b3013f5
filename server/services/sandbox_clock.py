"""Sandbox test clocks: each sandbox account's own "now", moved forward on request.

The clock is an offset from real time on the account (`sandbox_clock_offset_seconds`); `server.clock.now()` reads
it wherever the account is known (see server.clock). Advancing runs, in time order, everything that would have
happened in between — each at its own moment on the sandbox clock, so events carry the time they happened:

1. the simulated sub-distributor's due steps (review, per-store delivery states: `sandbox_simulator`);
2. simulated sales, one report per store and day of every release live by then (`sandbox_sales`);

and then pulls forward the account's webhook retries that came due in the skipped time. What is derived from "now"
at read time follows the new clock by itself: earnings settle 30 days after their report, split versions apply by
their `effective_from`, pre-save links switch on release day, rotated keys' grace periods end.

One advance runs at a time per account (a claim on the account row, as Stripe refuses to advance a test clock that is
already advancing): a second one is refused with `409 sandbox_clock_advancing`, and the scheduler leaves the account
alone meanwhile, so everything happens in time order. Between advances the clock runs at real speed, and the
scheduler reports each sandbox day's sales once it is over (`report_due_sales`), as stores report daily.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy import select as sa_select  # sqlmodel's select does not type a nullable date column
from sqlmodel import Session, col, select

from server import clock
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.releases import Release
from server.db.models.sandbox import SandboxStep
from server.db.models.webhooks import WebhookDelivery, WebhookEndpoint
from server.domain import account_clock
from server.domain.account_clock import SANDBOX
from server.domain.errors import DomainError, FieldError, validation_failed
from server.services import sandbox_sales, sandbox_simulator

MAX_ADVANCE = timedelta(days=100)
# How long an advance's claim holds if its process dies before releasing it (an advance of 100 days with a busy
# catalogue takes seconds, not minutes).
CLAIM_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class ClockState:
    now: datetime
    offset_seconds: int
    advancing: bool = False


def _advancing(account: Account) -> bool:
    until = account.sandbox_clock_advancing_until
    return until is not None and until > clock.real_now()


def state(account_id: str) -> ClockState:
    with session_scope() as session:
        account = session.get(Account, account_id)
        offset = account_clock.offset_seconds(SANDBOX, account.sandbox_clock_offset_seconds if account else None)
        advancing = account is not None and _advancing(account)
    return ClockState(clock.real_now() + timedelta(seconds=offset), offset, advancing)


def _claim(account_id: str) -> None:
    """Take the account's advance claim (compare-and-set, so two processes cannot both hold it) or refuse."""
    now = clock.real_now()
    with session_scope() as session:
        claimed = session.execute(
            update(Account)
            .where(
                col(Account.id) == account_id,
                or_(
                    col(Account.sandbox_clock_advancing_until).is_(None),
                    col(Account.sandbox_clock_advancing_until) <= now,
                ),
            )
            .values(sandbox_clock_advancing_until=now + CLAIM_TTL)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return
    raise DomainError(
        "sandbox_clock_advancing",
        "Another advance of this sandbox clock is still running; retry when it has finished.",
        headers={"Retry-After": "5"},
    )


def _release_claim(account_id: str) -> None:
    with session_scope() as session:
        session.execute(update(Account).where(col(Account.id) == account_id).values(sandbox_clock_advancing_until=None))


def sale_days(sales_through: date | None, now: datetime, until: datetime) -> list[date]:
    """The sale days to report between the account's clock at `now` and `until`, in order: each day after the last
    one reported (but not before yesterday: a new account's or a long-idle clock's history is not invented), whose
    report is due by `until`."""
    first = max(sales_through + timedelta(days=1) if sales_through else now.date(), now.date() - timedelta(days=1))
    days: list[date] = []
    day = first
    while sandbox_sales.report_moment(day) <= until:
        days.append(day)
        day += timedelta(days=1)
    return days


def _at(moment: datetime) -> float:
    """The offset that makes the sandbox clock read `moment` now."""
    return (moment - clock.real_now()).total_seconds()


def _check(current: ClockState, to: datetime) -> None:
    if to <= current.now:
        raise validation_failed(
            [FieldError("not_in_future", "/to", f"The sandbox clock is at {current.now.isoformat()}; move it forward.")]
        )
    if to - current.now > MAX_ADVANCE:
        raise validation_failed(
            [FieldError("too_far", "/to", "Advance at most 100 days at a time; call again to go further.")]
        )


def advance(account_id: str, to: datetime) -> ClockState:
    """Move the account's sandbox clock to `to`, running everything due in between in order (see the module)."""
    _check(state(account_id), to)
    _claim(account_id)
    try:
        return _advance_claimed(account_id, to)
    finally:
        _release_claim(account_id)


def _advance_claimed(account_id: str, to: datetime) -> ClockState:
    current = state(account_id)
    _check(current, to)  # again: another advance may have moved the clock before this one took the claim
    with session_scope() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise DomainError("not_found", f"No account with id {account_id} exists.")
        days = sale_days(account.sandbox_sales_through, current.now, to)

    sales_through: date | None = None
    while True:
        # The next thing due: a simulator step or the next sale day's report, whichever comes first.
        with session_scope() as session:
            step = session.exec(
                select(SandboxStep)
                .where(
                    col(SandboxStep.account_id) == account_id,
                    col(SandboxStep.done_at).is_(None),
                    col(SandboxStep.due_at) <= to,
                )
                .order_by(col(SandboxStep.due_at), col(SandboxStep.sequence))
                .limit(1)
            ).first()
            step_at = step.due_at if step is not None else None
        report_at = sandbox_sales.report_moment(days[0]) if days else None
        if step_at is None and report_at is None:
            break
        if step_at is not None and (report_at is None or step_at <= report_at):
            with clock.for_account(_at(max(step_at, current.now))), session_scope() as session:
                loaded = session.get(SandboxStep, step.id) if step is not None else None
                if loaded is not None:
                    sandbox_simulator.run_step(session, loaded)
            continue
        assert report_at is not None
        sale_day = days.pop(0)
        with clock.for_account(_at(report_at)), session_scope() as session:
            sandbox_sales.report_day(session, account_id, sale_day)
            row = session.get(Account, account_id)
            if row is not None:
                row.sandbox_sales_through = sale_day
                session.add(row)
        sales_through = sale_day

    # Rounded up: the clock reads `to` or a moment later when the call answers, never before it (what was due by
    # `to` has happened, so the clock must not show a time before it).
    offset = math.ceil(_at(to))
    with session_scope() as session:
        row = session.get(Account, account_id)
        assert row is not None
        row.sandbox_clock_offset_seconds = max(offset, row.sandbox_clock_offset_seconds)
        if sales_through is not None:
            row.sandbox_sales_through = sales_through
        session.add(row)
        _retries_come_due(session, account_id, to - current.now)
        offset = row.sandbox_clock_offset_seconds
    clock.use_account_offset(offset)  # the rest of this request reads the new time
    return ClockState(clock.real_now() + timedelta(seconds=offset), offset)


def accounts_selling(session: Session) -> list[tuple[str, int, date | None]]:
    """Sandbox accounts with a live release and no advance running: (id, clock offset, last sale day reported)."""
    live = select(Release.account_id).where(col(Release.environment) == "sandbox", col(Release.status) == "live")
    now = clock.real_now()
    rows = session.execute(
        sa_select(col(Account.id), col(Account.sandbox_clock_offset_seconds), col(Account.sandbox_sales_through)).where(
            col(Account.id).in_(live),
            or_(
                col(Account.sandbox_clock_advancing_until).is_(None),
                col(Account.sandbox_clock_advancing_until) <= now,
            ),
        )
    ).all()
    return [
        (str(account_id), account_clock.offset_seconds(SANDBOX, offset), through)
        for account_id, offset, through in rows
    ]


def report_due_sales() -> int:
    """Report every sandbox sale day that is over on its account's clock (the scheduler calls this as real time
    passes; an advance does the same for the time it skips). Each day in its own transaction, reported now (the
    store's report arrives when it arrives: its events are not back-dated); the report's message id makes a day that
    two processes report at once import once."""
    with session_scope() as session:
        selling = accounts_selling(session)
    reported = 0
    for account_id, offset, through in selling:
        with clock.for_account(offset):
            now = clock.now()
        if through is None:
            # The first look at an account that sells: its sales begin with today; nothing before is invented.
            _bookmark(account_id, now.date() - timedelta(days=1))
            continue
        for day in sale_days(through, now, now):
            with clock.for_account(offset), session_scope() as session:
                sandbox_sales.report_day(session, account_id, day)
                _bookmark(account_id, day, session)
            reported += 1
    return reported


def _bookmark(account_id: str, day: date, session: Session | None = None) -> None:
    """Record `day` as the last one reported (never moving the bookmark back: an advance may have gone further)."""
    statement = (
        update(Account)
        .where(
            col(Account.id) == account_id,
            or_(col(Account.sandbox_sales_through).is_(None), col(Account.sandbox_sales_through) < day),
        )
        .values(sandbox_sales_through=day)
    )
    if session is not None:
        session.execute(statement)
        return
    with session_scope() as own:
        own.execute(statement)


def _retries_come_due(session: object, account_id: str, skipped: timedelta) -> None:
    """Webhook retries are scheduled in real time; those the skipped time would have reached are due now."""
    now = clock.real_now()
    endpoints = select(WebhookEndpoint.id).where(
        col(WebhookEndpoint.account_id) == account_id, col(WebhookEndpoint.environment) == "sandbox"
    )
    session.execute(  # type: ignore[attr-defined]
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id).in_(endpoints),
            col(WebhookDelivery.next_attempt_at) > now,
            col(WebhookDelivery.next_attempt_at) <= now + skipped,
        )
        .values(next_attempt_at=now)
    )
