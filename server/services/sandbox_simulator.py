"""The sandbox's simulated sub-distributor: what happens to a submitted sandbox release, and when.

On submission a sandbox release gets a schedule of steps (`sandbox_steps`): the review (`in_review`, then
`approved` — or `action_needed` / `rejected` by a magic value in the release's metadata), then per store the
delivery states `queued` → `delivered` → `live`. Review steps move the release like the distributor's review
does; every delivery step is a DSP feed message (`delivery.status_changed`) processed by
`dsp_sync.process_and_announce` — the same `apply` and `announce` the production inbound webhook runs — so the
release moves `approved` → `delivering` → `live` with the same webhooks in the same order as in production.

Steps are due on the account's sandbox clock. The scheduler (`server.sandbox_worker`) runs due steps; the API's
`advanceSandboxRelease` and the test clock run them early. Production releases never get a schedule.

Magic values (release `metadata`, set before submitting):
- `sandbox_review`: `action_needed` or `rejected` — the review ends there (with a reason) instead of `approved`.
- `sandbox_store_rejected`: a store code — that store reports `rejected` instead of `live`.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, delete, select

from server import clock, config
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.sandbox import SandboxStep
from server.db.types import utcnow
from server.domain import account_clock
from server.domain.account_clock import SANDBOX
from server.domain.errors import DomainError, invalid_state
from server.domain.releases import DeliveryStatus, ReleaseStatus
from server.representations.releases import represent as represent_release
from server.services import dsp_sync, events, releases

log = logging.getLogger("og.sandbox")

REVIEW_OUTCOMES = (ReleaseStatus.ACTION_NEEDED, ReleaseStatus.REJECTED)
REASONS = {
    "action_needed": "Sandbox review: the cover shows a website address; upload artwork without it.",
    "rejected": "Sandbox review: the recording matches existing content distributed by another party.",
    "store_rejected": "Sandbox: the store refused the delivery (metadata mismatch).",
}
# Where each target of `advance` sits on the journey; a release can be advanced only forward along it.
ADVANCE_TARGETS = (
    ReleaseStatus.IN_REVIEW,
    ReleaseStatus.APPROVED,
    ReleaseStatus.ACTION_NEEDED,
    ReleaseStatus.REJECTED,
    ReleaseStatus.DELIVERING,
    ReleaseStatus.LIVE,
    ReleaseStatus.TAKEN_DOWN,
)
_ORDER: dict[str, int] = {
    ReleaseStatus.SUBMITTED: 0,
    ReleaseStatus.IN_REVIEW: 1,
    ReleaseStatus.APPROVED: 2,
    ReleaseStatus.ACTION_NEEDED: 2,
    ReleaseStatus.REJECTED: 2,
    ReleaseStatus.DELIVERING: 3,
    ReleaseStatus.LIVE: 4,
}

# Realistic durations (production, typical): review 1 to 3 business days, delivery 1 to 2 days, Spotify 2 to 5 days.
_REALISTIC_LIVE_AFTER = {"spotify": timedelta(days=5), "youtube_music": timedelta(days=4)}


@dataclass(frozen=True)
class _Plan:
    offset: timedelta
    kind: str
    payload: dict[str, Any]


def _plan(release: Release, *, realistic: bool) -> list[_Plan]:
    """The journey: review steps, then each store's delivery states, at offsets from submission.

    Compressed (the default) the whole journey fits `OG_SANDBOX_TIMELINE_SECONDS` (60 s): in review at 10 %,
    decided at 25 %, every store queued at 35 %, delivered from 50 %, live from 70 % to 95 %. Realistic (mock data,
    test clocks) it takes days, as in production.
    """
    total = config.active().sandbox_timeline_seconds
    meta = release.meta or {}
    review = meta.get("sandbox_review")
    outcome = ReleaseStatus(review) if review in REVIEW_OUTCOMES else ReleaseStatus.APPROVED
    stores = list(release.stores) or ["spotify"]

    def at(fraction: float, days: float) -> timedelta:
        return timedelta(days=days) if realistic else timedelta(seconds=total * fraction)

    steps = [
        _Plan(at(0.10, 0.05), "review", {"status": ReleaseStatus.IN_REVIEW}),
        _Plan(at(0.25, 2), "review", {"status": outcome, "reason": REASONS.get(outcome)}),
    ]
    if outcome != ReleaseStatus.APPROVED:
        return steps
    count = len(stores)
    for index, store in enumerate(stores):
        steps.append(_Plan(at(0.35, 2.1), "delivery", {"dsp": store, "status": DeliveryStatus.QUEUED}))
        steps.append(
            _Plan(at(0.50 + 0.15 * index / count, 3), "delivery", {"dsp": store, "status": DeliveryStatus.DELIVERED})
        )
    for index, store in enumerate(stores):
        live_days = (timedelta(days=2) + _REALISTIC_LIVE_AFTER.get(store, timedelta(days=2))).total_seconds() / 86400
        final = DeliveryStatus.REJECTED if meta.get("sandbox_store_rejected") == store else DeliveryStatus.LIVE
        payload: dict[str, Any] = {"dsp": store, "status": final}
        if final == DeliveryStatus.REJECTED:
            payload["reason"] = REASONS["store_rejected"]
        steps.append(_Plan(at(0.70 + 0.25 * index / count, live_days), "delivery", payload))
    steps.sort(key=lambda step: step.offset)  # stable: queued before delivered before live at equal offsets
    return steps


def schedule(session: Session, release_id: str, *, realistic: bool = False) -> None:
    """Plan the journey of a just-submitted sandbox release from the account's now. Replaces any pending plan."""
    release = session.get(Release, release_id)
    if release is None or release.environment != "sandbox":
        return
    session.exec(
        delete(SandboxStep).where(col(SandboxStep.release_id) == release.id, col(SandboxStep.done_at).is_(None))
    )
    start = utcnow()
    for sequence, step in enumerate(_plan(release, realistic=realistic)):
        session.add(
            SandboxStep(
                account_id=release.account_id,
                environment=release.environment,
                release_id=release.id,
                sequence=sequence,
                due_at=start + step.offset,
                kind=step.kind,
                payload=step.payload,
            )
        )
    session.flush()


