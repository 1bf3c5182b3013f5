"""Sandbox test clocks: each sandbox account's own "now", moved forward on request.

The clock is an offset from real time on the account (`sandbox_clock_offset_seconds`); `server.clock.now()` reads
it wherever the account is known (see server.clock). Advancing runs, in time order, everything that would have
happened in between — each at its own moment on the sandbox clock, so events carry the time they happened:

1. the simulated sub-distributor's due steps (review, per-store delivery states: `sandbox_simulator`);
2. simulated sales, one report per store and day of every release live by then (`sandbox_sales`);

and then pulls forward the account's webhook retries that came due in the skipped time. What is derived from "now"
at read time follows the new clock by itself: earnings settle 30 days after their report, split versions apply by
their `effective_from`, pre-save links switch on release day, rotated keys' grace periods end.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from server import clock
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.sandbox import SandboxStep
from server.db.models.webhooks import WebhookDelivery, WebhookEndpoint
from server.domain.errors import DomainError, FieldError, validation_failed
from server.services import sandbox_sales, sandbox_simulator

MAX_ADVANCE = timedelta(days=100)


@dataclass(frozen=True)
class ClockState:
    now: datetime
    offset_seconds: int


def state(account_id: str) -> ClockState:
    with session_scope() as session:
        account = session.get(Account, account_id)
        offset = int(account.sandbox_clock_offset_seconds) if account is not None else 0
    return ClockState(clock.real_now() + timedelta(seconds=offset), offset)


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
    current = state(account_id)
    _check(current, to)
    with session_scope() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise DomainError("not_found", f"No account with id {account_id} exists.")
        first_day = account.sandbox_sales_through + timedelta(days=1) if account.sandbox_sales_through else None
    first_day = max(first_day or current.now.date(), current.now.date() - timedelta(days=1))
    days: list[date] = []
    day = first_day
    while sandbox_sales.report_moment(day) <= to:
        days.append(day)
        day += timedelta(days=1)

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

    offset = round(_at(to))
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
