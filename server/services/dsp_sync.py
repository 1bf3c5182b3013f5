"""The DSP sub-distributor's inbound events: per-store delivery states and sales report lines.

The inbound pipeline (`server.services.inbound_webhooks.dsp`) verifies the signature first; everything here runs in
one transaction with the receipt, so a failure leaves nothing behind and the sender's retry processes the message
again.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from server.db.models.inbound import InboundWebhookReceipt
from server.db.models.releases import Release, ReleaseDelivery
from server.db.types import utcnow
from server.domain.releases import DeliveryStatus, ReleaseStatus
from server.ids import has_prefix
from server.representations.releases import represent as represent_release
from server.services import earnings, events
from server.services.inbound_webhooks import receipts

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
_IN_PROGRESS = frozenset(
    {
        DeliveryStatus.QUEUED,
        DeliveryStatus.PREPARING,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.STALLED,
        DeliveryStatus.REJECTED,
        DeliveryStatus.ACTION_NEEDED,
    }
)
_WITH_REASON = frozenset({DeliveryStatus.REJECTED, DeliveryStatus.ACTION_NEEDED, DeliveryStatus.STALLED})


@dataclass
class Outcome:
    duplicate: bool = False
    # (release, previous status) for every release whose status moved; the caller emits the events.
    status_changes: list[tuple[Release, str]] = field(default_factory=list)
    import_result: earnings.ImportResult | None = None


def event_type(payload: dict[str, Any]) -> str | None:
    """The message's type as its receipt keeps it."""
    kind = payload.get("type")
    return str(kind) if kind is not None else None


def record_receipt(session: Session, message_id: str, payload: dict[str, Any]) -> InboundWebhookReceipt | None:
    """Insert the receipt (the dedupe point); None when this message id was received before."""
    if receipts.seen(session, PROVIDER, message_id):
        return None
    return receipts.record_once(
        session,
        PROVIDER,
        message_id,
        event_type=event_type(payload),
        environment=None,
        payload=payload,
        processed=True,  # what follows runs in the receipt's transaction: both commit or neither
    )


def process(session: Session, message_id: str, payload: dict[str, Any], *, environment: str | None = None) -> Outcome:
    """Record the message's receipt and apply it (a duplicate changes nothing). `environment` names the namespace
    the sender speaks for (the sandbox's simulated sub-distributor: `sandbox`); the partner's feed leaves it out
    (see `earnings.match_lines`)."""
    if record_receipt(session, message_id, payload) is None:
        return Outcome(duplicate=True)
    return apply(session, payload, environment=environment)


def apply(session: Session, payload: dict[str, Any], *, environment: str | None = None) -> Outcome:
    """What one message changes; the caller has recorded its receipt in the same transaction."""
    outcome = Outcome()
    kind = payload.get("type")
    if kind == "delivery.status_changed":
        _apply_delivery_state(session, payload, outcome, environment)
    elif kind == "report.lines":
        outcome.import_result = _import_report(session, payload, environment)
    else:
        log.info("dsp sync: ignoring event type %r", kind)
    return outcome


def announce(session: Session, outcome: Outcome) -> None:
    """`release.status_changed` for every release the message moved, in the same transaction."""
    for release, previous in outcome.status_changes:
        events.emit_for(
            session,
            release.account_id,
            release.environment,
            "release.status_changed",
            represent_release(session, release),
            previous_attributes={"status": previous},
        )


def apply_and_announce(session: Session, payload: dict[str, Any]) -> Outcome:
    """The whole effect of one feed message whose receipt is recorded (the inbound pipeline's DSP provider)."""
    outcome = apply(session, payload)
    announce(session, outcome)
    return outcome


def process_and_announce(
    session: Session, message_id: str, payload: dict[str, Any], *, environment: str | None = None
) -> Outcome:
    """`process`, then `release.status_changed` for every release it moved: the whole effect of one feed message.
    The sandbox's simulated sub-distributor calls this, and the inbound webhook runs the same `apply` and
    `announce` (server.services.inbound_webhooks.dsp), so a sandbox release goes through exactly what a production
    release does."""
    outcome = process(session, message_id, payload, environment=environment)
    announce(session, outcome)
    return outcome


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _find_release(session: Session, data: dict[str, Any], environment: str | None) -> Release | None:
    release_id = data.get("release_id")
    if isinstance(release_id, str) and has_prefix(release_id, "rel"):
        release = session.get(Release, release_id)
        if (
            release is not None
            and (not release.upc or release.upc == data.get("upc"))
            and environment in (None, release.environment)
        ):
            return release
    # A UPC names one release per environment on the whole platform: production's first, as for report lines.
    statement = select(Release).where(col(Release.upc) == data.get("upc"))
    if environment is not None:
        statement = statement.where(col(Release.environment) == environment)
    matches = session.exec(statement).all()
    return next((r for r in matches if r.environment == "production"), matches[0] if matches else None)


def _apply_delivery_state(session: Session, payload: dict[str, Any], outcome: Outcome, environment: str | None) -> None:
    data: dict[str, Any] = payload["data"]
    store, status = data["dsp"], data["status"]
    occurred_at = _timestamp(payload["timestamp"])
    release = _find_release(session, data, environment)
    if release is None or store not in STORES:
        log.warning("dsp sync: delivery state for unknown release or store (upc=%s, dsp=%s)", data.get("upc"), store)
        return
    message = data.get("reason") if status in _WITH_REASON else None
    store_url = data.get("store_url") if status == DeliveryStatus.LIVE else None
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
    target: ReleaseStatus | None = None
    if store_status == DeliveryStatus.LIVE and previous in {ReleaseStatus.APPROVED, ReleaseStatus.DELIVERING}:
        target = ReleaseStatus.LIVE
    elif store_status in _IN_PROGRESS and previous == ReleaseStatus.APPROVED:
        target = ReleaseStatus.DELIVERING
    elif store_status == DeliveryStatus.REMOVED and previous == ReleaseStatus.TAKEDOWN_REQUESTED:
        remaining = session.exec(
            select(ReleaseDelivery.id).where(
                col(ReleaseDelivery.release_id) == release.id, col(ReleaseDelivery.status) != DeliveryStatus.REMOVED
            )
        ).first()
        if remaining is None:
            target = ReleaseStatus.TAKEN_DOWN
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


def _import_report(session: Session, payload: dict[str, Any], environment: str | None) -> earnings.ImportResult:
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
        environment=environment,
    )
    if result.unmatched:
        log.warning(
            "dsp sync: %d report lines not imported (%s)",
            len(result.unmatched),
            ", ".join(f"{line_id}: {reason}" for line_id, reason in result.unmatched[:20]),
        )
    return result