def run_step(session: Session, step: SandboxStep) -> bool:
    """Run one step in the caller's transaction (on the account's clock). False when another worker ran it first."""
    now = utcnow()
    # The release first, then the step: `advance` holds the release's row lock while it runs steps, so the scheduler
    # waits for it here instead of deadlocking on the step's row.
    release = session.get(Release, step.release_id, populate_existing=True, with_for_update=True)
    claimed = session.execute(
        update(SandboxStep)
        .where(col(SandboxStep.id) == step.id, col(SandboxStep.done_at).is_(None))
        .values(done_at=now, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return False
    if release is None:
        return True
    if step.kind == "review":
        target = ReleaseStatus(step.payload["status"])  # a step this module planned
        try:
            previous = releases.transition(session, release, target, reason=step.payload.get("reason"))
        except DomainError:
            log.info("sandbox: release %s is %s; review step to %s skipped", release.id, release.status, target)
            return True
        session.flush()
        events.emit_for(
            session,
            release.account_id,
            release.environment,
            "release.status_changed",
            represent_release(session, release),
            previous_attributes={"status": previous},
        )
        return True
    data: dict[str, Any] = {"release_id": release.id, "upc": release.upc, **step.payload}
    if step.payload["status"] == DeliveryStatus.LIVE:
        data["store_url"] = f"https://sandbox.og-records.test/{step.payload['dsp']}/{release.upc}"
    # The feed applies a store's state only if its timestamp is newer than the last one applied (the sender's order,
    # not arrival order). The steps of one release run in plan order, whoever runs them, but not on one clock: a
    # clock advance runs each step at its due time on the account's clock while the scheduler runs steps at the
    # time it finds them due, which under load can be later than the due time of the advance's next step. So a
    # step's moment is never before the state it follows: otherwise `live` arrived "older" than `delivered` and the
    # release stayed `delivering`. Microseconds: several states of one store can fall in the same second.
    occurred_at = _after_last_state(session, release.id, str(step.payload["dsp"]), now)
    payload = {"type": "delivery.status_changed", "timestamp": occurred_at.isoformat(), "data": data}
    dsp_sync.process_and_announce(session, f"sandbox_step_{step.id}", payload, environment="sandbox")
    return True


def schedule_takedown(session: Session, release_id: str, *, realistic: bool = False) -> None:
    """After a takedown request: every store still delivering or live reports `removed` through the DSP feed, one
    after the other within the compressed timeline (realistic: 1 to 3 days), so the release becomes `taken_down`
    exactly as in production. Pending delivery steps are dropped: nothing more is delivered."""
    release = session.get(Release, release_id)
    if release is None or release.environment != "sandbox":
        return
    session.exec(
        delete(SandboxStep).where(col(SandboxStep.release_id) == release.id, col(SandboxStep.done_at).is_(None))
    )
    stores = list(
        session.exec(
            select(ReleaseDelivery.store)
            .where(col(ReleaseDelivery.release_id) == release.id, col(ReleaseDelivery.status) != DeliveryStatus.REMOVED)
            .order_by(col(ReleaseDelivery.id))
        ).all()
    )
    total = config.active().sandbox_timeline_seconds
    start = utcnow()
    for index, store in enumerate(stores):
        share = index / max(len(stores), 1)
        offset = timedelta(days=1 + 2 * share) if realistic else timedelta(seconds=total * (0.2 + 0.6 * share))
        session.add(
            SandboxStep(
                account_id=release.account_id,
                environment=release.environment,
                release_id=release.id,
                sequence=index,
                due_at=start + offset,
                kind="delivery",
                payload={"dsp": store, "status": DeliveryStatus.REMOVED},
            )
        )
    session.flush()


def _advance_takedown(session: Session, release: Release) -> list[str]:
    """`advance` to `taken_down`: the pending removals run now. A takedown must have been requested first
    (`requestReleaseTakedown`): advancing never asks for one on the owner's behalf. Already `taken_down` (the
    scheduler got there first): nothing to do."""
    if release.status == ReleaseStatus.TAKEN_DOWN:
        return [release.status]
    if release.status != ReleaseStatus.TAKEDOWN_REQUESTED:
        raise invalid_state(
            "release",
            release.status,
            f"A release that is {release.status} cannot move to taken_down; request a takedown first.",
        )
    steps = pending_steps(session, release.id)
    if not steps:
        schedule_takedown(session, release.id)
        steps = pending_steps(session, release.id)
    for step in steps:
        run_step(session, step)
    session.refresh(release)
    if release.status != ReleaseStatus.TAKEN_DOWN:
        raise invalid_state("release", release.status, f"The release cannot reach taken_down from {release.status}.")
    return [release.status]


def pending_steps(session: Session, release_id: str) -> list[SandboxStep]:
    return list(
        session.exec(
            select(SandboxStep)
            .where(col(SandboxStep.release_id) == release_id, col(SandboxStep.done_at).is_(None))
            .order_by(col(SandboxStep.sequence))
        ).all()
    )


def advance(session: Session, release: Release, to: str) -> list[str]:
    """Move a sandbox release to `to` at once through every intermediate status, each with its events (steps run
    now instead of at their due time). Returns the statuses it passed through."""
    if release.environment != "sandbox":
        raise DomainError("sandbox_only", "Only sandbox releases can be advanced.")
    if to == ReleaseStatus.TAKEN_DOWN:
        return _advance_takedown(session, release)
    if release.status not in _ORDER:
        raise invalid_state("release", release.status, f"A release that is {release.status} cannot be advanced.")
    if _ORDER[to] <= _ORDER[release.status] and not (to == ReleaseStatus.LIVE and release.status == ReleaseStatus.LIVE):
        raise invalid_state("release", release.status, f"A release that is {release.status} cannot move to {to}.")
    if release.status in REVIEW_OUTCOMES or (
        to in REVIEW_OUTCOMES and release.status not in (ReleaseStatus.SUBMITTED, ReleaseStatus.IN_REVIEW)
    ):
        raise invalid_state("release", release.status, f"A release that is {release.status} cannot move to {to}.")
    steps = pending_steps(session, release.id)
    if not steps:
        schedule(session, release.id)
        steps = pending_steps(session, release.id)
    if to in REVIEW_OUTCOMES:
        # The review ends in `to` instead: rewrite the decision, drop the delivery that would have followed.
        for step in steps:
            if step.kind == "review" and step.payload.get("status") != ReleaseStatus.IN_REVIEW:
                step.payload = {"status": to, "reason": REASONS[to]}
                session.add(step)
            elif step.kind == "delivery":
                session.delete(step)
        session.flush()
        steps = pending_steps(session, release.id)
    passed: list[str] = []
    for step in steps:
        run_step(session, step)
        session.refresh(release)
        if not passed or passed[-1] != release.status:
            passed.append(release.status)
        if release.status == to and to != ReleaseStatus.LIVE:
            break
    if release.status != to:
        raise invalid_state("release", release.status, f"The release cannot reach {to} from {release.status}.")
    return passed


def _after_last_state(session: Session, release_id: str, store: str, now: datetime) -> datetime:
    """`now`, or a microsecond after the store's last applied state when that is later."""
    last = session.exec(
        select(ReleaseDelivery.last_event_at).where(
            col(ReleaseDelivery.release_id) == release_id, col(ReleaseDelivery.store) == store
        )
    ).first()
    if last is None:
        return now
    last_at = last if last.tzinfo else last.replace(tzinfo=UTC)  # SQLite keeps it naive
    return max(now, last_at + timedelta(microseconds=1))


def accounts_due(session: Session) -> dict[str, int]:
    """Accounts whose earliest pending step is due on their own clock → the clock's offset in seconds. One grouped
    query, so an idle scheduler costs the same however many sandbox accounts wait for days-long steps."""
    rows = session.exec(
        select(Account.id, Account.sandbox_clock_offset_seconds, func.min(SandboxStep.due_at))
        .join(SandboxStep, col(SandboxStep.account_id) == col(Account.id))
        .where(
            col(SandboxStep.done_at).is_(None),
            # An account whose clock is being advanced is left to the advance, which runs its steps in time order.
            or_(
                col(Account.sandbox_clock_advancing_until).is_(None),
                col(Account.sandbox_clock_advancing_until) <= clock.real_now(),
            ),
        )
        .group_by(col(Account.id), col(Account.sandbox_clock_offset_seconds))
    ).all()
    now = clock.real_now()
    due: dict[str, int] = {}
    for account_id, offset, earliest in rows:
        earliest_at = earliest if earliest.tzinfo else earliest.replace(tzinfo=UTC)  # SQLite's MIN() is naive
        if earliest_at <= account_clock.now_at(now, SANDBOX, offset):
            due[account_id] = account_clock.offset_seconds(SANDBOX, offset)
    return due


def due_step_ids(session: Session, account_id: str, until: datetime, limit: int = 200) -> list[int]:
    rows = session.exec(
        select(SandboxStep.id)
        .where(
            col(SandboxStep.account_id) == account_id,
            col(SandboxStep.done_at).is_(None),
            col(SandboxStep.due_at) <= until,
        )
        .order_by(col(SandboxStep.due_at), col(SandboxStep.sequence))
        .limit(limit)
    ).all()
    return [int(row) for row in rows if row is not None]


def run_due(limit: int = 200, *, account_id: str | None = None) -> int:
    """Run every step that is due on its account's clock (of one account, or all), oldest first, each in its own
    transaction."""
    with session_scope() as session:
        offsets = accounts_due(session)
    if account_id is not None:
        offsets = {account_id: offsets[account_id]} if account_id in offsets else {}
    ran = 0
    for account, offset in offsets.items():
        with clock.for_account(offset):
            with session_scope() as session:
                ids = due_step_ids(session, account, clock.now(), limit)
            for step_id in ids:
                try:
                    with session_scope() as session:
                        step = session.get(SandboxStep, step_id)
                        if step is not None and run_step(session, step):
                            ran += 1
                except Exception:
                    log.exception("sandbox step %s failed; it stays pending", step_id)
    return ran
