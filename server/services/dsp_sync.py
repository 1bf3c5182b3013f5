"""The DSP sub-distributor's inbound events: per-store delivery states and sales report lines.

The handler verifies the signature first; everything here runs in one transaction with the receipt, so a failure
leaves nothing behind and the sender's retry processes the message again.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.db.models.inbound import InboundWebhookReceipt
from server.db.models.releases import Release, ReleaseDelivery
from server.db.types import utcnow
from server.ids import has_prefix
from server.representations.releases import represent as represent_release
from server.services import earnings, events

log = logging.getLogger(__name__)

PROVIDER = "distributor"

# DistributionStore codes: a delivery state for any other store code is acknowledged and ignored.
STORES = frozenset(
    {
        "spotify",
        "apple_music",
        "itunes",
        "amazon_music",
        "youtube_music",
        "youtube_content_id",
        "deezer",
        "tidal",
        "tiktok",
        "instagram",
        "facebook",
        "soundcloud",
        "pandora",
        "audiomack",
        "anghami",
        "boomplay",
        "jiosaavn",
        "napster",
        "tencent_music",
        "netease_cloud_music",
    }
)
_IN_PROGRESS = frozenset({"queued", "preparing", "delivered", "stalled", "rejected", "action_needed"})


@dataclass
class Outcome:
    duplicate: bool = False
    # (release, previous status) for every release whose status moved; the caller emits the events.
    status_changes: list[tuple[Release, str]] = field(default_factory=list)
    import_result: earnings.ImportResult | None = None


def record_receipt(session: Session, message_id: str, payload: dict[str, Any]) -> InboundWebhookReceipt | None:
    """Insert the receipt (the dedupe point); None when this message id was received before."""
    receipt = InboundWebhookReceipt(
        provider=PROVIDER,
        external_id=message_id,
        event_type=str(payload.get("type"))[:100] if payload.get("type") is not None else None,
        payload=payload,
    )
    existing = session.exec(
        select(InboundWebhookReceipt.id).where(
            col(InboundWebhookReceipt.provider) == PROVIDER, col(InboundWebhookReceipt.external_id) == message_id
        )
    ).first()
    if existing is not None:
        return None
    try:
        with session.begin_nested():
            session.add(receipt)
            session.flush()
    except IntegrityError:
        return None  # a concurrent delivery of the same message won
    return receipt


def process(session: Session, message_id: str, payload: dict[str, Any]) -> Outcome:
    receipt = record_receipt(session, message_id, payload)
    if receipt is None:
        return Outcome(duplicate=True)
    outcome = Outcome()
    kind = payload.get("type")
    if kind == "delivery.status_changed":
        _apply_delivery_state(session, payload, outcome)
    elif kind == "report.lines":
        outcome.import_result = _import_report(session, payload)
    else:
        log.info("dsp sync: ignoring event type %r", kind)
    receipt.processed_at = utcnow()
    session.add(receipt)
    return outcome


def process_and_announce(session: Session, message_id: str, payload: dict[str, Any]) -> Outcome:
    """`process`, then `release.status_changed` for every release it moved: the whole effect of one feed message.
    The inbound webhook and the sandbox's simulated sub-distributor both call this, so a sandbox release goes
    through exactly what a production release does."""
    outcome = process(session, message_id, payload)
    for release, previous in outcome.status_changes:
        document = represent_release(session, release)
        events.emit_for(
            session,
            release.account_id,
            release.environment,
            "release.status_changed",
            document,
            previous_attributes={"status": previous},
        )
    return outcome


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _find_release(session: Session, data: dict[str, Any]) -> Release | None:
    release_id = data.get("release_id")
    if isinstance(release_id, str) and has_prefix(release_id, "rel"):
        release = session.get(Release, release_id)
        if release is not None and (not release.upc or release.upc == data.get("upc")):
            return release
    # UPCs we assign are unique per environment; one typed in by hand might not be, and then no release is safe.
    matches = session.exec(select(Release).where(col(Release.upc) == data.get("upc")).limit(2)).all()
    return matches[0] if len(matches) == 1 else None


def _apply_delivery_state(session: Session, payload: dict[str, Any], outcome: Outcome) -> None:
    data: dict[str, Any] = payload["data"]
    store, status = data["dsp"], data["status"]
    occurred_at = _timestamp(payload["timestamp"])
    release = _find_release(session, data)
    if release is None or store not in STORES:
        log.warning("dsp sync: delivery state for unknown release or store (upc=%s, dsp=%s)", data.get("upc"), store)
        return
    message = data.get("reason") if status in {"rejected", "action_needed", "stalled"} else None
    store_url = data.get("store_url") if status == "live" else None
    now = utcnow()
    # Compare-and-set on the sender's timestamp: a reordered, older state never overwrites a newer one.
    applied = session.execute(
        update(ReleaseDelivery)
        .where(
            col(ReleaseDelivery.release_id) == release.id,
            col(ReleaseDelivery.store) == store,
            or_(col(ReleaseDelivery.last_event_at).is_(None), col(ReleaseDelivery.last_event_at) < occurred_at),
        )
        .values(status=status, message=message, store_url=store_url, last_event_at=occurred_at, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not applied:
        exists = session.exec(
            select(ReleaseDelivery.id).where(
                col(ReleaseDelivery.release_id) == release.id, col(ReleaseDelivery.store) == store
            )
        ).first()
        if exists is not None:
            log.info("dsp sync: stale delivery state for %s at %s ignored", release.id, store)
            return
        # A concurrent message creating the same row makes this flush fail: the transaction rolls back (receipt
        # included) and the sender's retry applies this state by its timestamp.
        session.add(
            ReleaseDelivery(
                account_id=release.account_id,
                environment=release.environment,
                release_id=release.id,
                store=store,
                status=status,
                message=message,
                store_url=store_url,
                last_event_at=occurred_at,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
    _advance_release(session, release, status, outcome)


def _advance_release(session: Session, release: Release, store_status: str, outcome: Outcome) -> None:
    """Move the release along the lifecycle a store's state implies: first store live → `live`; delivery
    under way after approval → `delivering`; every store removed after a takedown request → `taken_down`."""
    previous = release.status
    target = None
    if store_status == "live" and previous in {"approved", "delivering"}:
        target = "live"
    elif store_status in _IN_PROGRESS and previous == "approved":
        target = "delivering"
    elif store_status == "removed" and previous == "takedown_requested":
        remaining = session.exec(
            select(ReleaseDelivery.id).where(
                col(ReleaseDelivery.release_id) == release.id, col(ReleaseDelivery.status) != "removed"
            )
        ).first()
        if remaining is None:
            target = "taken_down"
    if target is None:
        return
    release.status = target
    release.updated_at = utcnow()
    session.add(release)
    session.flush()
    outcome.status_changes.append((release, previous))


def _month(value: str) -> tuple[date, date]:
    year, month = (int(part) for part in value.split("-"))
    start = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return start, date.fromordinal(following.toordinal() - 1)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _import_report(session: Session, payload: dict[str, Any]) -> earnings.ImportResult:
    data: dict[str, Any] = payload["data"]
    store = str(data["dsp"])
    lines: list[earnings.ReportLine] = []
    for raw in data["lines"]:
        start, end = _month(raw["sale_period"])
        lines.append(
            earnings.ReportLine(
                line_id=str(raw["line_id"]),
                store=store,
                territory=raw["territory"],
                sale_period_start=start,
                sale_period_end=end,
                isrc=raw["isrc"],
                upc=raw.get("upc"),
                usage_type=raw["usage_type"],
                units=int(raw["units"]),
                gross=Decimal(raw["gross"]),
                net=Decimal(raw["net"]),
                currency=raw["currency"],
                fx_rate=_decimal(raw.get("fx_rate")),
            )
        )
    result = earnings.import_report(
        session,
        sender=PROVIDER,
        report_id=str(data["report_id"]),
        reported_at=_timestamp(payload["timestamp"]),
        lines=lines,
    )
    if result.unmatched:
        log.warning(
            "dsp sync: %d report lines not imported (%s)",
            len(result.unmatched),
            ", ".join(f"{line_id}: {reason}" for line_id, reason in result.unmatched[:20]),
        )
    return result
