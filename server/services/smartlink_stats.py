"""The hit log of smart-link pages: recording a view or click cheaply, and aggregating it into statistics.

Recording is on the public hot path: one INSERT per hit, no counter rows to read and rewrite. Everything else
(uniques, per-day series, breakdowns) is computed from the log when the owner asks.
"""

import hashlib
import hmac
import re
import secrets
import threading
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Date, cast, func, insert, select
from sqlmodel import Session, col

from server import clock
from server.db.models.smartlinks import SmartLink, SmartLinkHit

_BOT = re.compile(
    r"bot|crawl|spider|slurp|preview|fetch|scan|monitor|headless|lighthouse|curl|wget|python|java/|go-http|"
    r"httpclient|okhttp|axios|node-fetch|facebookexternalhit|whatsapp|telegram|discord|embedly|quora link",
    re.IGNORECASE,
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))", re.IGNORECASE)
_MOBILE = re.compile(r"mobi|iphone|ipod|android|windows phone|blackberry|opera mini", re.IGNORECASE)
_DESKTOP = re.compile(r"windows nt|macintosh|mac os x|x11|linux|cros", re.IGNORECASE)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# The edge proxy's geo lookup (Cloudflare's name for it). XX/T1 are its "unknown" and "Tor" values.
COUNTRY_HEADER = "cf-ipcountry"
_NO_COUNTRY = frozenset({"XX", "T1", "ZZ"})


@dataclass(frozen=True)
class Visitor:
    """What a hit may record about the browser: derived on arrival, the address itself is never kept."""

    address: str
    user_agent: str
    referrer: str | None
    country: str | None


def visitor(client: tuple[str, int] | None, headers: Mapping[str, str]) -> Visitor:
    """The visitor of a request, from its connection's peer and headers (the API's and the page's alike)."""
    return Visitor(
        # The connection's peer, as the rate limiter sees it (never X-Forwarded-For, which anyone can forge).
        address=str(client[0]) if client else "unknown",
        user_agent=headers.get("user-agent", ""),
        referrer=headers.get("referer"),
        country=country_of(headers.get(COUNTRY_HEADER)),
    )


class _DailySalt:
    """A random salt per UTC day, held only in this process's memory and forgotten the next day: a visitor hash
    cannot be linked across days or reversed by brute-forcing the IPv4 space, even with the database and the
    server's secrets in hand. (One server process per deployment; a restart mid-day re-counts returning visitors
    of that day once.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._day: date | None = None
        self._salt = b""

    def for_day(self, day: date) -> bytes:
        with self._lock:
            if day != self._day:
                self._day, self._salt = day, secrets.token_bytes(32)
            return self._salt


_salt = _DailySalt()


def visitor_hash(address: str, user_agent: str, day: date) -> str:
    message = f"{address}\n{user_agent}".encode()
    return hmac.new(_salt.for_day(day), message, hashlib.sha256).hexdigest()


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or _BOT.search(user_agent) is not None


def device_of(user_agent: str) -> str:
    if _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    if _DESKTOP.search(user_agent):
        return "desktop"
    return "other"


def referrer_host(referrer: str | None) -> str | None:
    """Only the host of the referring page: its path and query can carry personal data."""
    if not referrer:
        return None
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.removeprefix("www.")
    return host[:253] or None


def country_of(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    return code if _COUNTRY.match(code) and code not in _NO_COUNTRY else None


# A Core INSERT of the table, built once: the ORM's bulk-persistence pass over `insert(SmartLinkHit).values(...)`
# cost a third of a page view's CPU.
_INSERT_HIT = insert(SmartLinkHit.__table__)  # type: ignore[attr-defined]


def record(session: Session, link_id: str, kind: str, visitor: Visitor, service: str | None = None) -> None:
    """Append one hit (a single INSERT, no ORM object: this runs on every public page view and click)."""
    now = clock.now()
    session.execute(
        _INSERT_HIT,
        {
            "smartlink_id": link_id,
            "kind": kind,
            "service": service,
            "country": visitor.country,
            "referrer_host": referrer_host(visitor.referrer),
            "device": device_of(visitor.user_agent),
            "visitor_hash": visitor_hash(visitor.address, visitor.user_agent, now.astimezone(UTC).date()),
            "is_bot": is_bot(visitor.user_agent),
            "occurred_at": now,
        },
    )


def _day_of(session: Session) -> ColumnElement[Any]:
    """The UTC day of a hit as a comparable value on either backend."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(col(SmartLinkHit.occurred_at), 1, 10)  # stored as 'YYYY-MM-DD HH:MM:SS…' in UTC
    return cast(func.timezone("UTC", col(SmartLinkHit.occurred_at)), Date)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _ranked(counter: Counter[str], key: str, value: str) -> list[dict[str, Any]]:
    return [{key: name, value: n} for name, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))]


