"""Earnings: importing store report lines (matched to the catalogue, split by the shares in force), listing them and
summing them.

An import is idempotent per line (a dedupe key from the sender and its line id), converts each line
into the account's currency at the line's FX rate, and allocates the converted amount to the split version in force
for the line's sale period (a track's split before its release's) by largest remainder, so the payees' parts add up
exactly to the line. The allocations are stored with the line: splits are never retroactive, so they cannot change
afterwards; only the shares' acceptance can, which the balance reads at query time.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, func, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from server.db.models.accounts import Account
from server.db.models.earnings import (
    EarningsAllocation,
    EarningsLine,
    EarningsReportTotal,
    EarningsShareTotal,
    EarningsSummaryTotal,
)
from server.db.models.releases import Release
from server.db.models.splits import Split, SplitShare
from server.db.models.tracks import Track
from server.db.sums import add_to_totals, dialect_of, exact_sum, read_sum
from server.db.types import utcnow
from server.domain.errors import FieldError, validation_failed
from server.domain.money import EARNINGS_QUANTUM, money_text
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate
from server.principal import Principal
from server.services import events
from server.timefmt import rfc3339

QUANTUM = EARNINGS_QUANTUM
_UNITS_PER_ONE = 10**10
_CHUNK = 500


def allocate(amount: Decimal, shares_bps: Sequence[int]) -> list[Decimal]:
    """Split `amount` by basis points at 1e-10 precision, by largest remainder: the parts sum exactly to `amount`.

    Each part is first rounded towards zero; the units left over go one each to the parts with the largest
    remainders (ties to the earlier share, so the result is deterministic). A negative amount (an adjustment) is
    allocated as its absolute value and negated, so a correction mirrors the line it corrects.
    """
    total_bps = sum(shares_bps)
    if total_bps <= 0:
        raise ValueError("shares must have a positive total")
    units = int(amount.quantize(QUANTUM) * _UNITS_PER_ONE)
    sign = -1 if units < 0 else 1
    magnitude = abs(units)
    floors = [magnitude * bps // total_bps for bps in shares_bps]
    remainders = [magnitude * bps % total_bps for bps in shares_bps]
    left = magnitude - sum(floors)
    for index in sorted(range(len(shares_bps)), key=lambda i: (-remainders[i], i))[:left]:
        floors[index] += 1
    return [(Decimal(sign * part) / _UNITS_PER_ONE).quantize(QUANTUM) for part in floors]


@dataclass(frozen=True)
class ReportLine:
    """One line of a store report as the sender describes it, before matching."""

    line_id: str  # the sender's identity of the line (dedupe)
    store: str
    territory: str
    sale_period_start: date
    sale_period_end: date
    isrc: str | None
    upc: str | None
    usage_type: str
    units: int
    gross: Decimal
    net: Decimal
    currency: str
    fx_rate: Decimal | None  # None: only valid when `currency` is the account's


@dataclass(frozen=True)
class MatchedLine:
    line: ReportLine
    release_id: str
    track_id: str | None


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (line_id, reason)
    event_ids: list[str] = field(default_factory=list)


def dedupe_key(sender: str, line_id: str) -> str:
    """Lines are deduplicated on the sender's line id (the DSP feed's contract), so a report sent again, even
    under another report id, never counts a line twice."""
    return hashlib.sha256(f"{sender}\x1f{line_id}".encode()).hexdigest()


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def match_lines(
    session: Session, lines: Sequence[ReportLine], *, environment: str | None = None
) -> tuple[dict[tuple[str, str], list[MatchedLine]], list[tuple[str, str]]]:
    """Find each line's tenant and track by ISRC (the UPC, when reported, must name the track's release).

    A sender serves every account, so the ISRC is looked up across tenants. An ISRC names one recording per
    environment on the whole platform (`identifiers.ensure_isrc_free`, backed by a unique constraint), so a line
    has at most one owner per environment: nobody can block another account's royalties by claiming its ISRC.
    `environment` names the namespace the sender reports for (the sandbox's simulated sales: `sandbox`); without
    it (the sub-distributor's feed) a production owner is matched first and a sandbox-only ISRC matches the sandbox
    track, so sandbox releases go through the production importer too.
    """
    isrcs = sorted({line.isrc for line in lines if line.isrc})
    candidates: dict[str, list[tuple[Track, Release]]] = defaultdict(list)
    for chunk in _chunks(isrcs):
        statement = (
            select(Track, Release)
            .join(Release, col(Release.id) == col(Track.release_id))
            .where(col(Track.isrc).in_(chunk))
        )
        if environment is not None:
            statement = statement.where(col(Track.environment) == environment)
        for track, release in session.exec(statement).all():
            if track.isrc:
                candidates[track.isrc].append((track, release))
    matched: dict[tuple[str, str], list[MatchedLine]] = defaultdict(list)
    unmatched: list[tuple[str, str]] = []
    for line in lines:
        found = candidates.get(line.isrc or "", [])
        owner = next((c for c in found if c[0].environment == "production"), found[0] if found else None)
        if owner is None:
            unmatched.append((line.line_id, "unknown_isrc"))
            continue
        track, release = owner
        if line.upc and release.upc and release.upc != line.upc:
            unmatched.append((line.line_id, "upc_mismatch"))
            continue
        matched[(track.account_id, track.environment)].append(MatchedLine(line, release.id, track.id))
    return matched, unmatched


class _SplitIndex:
    """The splits of a set of releases and tracks, to find the version in force for a sale period."""

    def __init__(self, session: Session, account_id: str, environment: str, lines: Sequence[MatchedLine]) -> None:
        release_ids = sorted({m.release_id for m in lines})
        track_ids = sorted({m.track_id for m in lines if m.track_id})
        tenant = (col(Split.account_id) == account_id, col(Split.environment) == environment)
        splits: list[Split] = []
        for chunk in _chunks(release_ids):
            splits += session.exec(select(Split).where(*tenant, col(Split.release_id).in_(chunk))).all()
        for chunk in _chunks(track_ids):
            splits += session.exec(select(Split).where(*tenant, col(Split.track_id).in_(chunk))).all()
        self.by_target: dict[str, list[Split]] = defaultdict(list)
        for split in splits:
            self.by_target[split.track_id or split.release_id or ""].append(split)
        for versions in self.by_target.values():
            versions.sort(key=lambda s: s.version, reverse=True)
        self.shares: dict[str, list[SplitShare]] = defaultdict(list)
        split_ids = [s.id for s in splits]
        for chunk in _chunks(split_ids):
            rows = session.exec(select(SplitShare).where(col(SplitShare.split_id).in_(chunk))).all()
            for share in rows:
                self.shares[share.split_id].append(share)
        for shares in self.shares.values():
            shares.sort(key=lambda s: s.id or 0)

    def in_force(self, release_id: str, track_id: str | None, day: date) -> Split | None:
        """The most specific split (track, then release) whose newest version effective on `day` exists."""
        for target in (track_id, release_id):
            if not target:
                continue
            for split in self.by_target.get(target, []):
                if split.effective_from <= day:
                    return split
        return None


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the lines, skipping those already stored (same dedupe key); the ids of the rows actually inserted.

    RETURNING of an `ON CONFLICT DO NOTHING` insert names only the rows it inserted (both backends), so a line
    another transaction stored first, even concurrently, is never counted as ours.
    """
    table = EarningsLine.__table__  # type: ignore[attr-defined]
    dialect = dialect_of(session)
    inserted: set[str] = set()
    for chunk in _chunks(rows):
        if dialect == "postgresql":
            statement: Any = pg_insert(table).on_conflict_do_nothing(constraint="uq_earnings_lines_dedupe")
        else:
            statement = sqlite_insert(table).on_conflict_do_nothing(
                index_elements=["account_id", "environment", "dedupe_key"]
            )
        inserted.update(session.execute(statement.returning(table.c.id), list(chunk)).scalars())
    return inserted


def import_for_tenant(
    session: Session,
    account_id: str,
    environment: str,
    *,
    sender: str,
    report_id: str,
    reported_at: datetime,
    lines: Sequence[MatchedLine],
    emit_event: bool = True,
) -> ImportResult:
    """Store one report's matched lines for one tenant, allocate them, and emit `earnings.imported`.

    Runs in the caller's transaction. Lines seen before (same sender, report and line id) are skipped; a report
    whose lines were all seen before emits no event.
    """
    result = ImportResult()
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError(account_id)
    currency = account.default_currency
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for matched in lines:
        line = matched.line
        fx_rate = line.fx_rate
        if fx_rate is None:
            if line.currency != currency:
                result.unmatched.append((line.line_id, "missing_fx_rate"))
                continue
            fx_rate = Decimal(1)
        rows.append(
            {
                "id": new_id("ern"),
                "account_id": account_id,
                "environment": environment,
                "created_at": now,
                "updated_at": now,
                "store": line.store,
                "territory": line.territory,
                "sale_period_start": line.sale_period_start,
                "sale_period_end": line.sale_period_end,
                "reported_at": reported_at,
                "release_id": matched.release_id,
                "track_id": matched.track_id,
                "isrc": line.isrc,
                "upc": line.upc,
                "usage_type": line.usage_type,
                "units": line.units,
                "gross": line.gross,
                "net": line.net,
                "currency": line.currency,
                "fx_rate": fx_rate,
                "amount": (line.net * fx_rate).quantize(QUANTUM),
                "account_currency": currency,
                "source_report_id": report_id[:100],
                "dedupe_key": dedupe_key(sender, line.line_id),
            }
        )
    if not rows:
        return result
    inserted_ids = _insert_ignoring_duplicates(session, rows)
    inserted = [row for row in rows if row["id"] in inserted_ids]
    result.imported = len(inserted)
    result.duplicates = len(rows) - len(inserted)
    if not inserted:
        return result

    index = _SplitIndex(session, account_id, environment, lines)
    allocations: list[dict[str, Any]] = []
    for row in inserted:
        split = index.in_force(row["release_id"], row["track_id"], row["sale_period_start"])
        shares = index.shares.get(split.id, []) if split else []
        if split is None or not shares:
            continue
        parts = allocate(row["amount"], [share.share_bps for share in shares])
        for share, part in zip(shares, parts, strict=True):
            allocations.append(
                {
                    "account_id": account_id,
                    "environment": environment,
                    "line_id": row["id"],
                    "split_id": split.id,
                    "share_id": share.id,
                    "amount": part,
                }
            )
    for chunk in _chunks(allocations, 1000):
        session.execute(EarningsAllocation.__table__.insert(), list(chunk))  # type: ignore[attr-defined]
    _add_to_totals(
        session,
        account_id=account_id,
        environment=environment,
        currency=currency,
        reported_at=reported_at,
        inserted=inserted,
        allocations=allocations,
    )

    if emit_event:
        stores = {row["store"] for row in inserted}
        document = {
            "object": "earnings_import",
            "environment": environment,
            "store": next(iter(stores)) if len(stores) == 1 else None,
            "sale_period": {
                "start": min(row["sale_period_start"] for row in inserted).isoformat(),
                "end": max(row["sale_period_end"] for row in inserted).isoformat(),
            },
            "line_count": len(inserted),
            "totals": _totals_of(inserted),
            "currency": currency,
            "reported_at": rfc3339(reported_at),
        }
        event = events.emit_for(session, account_id, environment, "earnings.imported", document)
        result.event_ids.append(event.id)
    return result


SUMMARY_DIMENSIONS = ("release", "track", "period", "store", "territory")


def _summary_key(dimension: str, row: dict[str, Any]) -> str:
    """A line's group key in `dimension`: the same value `_group_key` computes in SQL."""
    if dimension == "release":
        return str(row["release_id"])
    if dimension == "track":
        return str(row["track_id"] or row["release_id"])
    if dimension == "period":
        return f"{row['sale_period_start']:%Y-%m}"
    return str(row[dimension])


def _add_to_totals(
    session: Session,
    *,
    account_id: str,
    environment: str,
    currency: str,
    reported_at: datetime,
    inserted: Sequence[dict[str, Any]],
    allocations: Sequence[dict[str, Any]],
) -> None:
    """Add the lines this import inserted (never the duplicates it skipped) and their allocations to the totals the
    balance and the summaries read (`server.db.models.earnings`), in the import's transaction: the totals commit or
    roll back with the lines."""
    tenant = {"account_id": account_id, "environment": environment, "account_currency": currency}
    report_total = {
        **tenant,
        "reported_at": reported_at,
        "line_count": len(inserted),
        "amount": sum((row["amount"] for row in inserted), Decimal(0)),
    }
    add_to_totals(session, EarningsReportTotal.__table__, [report_total], ["line_count", "amount"])  # type: ignore[attr-defined]

    by_share: dict[int, Decimal] = defaultdict(Decimal)
    for allocation in allocations:
        by_share[allocation["share_id"]] += allocation["amount"]
    share_totals = [
        {**tenant, "reported_at": reported_at, "share_id": share_id, "amount": amount}
        for share_id, amount in by_share.items()
    ]
    add_to_totals(session, EarningsShareTotal.__table__, share_totals, ["amount"])  # type: ignore[attr-defined]

    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in inserted:
        fx_rate = row["fx_rate"].quantize(QUANTUM)
        for dimension in SUMMARY_DIMENSIONS:
            key = (dimension, _summary_key(dimension, row), row["sale_period_start"], row["sale_period_end"], fx_rate)
            group = groups.get(key)
            if group is None:
                group = groups[key] = {
                    **tenant,
                    "dimension": key[0],
                    "group_key": key[1],
                    "sale_period_start": key[2],
                    "sale_period_end": key[3],
                    "fx_rate": fx_rate,
                    "line_count": 0,
                    "units": 0,
                    "gross": Decimal(0),
                    "amount": Decimal(0),
                }
            group["line_count"] += 1
            group["units"] += int(row["units"])
            group["gross"] += row["gross"].quantize(QUANTUM)  # as the line's `Money` column stores it
            group["amount"] += row["amount"]
    add_to_totals(
        session,
        EarningsSummaryTotal.__table__,  # type: ignore[attr-defined]
        list(groups.values()),
        ["line_count", "units", "gross", "amount"],
    )


def _totals_of(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    gross = sum((row["gross"] * row["fx_rate"] for row in rows), Decimal(0))
    net = sum((row["amount"] for row in rows), Decimal(0))
    return {
        "line_count": len(rows),
        "units": sum(int(row["units"]) for row in rows),
        "gross": money_text(gross),
        "net": money_text(net),
    }


def import_report(
    session: Session,
    *,
    sender: str,
    report_id: str,
    reported_at: datetime,
    lines: Sequence[ReportLine],
    environment: str | None = None,
) -> ImportResult:
    """Import a sender's report that may span several accounts (the DSP sub-distributor's `report.lines`)."""
    matched, unmatched = match_lines(session, lines, environment=environment)
    total = ImportResult(unmatched=list(unmatched))
    for (account_id, tenant_environment), tenant_lines in sorted(matched.items()):
        part = import_for_tenant(
            session,
            account_id,
            tenant_environment,
            sender=sender,
            report_id=report_id,
            reported_at=reported_at,
            lines=tenant_lines,
        )
        total.imported += part.imported
        total.duplicates += part.duplicates
        total.unmatched += part.unmatched
        total.event_ids += part.event_ids
    return total


# --- reads -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    release_id: str | None = None
    track_id: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    store: str | None = None
    territory: str | None = None


def parse_filters(
    *,
    release_id: str | None,
    track_id: str | None,
    period_start: str | None,
    period_end: str | None,
    store: str | None,
    territory: str | None,
) -> Filters:
    start = date.fromisoformat(period_start) if period_start else None
    end = date.fromisoformat(period_end) if period_end else None
    if start and end and end < start:
        raise validation_failed(
            [FieldError("period_range_invalid", "query:period_end", "period_end must not be before period_start.")]
        )
    return Filters(release_id, track_id, start, end, store, territory)


def _where(principal: Principal, filters: Filters) -> list[Any]:
    where: list[Any] = [
        col(EarningsLine.account_id) == principal.account_id,
        col(EarningsLine.environment) == principal.environment,
    ]
    if filters.release_id:
        where.append(col(EarningsLine.release_id) == filters.release_id)
    if filters.track_id:
        where.append(col(EarningsLine.track_id) == filters.track_id)
    if filters.period_start:
        where.append(col(EarningsLine.sale_period_start) >= filters.period_start)
    if filters.period_end:
        where.append(col(EarningsLine.sale_period_end) <= filters.period_end)
    if filters.store:
        where.append(col(EarningsLine.store) == filters.store)
    if filters.territory:
        where.append(col(EarningsLine.territory) == filters.territory)
    return where


def list_page(
    session: Session, principal: Principal, filters: Filters, *, limit: int, cursor: str | None
) -> Page[EarningsLine]:
    fingerprint = {
        "env": principal.environment,
        "release_id": filters.release_id,
        "track_id": filters.track_id,
        "period_start": filters.period_start,
        "period_end": filters.period_end,
        "store": filters.store,
        "territory": filters.territory,
    }
    return paginate(
        session,
        EarningsLine,
        where=_where(principal, filters),
        list_name="earnings",
        filters=fingerprint,
        limit=limit,
        cursor=cursor,
    )


STORE_NAMES = {
    "spotify": "Spotify",
    "apple_music": "Apple Music",
    "itunes": "iTunes",
    "amazon_music": "Amazon Music",
    "youtube_music": "YouTube Music",
    "youtube_content_id": "YouTube Content ID",
    "youtube": "YouTube",
    "deezer": "Deezer",
    "tidal": "TIDAL",
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "soundcloud": "SoundCloud",
    "pandora": "Pandora",
    "audiomack": "Audiomack",
    "anghami": "Anghami",
    "boomplay": "Boomplay",
    "jiosaavn": "JioSaavn",
    "napster": "Napster",
    "tencent_music": "Tencent Music",
    "netease_cloud_music": "NetEase Cloud Music",
}

COUNTRY_NAMES = {
    "AR": "Argentina",
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "BR": "Brazil",
    "CA": "Canada",
    "CH": "Switzerland",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "IN": "India",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "MX": "Mexico",
    "NL": "Netherlands",
    "NO": "Norway",
    "NZ": "New Zealand",
    "PL": "Poland",
    "PT": "Portugal",
    "SE": "Sweden",
    "US": "United States",
    "ZA": "South Africa",
}

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _group_key(dialect: str, group_by: str) -> Any:
    if group_by == "release":
        return col(EarningsLine.release_id)
    if group_by == "track":
        # Release-level lines (no track) form one group per release, keyed by the release id.
        return func.coalesce(col(EarningsLine.track_id), col(EarningsLine.release_id))
    if group_by == "period":
        start = col(EarningsLine.sale_period_start)
        if dialect == "sqlite":
            return func.strftime("%Y-%m", start)
        return func.to_char(start, "YYYY-MM")
    if group_by == "store":
        return col(EarningsLine.store)
    if group_by == "territory":
        return col(EarningsLine.territory)
    raise ValueError(group_by)


def summarize(session: Session, principal: Principal, filters: Filters, group_by: str) -> dict[str, Any]:
    """Sums per group in SQL. Rows are grouped by key *and* FX rate: `net` is the sum of the stored converted
    `amount`s, while `gross` is converted per rate group (a handful of rates per currency and month), so the
    conversion stays exact.

    Read from the maintained totals (`EarningsSummaryTotal`, one row per group, sale period and rate: the cost grows
    with the months of history, not the lines) whenever they answer exactly, i.e. when the only filters are the
    period and one on the grouped dimension itself; any other filter needs the lines.
    """
    dialect = dialect_of(session)
    account = session.get(Account, principal.account_id)
    currency = account.default_currency if account else "EUR"
    if _totals_answer(filters, group_by):
        rows = _summary_rows_from_totals(session, principal, filters, group_by=group_by, currency=currency)
    else:
        rows = _summary_rows_from_lines(session, principal, filters, group_by=group_by, currency=currency)
    groups: dict[str, dict[str, Any]] = {}
    # In (key, rate) order: the Decimal additions below round at 28 digits, so a fixed order gives the same digits
    # whichever way the rows were read.
    for key, fx_rate, line_count, units, gross, net in sorted(rows, key=lambda r: (r[0], r[1])):
        group = groups.setdefault(key, {"line_count": 0, "units": 0, "gross": Decimal(0), "net": Decimal(0)})
        group["line_count"] += int(line_count)
        group["units"] += int(units)
        group["gross"] += read_sum(dialect, gross) * fx_rate
        group["net"] += read_sum(dialect, net)
    labels = _labels(session, group_by, list(groups))
    rendered = [
        {
            "key": group_key,
            "label": labels.get(group_key, group_key),
            "line_count": values["line_count"],
            "units": values["units"],
            "gross": money_text(values["gross"]),
            "net": money_text(values["net"]),
        }
        for group_key, values in groups.items()
    ]
    if group_by == "period":
        rendered.sort(key=lambda g: g["key"])
    else:
        rendered.sort(key=lambda g: (-Decimal(g["net"]), g["key"]))
    total = {
        "line_count": sum(v["line_count"] for v in groups.values()),
        "units": sum(v["units"] for v in groups.values()),
        "gross": money_text(sum((v["gross"] for v in groups.values()), Decimal(0))),
        "net": money_text(sum((v["net"] for v in groups.values()), Decimal(0))),
    }
    return {
        "object": "earnings_summary",
        "environment": principal.environment,
        "group_by": group_by,
        "currency": currency,
        "groups": rendered,
        "total": total,
    }


_GROUPED_FILTER = {"release": "release_id", "track": "track_id", "store": "store", "territory": "territory"}


def _totals_answer(filters: Filters, group_by: str) -> bool:
    """Whether the summary totals hold the exact answer: they are keyed by the grouped dimension, the sale period and
    the rate, so they can filter on those only."""
    for dimension, name in _GROUPED_FILTER.items():
        if getattr(filters, name) and dimension != group_by:
            return False
    # A track group's key is the release id for release-level lines: only a track id filters like `track_id = …`.
    return not (group_by == "track" and filters.track_id and not has_prefix(filters.track_id, "trk"))


def _summary_rows_from_totals(
    session: Session, principal: Principal, filters: Filters, *, group_by: str, currency: str
) -> list[tuple[Any, ...]]:
    dialect = dialect_of(session)
    total = EarningsSummaryTotal
    where: list[Any] = [
        col(total.account_id) == principal.account_id,
        col(total.environment) == principal.environment,
        col(total.account_currency) == literal(currency),
        col(total.dimension) == group_by,
    ]
    grouped_value = getattr(filters, _GROUPED_FILTER[group_by]) if group_by in _GROUPED_FILTER else None
    if grouped_value:
        where.append(col(total.group_key) == grouped_value)
    if filters.period_start:
        where.append(col(total.sale_period_start) >= filters.period_start)
    if filters.period_end:
        where.append(col(total.sale_period_end) <= filters.period_end)
    statement = (
        select(  # type: ignore[call-overload]
            col(total.group_key),
            col(total.fx_rate),
            func.coalesce(func.sum(col(total.line_count)), 0),
            func.coalesce(func.sum(col(total.units)), 0),
            exact_sum(dialect, col(total.gross)),
            exact_sum(dialect, col(total.amount)),
        )
        .where(*where)
        .group_by(col(total.group_key), col(total.fx_rate))
    )
    return [tuple(row) for row in session.exec(statement).all()]


def _summary_rows_from_lines(
    session: Session, principal: Principal, filters: Filters, *, group_by: str, currency: str
) -> list[tuple[Any, ...]]:
    dialect = dialect_of(session)
    key = _group_key(dialect, group_by).cast(String)
    statement = (
        select(  # type: ignore[call-overload]
            key,
            col(EarningsLine.fx_rate),
            func.count(),
            func.coalesce(func.sum(col(EarningsLine.units)), 0),
            exact_sum(dialect, col(EarningsLine.gross)),
            exact_sum(dialect, col(EarningsLine.amount)),
        )
        .where(*_where(principal, filters), col(EarningsLine.account_currency) == literal(currency))
        .group_by(key, col(EarningsLine.fx_rate))
    )
    return [tuple(row) for row in session.exec(statement).all()]


def _labels(session: Session, group_by: str, keys: list[str]) -> dict[str, str]:
    if group_by == "period":
        return {k: f"{_MONTHS[int(k[5:7]) - 1]} {k[:4]}" for k in keys}
    if group_by == "store":
        return {k: STORE_NAMES.get(k, k.replace("_", " ").title()) for k in keys}
    if group_by == "territory":
        return {k: COUNTRY_NAMES.get(k, k) for k in keys}
    labels: dict[str, str] = {}
    release_ids = [k for k in keys if has_prefix(k, "rel")]
    track_ids = [k for k in keys if has_prefix(k, "trk")]
    for chunk in _chunks(release_ids):
        for rid, title in session.exec(select(Release.id, Release.title).where(col(Release.id).in_(chunk))).all():
            labels[rid] = title
    for chunk in _chunks(track_ids):
        for tid, title in session.exec(select(Track.id, Track.title).where(col(Track.id).in_(chunk))).all():
            labels[tid] = title
    return labels
