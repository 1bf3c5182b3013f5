"""Mock money: splits on the releases that went live and a year of store report lines.

Lines go through the real importer (dedupe, FX conversion, largest-remainder allocation to the split in force),
one report per store and month, so the sandbox balance, the summaries and the per-line amounts are what the API
computes for real data. The splits are historical (they predate the lines), so they are written as rows: the API
itself refuses an `effective_from` in the past.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.splits import Split, SplitShare
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.ids import new_id
from server.principal import Principal
from server.representations.splits import represent as represent_split
from server.services import earnings, events

_EARNING_STATES = ("live", "takedown_requested", "taken_down")
_STORES = {  # store → (revenue per stream in EUR, share of the streams)
    "spotify": (Decimal("0.0031"), 0.45),
    "apple_music": (Decimal("0.0058"), 0.2),
    "amazon_music": (Decimal("0.0040"), 0.1),
    "deezer": (Decimal("0.0036"), 0.08),
    "youtube_music": (Decimal("0.0012"), 0.12),
    "tidal": (Decimal("0.0110"), 0.05),
}
_TERRITORIES = {"DE": 0.3, "US": 0.2, "GB": 0.12, "FR": 0.1, "SE": 0.08, "NL": 0.07, "JP": 0.06, "BR": 0.07}
_USD_TERRITORIES = {"US", "BR", "JP"}  # reported in USD, converted at the month's rate
_NET_RATIO = Decimal("0.85")  # what the store passes on after its fees


def _month_start(day: date, back: int) -> date:
    """The first day of the month `back` months before `day`'s (negative: after)."""
    year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
    return date(year, month + 1, 1)


def _month_end(start: date) -> date:
    return _month_start(start, -1) - timedelta(days=1)


def _split(
    session: Session,
    principal: Principal,
    *,
    release_id: str | None,
    track_id: str | None,
    shares: list[tuple[Person, str, int, bool]],
    effective_from: date,
    version: int = 1,
) -> Split:
    now = utcnow()
    split = Split(
        id=new_id("spl"),
        account_id=principal.account_id,
        environment=principal.environment,
        release_id=release_id,
        track_id=track_id,
        version=version,
        effective_from=effective_from,
        created_at=datetime.combine(effective_from - timedelta(days=3), time(9), tzinfo=now.tzinfo),
        updated_at=now,
    )
    session.add(split)
    session.flush()
    rows = [
        SplitShare(
            account_id=principal.account_id,
            environment=principal.environment,
            split_id=split.id,
            person_id=person.id,
            role=role,
            share_bps=bps,
            acceptance_status="accepted" if accepted else "pending",
            accepted_at=now if accepted else None,
        )
        for person, role, bps, accepted in shares
    ]
    session.add_all(rows)
    session.flush()

    events.emit(session, principal, "split.created", represent_split(split, rows))
    return split