def _breakdown(views: Counter[str], clicks: Counter[str], key: str) -> list[dict[str, Any]]:
    names = sorted(set(views) | set(clicks), key=lambda name: (-views[name], -clicks[name], name))
    return [{key: name, "views": views[name], "clicks": clicks[name]} for name in names]


def stats(session: Session, link: SmartLink, start: date, end: date) -> dict[str, Any]:
    day = _day_of(session).label("day")
    where = (
        col(SmartLinkHit.smartlink_id) == link.id,
        col(SmartLinkHit.is_bot).is_(False),
        col(SmartLinkHit.occurred_at) >= datetime.combine(start, time(0), tzinfo=UTC),
        col(SmartLinkHit.occurred_at) < datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC),
    )
    hit = SmartLinkHit.__table__.c  # type: ignore[attr-defined]  # Core columns: plain row tuples
    grouped = session.execute(
        select(day, hit.kind, hit.service, hit.country, hit.referrer_host, hit.device, func.count())
        .where(*where)
        .group_by(day, hit.kind, hit.service, hit.country, hit.referrer_host, hit.device)
    ).all()
    uniques = dict(
        session.execute(
            select(hit.kind, func.count(func.distinct(hit.visitor_hash))).where(*where).group_by(hit.kind)
        ).all()
    )
    daily_unique = {
        _as_date(row_day): n
        for row_day, n in session.execute(
            select(day, func.count(func.distinct(hit.visitor_hash)))
            .where(*where, col(SmartLinkHit.kind) == "view")
            .group_by(day)
        ).all()
    }

    totals: Counter[str] = Counter()
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    clicks_by_service: Counter[str] = Counter()
    presaves_by_service: Counter[str] = Counter()
    views_by: dict[str, Counter[str]] = {"country": Counter(), "referrer": Counter(), "device": Counter()}
    clicks_by: dict[str, Counter[str]] = {"country": Counter(), "referrer": Counter(), "device": Counter()}
    for row_day, kind, service, country, referrer, device, count in grouped:
        totals[kind] += count
        per_day[_as_date(row_day)][kind] += count
        if kind == "click" and service:
            clicks_by_service[service] += count
        if kind == "presave" and service:
            presaves_by_service[service] += count
        if kind in ("view", "click"):
            target = views_by if kind == "view" else clicks_by
            target["country"][country or "ZZ"] += count
            target["referrer"][referrer or "direct"] += count
            target["device"][device or "other"] += count

    unique_views, unique_clicks = uniques.get("view", 0), uniques.get("click", 0)
    ctr = "0"
    if unique_views:
        rate = min(Decimal(1), Decimal(unique_clicks) / Decimal(unique_views))
        ctr = str(rate.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return {
        "object": "smartlink_stats",
        "environment": link.environment,
        "smartlink_id": link.id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "views": {"total": totals["view"], "unique": unique_views},
        "clicks": {
            "total": totals["click"],
            "unique": unique_clicks,
            "by_service": _ranked(clicks_by_service, "service", "clicks"),
        },
        "ctr": ctr,
        "presaves": {"total": totals["presave"], "by_service": _ranked(presaves_by_service, "service", "presaves")},
        "by_country": _breakdown(views_by["country"], clicks_by["country"], "country"),
        "by_referrer": _breakdown(views_by["referrer"], clicks_by["referrer"], "referrer"),
        "by_device": _breakdown(views_by["device"], clicks_by["device"], "device"),
        "daily": [
            {
                "date": d.isoformat(),
                "views": per_day[d]["view"],
                "unique_views": daily_unique.get(d, 0),
                "clicks": per_day[d]["click"],
                "presaves": per_day[d]["presave"],
            }
            for d in days
        ],
    }
