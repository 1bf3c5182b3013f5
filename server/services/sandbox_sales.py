"""Simulated sales of live sandbox releases: what the stores would report, day by day.

Per live release, store and sale day, deterministic mock units (seeded by ISRC, store, territory and day, so the
same sandbox shows the same numbers twice) at realistic per-unit rates in each store's own reporting currency,
with the day's FX rate into EUR. Each store's day is one DSP feed report (`report.lines`) processed by
`dsp_sync.process_and_announce` — the production importer: lines matched by ISRC/UPC, deduplicated, converted,
allocated to the split version in force for the sale period, announced with `earnings.imported`. A day is
reported at midnight after it (daily trend data), so it settles 30 days later like any report.

Streams follow a long tail: a release peaks in its first weeks and decays, weekends are higher, the US and
Germany carry most units, and the first track of a release carries more than the others.
"""

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.tracks import Track
from server.services import dsp_sync

# store → (reporting currency, gross per stream to the rights holder in that currency, share of all streams)
STORE_RATES: dict[str, tuple[str, Decimal, float]] = {
    "spotify": ("EUR", Decimal("0.0037"), 0.45),
    "apple_music": ("USD", Decimal("0.0085"), 0.20),
    "amazon_music": ("USD", Decimal("0.0040"), 0.10),
    "deezer": ("EUR", Decimal("0.0035"), 0.08),
    "youtube_music": ("USD", Decimal("0.0020"), 0.12),
    "tidal": ("USD", Decimal("0.0125"), 0.05),
}
DEFAULT_RATE = ("USD", Decimal("0.0030"), 0.03)
# A download (iTunes-style, on Apple Music's store) sells at 1.29 USD and pays about 70 %.
DOWNLOAD_NET = Decimal("0.903")
TERRITORIES = {"US": 0.35, "DE": 0.30, "GB": 0.20, "FR": 0.15}
_FX_TO_EUR = {"EUR": Decimal(1), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}
_NET_RATIO = Decimal("0.85")  # what the store passes on after its fees
_QUANTUM = Decimal("1e-10")


def fx_rate(currency: str, day: date) -> Decimal:
    """The day's rate into EUR: the base rate with a small deterministic daily wobble."""
    base = _FX_TO_EUR.get(currency, Decimal(1))
    if currency == "EUR":
        return base
    wobble = Decimal(random.Random(f"fx|{currency}|{day.isoformat()}").randint(-150, 150)) / Decimal(10000)
    return (base + wobble).quantize(Decimal("0.000001"))


def report_moment(day: date) -> datetime:
    """When a sale day is reported: midnight after it (UTC)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _units(isrc: str, store: str, territory: str, day: date, *, age_days: int, track_index: int, share: float) -> int:
    rng = random.Random(f"{isrc}|{store}|{territory}|{day.isoformat()}")
    peak = 1 + 3 * (0.85 ** max(age_days, 0) if age_days < 60 else 0)  # first weeks carry the release
    weekend = 1.3 if day.weekday() >= 5 else 1.0
    tail = 1.0 / (1 + track_index)  # the opener is streamed most
    base = 2_000 * share * TERRITORIES[territory] * peak * weekend * tail
    return max(0, int(base * rng.uniform(0.7, 1.3)))


def _live_since(session: Session, release: Release) -> datetime | None:
    """The moment the release's first store went live (None: no live store; mock history counts as long ago)."""
    deliveries = session.exec(
        select(ReleaseDelivery).where(
            col(ReleaseDelivery.release_id) == release.id, col(ReleaseDelivery.status) == "live"
        )
    ).all()
    if not deliveries:
        return None
    moments = [d.last_event_at for d in deliveries if d.last_event_at is not None]
    return min(moments) if moments else datetime(2000, 1, 1, tzinfo=UTC)


def day_reports(session: Session, account_id: str, day: date) -> list[dict[str, Any]]:
    """The feed messages (one per store) reporting `day`'s sales of the account's live sandbox releases."""
    live = session.exec(
        select(Release).where(
            col(Release.account_id) == account_id,
            col(Release.environment) == "sandbox",
            col(Release.status) == "live",
        )
    ).all()
    by_store: dict[str, list[dict[str, Any]]] = {}
    day_end = report_moment(day)
    for release in live:
        since = _live_since(session, release)
        if since is None or since >= day_end:
            continue
        age = (day - since.date()).days
        stores = session.exec(
            select(ReleaseDelivery.store).where(
                col(ReleaseDelivery.release_id) == release.id, col(ReleaseDelivery.status) == "live"
            )
        ).all()
        tracks = session.exec(
            select(Track).where(col(Track.release_id) == release.id).order_by(col(Track.track_number))
        ).all()
        for store in stores:
            currency, per_stream, share = STORE_RATES.get(store, DEFAULT_RATE)
            rate = fx_rate(currency, day)
            for index, track in enumerate(tracks):
                if not track.isrc:
                    continue
                for territory in TERRITORIES:
                    units = _units(track.isrc, store, territory, day, age_days=age, track_index=index, share=share)
                    if units == 0:
                        continue
                    gross = (per_stream * units).quantize(_QUANTUM)
                    by_store.setdefault(store, []).append(
                        _line(track, release, store, territory, day, "stream", units, gross, currency, rate)
                    )
                if store == "apple_music":
                    downloads = random.Random(f"dl|{track.isrc}|{day.isoformat()}").randint(0, 3)
                    if downloads:
                        gross = (Decimal("1.29") * downloads).quantize(_QUANTUM)
                        line = _line(track, release, store, "US", day, "download", downloads, gross, "USD", rate)
                        line["net"] = str((DOWNLOAD_NET * downloads).quantize(_QUANTUM))
                        by_store[store].append(line)
    moment = report_moment(day)
    return [
        {
            "type": "report.lines",
            "timestamp": moment.isoformat(),
            "data": {"dsp": store, "report_id": f"sandbox-{account_id}-{store}-{day.isoformat()}", "lines": lines},
        }
        for store, lines in sorted(by_store.items())
    ]


def _line(  # noqa: PLR0917 - one report line's fields, in the feed's order
    track: Track,
    release: Release,
    store: str,
    territory: str,
    day: date,
    usage: str,
    units: int,
    gross: Decimal,
    currency: str,
    rate: Decimal,
) -> dict[str, Any]:
    return {
        "line_id": f"sandbox-{track.isrc}-{store}-{territory}-{usage}-{day.isoformat()}",
        "territory": territory,
        "sale_period": f"{day:%Y-%m}",
        "isrc": track.isrc,
        "upc": release.upc,
        "usage_type": usage,
        "units": units,
        "gross": str(gross),
        "net": str((gross * _NET_RATIO).quantize(_QUANTUM)),
        "currency": currency,
        "fx_rate": str(rate),
    }


def report_day(session: Session, account_id: str, day: date) -> int:
    """Report one sale day through the DSP feed's processing; returns how many lines were imported."""
    imported = 0
    for payload in day_reports(session, account_id, day):
        store = payload["data"]["dsp"]
        outcome = dsp_sync.process_and_announce(
            session, f"sandbox_sales_{account_id}_{store}_{day}", payload, environment="sandbox"
        )
        if outcome.import_result is not None:
            imported += len(payload["data"]["lines"]) - len(outcome.import_result.unmatched)
    return imported
