"""Mock smart links: one for the live release (streaming buttons), one for an upcoming release
(pre-saves until release day), each with two weeks of page views, clicks and pre-saves to show in the statistics."""

import random
import secrets
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from server import clock
from server.db.models.smartlinks import SmartLinkHit
from server.domain import smartlinks as smartlink_rules
from server.principal import Principal
from server.representations.smart_links import represent
from server.services import events, smartlinks

_DESTINATIONS = {
    "spotify": "https://open.spotify.com/album/{code}",
    "apple_music": "https://music.apple.com/de/album/{slug}/{number}",
    "deezer": "https://www.deezer.com/album/{number}",
    "youtube_music": "https://music.youtube.com/playlist?list=OLAK5uy_{code}",
    "tidal": "https://tidal.com/browse/album/{number}",
    "bandcamp": "https://auroravale.bandcamp.com/album/{slug}",
}
_COUNTRIES = ["DE", "DE", "DE", "AT", "CH", "NL", "GB", "US", None]
_REFERRERS = [None, "https://www.instagram.com/", "https://l.facebook.com/", "https://www.tiktok.com/", None]
_DEVICES = ["mobile", "mobile", "mobile", "desktop", "tablet"]


def seed_smartlinks(session: Session, principal: Principal, live_release_id: str, upcoming_release_id: str) -> None:

    rng = random.Random(20261126)  # the same statistics for every mock account
    # Slugs are unique across the platform (the public URL names no account): the account id's tail tells them apart.
    suffix = principal.account_id[-8:]
    for release_id, slug, presave in (
        (live_release_id, f"night-ferry-{suffix}", {"enabled": False}),
        (upcoming_release_id, f"copper-rain-{suffix}", {"enabled": True, "time_zone": "Europe/Berlin"}),
    ):
        number = rng.randrange(1_700_000_000, 1_799_999_999)
        code = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") for _ in range(22))
        link = smartlinks.create(
            session,
            principal,
            {
                "release_id": release_id,
                "slug": slug,
                "destinations": [
                    {"service": s, "url": url.format(slug=slug, number=number, code=code)}
                    for s, url in _DESTINATIONS.items()
                ],
                "presave": presave,
                "metadata": {"campaign": "demo"},
            },
        )
        events.emit(session, principal, "smartlink.created", represent(link))
        _hits(
            session,
            link.id,
            [b.service for b in smartlink_rules.buttons(link, smartlink_rules.mode(link))],
            bool(presave["enabled"]),
            rng,
        )


def _hits(session: Session, link_id: str, services: list[str], presaves: bool, rng: random.Random) -> None:
    """Fourteen days of traffic: views from a pool of visitors, about a third of them clicking, a few bots."""
    today = clock.now().astimezone(UTC).date()
    rows = []
    for days_ago in range(14, -1, -1):
        day = today - timedelta(days=days_ago)
        visitors = [secrets.token_hex(32) for _ in range(rng.randrange(8, 30))]
        for visitor in visitors:
            country, referrer, device = rng.choice(_COUNTRIES), rng.choice(_REFERRERS), rng.choice(_DEVICES)
            base = {"smartlink_id": link_id, "country": country, "device": device, "visitor_hash": visitor}
            base["referrer_host"] = referrer and referrer.split("/")[2].removeprefix("www.")
            moment = datetime.combine(day, time(rng.randrange(0, 24), rng.randrange(0, 60)), tzinfo=UTC)
            if moment > clock.now():
                continue
            for _ in range(rng.choice([1, 1, 1, 2])):
                rows.append({**base, "kind": "view", "service": None, "is_bot": False, "occurred_at": moment})
            if rng.random() < 0.4:
                kind = "presave" if presaves and rng.random() < 0.5 else "click"
                service = rng.choice(["spotify", "apple_music", "deezer"] if kind == "presave" else services)
                rows.append({**base, "kind": kind, "service": service, "is_bot": False, "occurred_at": moment})
        crawled = datetime.combine(day, time(0, 5), tzinfo=UTC)
        rows.append(
            {
                "smartlink_id": link_id,
                "kind": "view",
                "service": None,
                "country": "US",
                "referrer_host": None,
                "device": "other",
                "visitor_hash": secrets.token_hex(32),
                "is_bot": True,
                "occurred_at": min(crawled, clock.now()),
            }
        )
    session.execute(insert(SmartLinkHit), rows)