def seed_money(session: Session, principal: Principal) -> None:
    today = utcnow().date()
    year_ago = _month_start(today, 13)
    tenant = (
        col(Release.account_id) == principal.account_id,
        col(Release.environment) == principal.environment,
    )
    earning = list(session.exec(select(Release).where(*tenant, col(Release.status).in_(_EARNING_STATES))).all())
    people = list(
        session.exec(
            select(Person).where(
                col(Person.account_id) == principal.account_id, col(Person.environment) == principal.environment
            )
        ).all()
    )
    if not earning or len(people) < 3:
        return
    mara, jonas, lea = people[0], people[1], people[-1]
    track_of: dict[str, list[Track]] = {}
    for release in earning:
        track_of[release.id] = list(
            session.exec(select(Track).where(col(Track.release_id) == release.id).order_by(col(Track.id))).all()
        )
        v1 = _split(
            session,
            principal,
            release_id=release.id,
            track_id=None,
            shares=[(mara, "artist", 6000, True), (jonas, "producer", 4000, True)],
            effective_from=year_ago,
        )
        if release.status == "live":
            # Version 2 brings in a featured artist who has not accepted yet: her share is held.
            v2_from = _month_start(today, 3)
            v1.status, v1.superseded_at = "superseded", utcnow()
            session.add(v1)
            session.flush()  # frees the one-active-version slot
            v2 = _split(
                session,
                principal,
                release_id=release.id,
                track_id=None,
                shares=[
                    (mara, "artist", 5000, True),
                    (jonas, "producer", 3000, True),
                    (lea, "featured_artist", 2000, False),
                ],
                effective_from=v2_from,
                version=2,
            )
            v1.superseded_by = v2.id
            session.add(v1)
            # The first track's own split wins over the release's for that track.
            _split(
                session,
                principal,
                release_id=None,
                track_id=track_of[release.id][0].id,
                shares=[
                    (mara, "composer", 3333, True),
                    (jonas, "composer", 3333, True),
                    (lea, "lyricist", 3334, True),
                ],
                effective_from=year_ago,
            )

    rng = random.Random(20261126)  # demo numbers, reproducible
    for back in range(12, 0, -1):
        start = _month_start(today, back)
        end = _month_end(start)
        # Reports lag the sale by about two months; the last two months are not reported yet.
        reported_at = datetime.combine(_month_start(start, -2) + timedelta(days=4), time(6), tzinfo=utcnow().tzinfo)
        if reported_at > utcnow():
            continue
        usd_rate = Decimal("0.9") + Decimal(rng.randint(0, 600)) / Decimal(10000)
        # One statement per month covering every store (as an aggregator's monthly statement does): a dozen imports
        # instead of one per store and month keeps account creation fast.
        month: list[earnings.MatchedLine] = []
        for store, (per_stream, store_share) in _STORES.items():
            lines: list[earnings.MatchedLine] = []
            for release in earning:
                for track in track_of.get(release.id, []):
                    monthly = rng.randint(8_000, 60_000)
                    for territory, territory_share in _TERRITORIES.items():
                        units = max(1, int(monthly * store_share * territory_share * rng.uniform(0.7, 1.3)))
                        gross = (per_stream * units * Decimal(str(round(rng.uniform(0.9, 1.1), 4)))).quantize(
                            earnings.QUANTUM
                        )
                        in_usd = territory in _USD_TERRITORIES
                        lines.append(
                            _line(
                                store=store,
                                territory=territory,
                                start=start,
                                end=end,
                                release=release,
                                track=track,
                                units=units,
                                gross_eur=gross,
                                in_usd=in_usd,
                                usd_rate=usd_rate,
                            )
                        )
            # Now and then a store corrects an earlier month: a negative adjustment line.
            if back % 4 == 0 and lines:
                original = lines[rng.randrange(len(lines))]
                adjustment = earnings.ReportLine(
                    **{
                        **original.line.__dict__,
                        "line_id": original.line.line_id + "-adj",
                        "units": -(original.line.units // 10 or 1),
                        "gross": -(original.line.gross / 10).quantize(earnings.QUANTUM),
                        "net": -(original.line.net / 10).quantize(earnings.QUANTUM),
                    }
                )
                lines.append(earnings.MatchedLine(adjustment, original.release_id, original.track_id))
            month += lines
        earnings.import_for_tenant(
            session,
            principal.account_id,
            principal.environment,
            sender="seed",
            report_id=f"mock-{principal.account_id}-{start:%Y-%m}",
            reported_at=reported_at,
            lines=month,
        )


def _line(
    *,
    store: str,
    territory: str,
    start: date,
    end: date,
    release: Release,
    track: Track,
    units: int,
    gross_eur: Decimal,
    in_usd: bool,
    usd_rate: Decimal,
) -> earnings.MatchedLine:
    currency, fx_rate, gross = "EUR", Decimal(1), gross_eur
    if in_usd:
        currency, fx_rate = "USD", usd_rate
        gross = (gross_eur / usd_rate).quantize(earnings.QUANTUM)
    net = (gross * _NET_RATIO).quantize(earnings.QUANTUM)
    report_line = earnings.ReportLine(
        line_id=f"{store}-{start:%Y-%m}-{track.id}-{territory}",
        store=store,
        territory=territory,
        sale_period_start=start,
        sale_period_end=end,
        isrc=track.isrc,
        upc=release.upc,
        usage_type="stream",
        units=units,
        gross=gross,
        net=net,
        currency=currency,
        fx_rate=fx_rate,
    )
    return earnings.MatchedLine(report_line, release.id, track.id)
