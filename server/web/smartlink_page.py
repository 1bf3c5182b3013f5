"""The smart-link page fans open (`GET /l/{slug}`): cover, title, artists and one button per service, a countdown
before release day, and the data link previews read (Open Graph, Twitter card, schema.org JSON-LD).

It reads what the JSON public view reads (`server.services.smartlinks`) and counts the view the same way (one
`smartlink_hits` INSERT through `smartlink_stats.record`, bots stored but excluded from the statistics). Every
button is the existing click redirect, so a click is counted before the fan leaves. Nothing on the page comes from
another origin: the cover is the platform's own derivative (`server.web.artwork`), the marks are our static SVGs.
"""

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server import clock, config
from server.db.engine import session_scope
from server.db.models.releases import Release
from server.db.models.smartlinks import SmartLink
from server.db.models.tracks import Track
from server.problems import ApiProblem
from server.services import artwork, smartlink_stats, smartlinks
from server.web import pages, static

ROUTES: dict[str, list[str]] = {"/l/{slug}": ["GET"]}
TEMPLATE = "smartlinks/page.html"
# A browser may reuse the page this long without asking again (and without counting a view). Short, because the
# page is the link's counter; never past `release_at`, when the page changes mode.
MAX_AGE_SECONDS = 60
_ACTION_LABELS = {"presave": "Pre-save", "play": "Play", "buy": "Buy"}


@dataclass(frozen=True)
class Page:
    body: str
    max_age: int


def _zone(link: SmartLink) -> ZoneInfo:
    try:
        return ZoneInfo(str(link.presave.get("time_zone") or "UTC"))
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def relative(delta: timedelta) -> str:
    """'in 6 days, 4 hours' — coarse enough that the page stays the same for a while."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = math.ceil(rest / 60) if seconds < 3_600 else rest // 60
    if days:
        return f"in {_plural(days, 'day')}" + (f", {_plural(hours, 'hour')}" if hours else "")
    if hours:
        return f"in {_plural(hours, 'hour')}" + (f", {_plural(minutes, 'minute')}" if minutes else "")
    return f"in {_plural(max(minutes, 1), 'minute')}"


def _local_text(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A}, {local.day} {local:%B %Y}, {local:%H:%M} ({zone.key})"


def _duration(ms: int) -> str:
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"PT{minutes}M{seconds}S"


def _json_ld(document: dict[str, Any]) -> Markup:
    """JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` escaped, so no value can close the
    element (the block is data; the Content-Security-Policy has nothing to allow for it)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # noqa: S704


def context(link: SmartLink, release: Release | None, tracks: list[tuple[str | None, int | None]]) -> dict[str, Any]:
    """Everything the template shows, derived from the link, its release and the release's tracks."""
    now = clock.now()
    base = config.active().public_links
    current_mode = smartlinks.mode(link, now)
    page_url = smartlinks.page_url(link.slug)
    artists = list(release.primary_artists) if release is not None and release.primary_artists else [link.artist]
    buttons = [
        {
            "service": button.service,
            "label": smartlinks.LABELS[button.service],
            "action": _ACTION_LABELS[button.action],
            "href": smartlinks.click_path(link.slug, button.service),
            "mark": static.url(f"mark-{button.service}.svg"),
        }
        for button in smartlinks.buttons(link, current_mode)
    ]

    images = link.artwork.get("images", [])
    cover = None
    if images:
        by_format: dict[str, list[dict[str, Any]]] = {}
        for image in images:
            by_format.setdefault(image["format"], []).append(image)
        smallest_jpeg = min(by_format.get("jpeg", images), key=lambda image: image["width"])
        cover = {
            "src": artwork.path(smallest_jpeg),
            "width": smallest_jpeg["width"],
            "height": smallest_jpeg["height"],
            "sources": [
                {
                    "type": artwork.media_type(image_format),
                    "srcset": ", ".join(f"{artwork.path(i)} {i['width']}w" for i in items),
                }
                for image_format, items in sorted(by_format.items(), key=lambda kv: kv[0] != "webp")
            ],
        }
    preview = artwork.preview(link.artwork)
    og_image = None
    if link.artwork_url is not None:
        og_image = {"url": link.artwork_url, "width": None, "height": None, "type": None}
    elif preview is not None:
        og_image = {
            "url": base + artwork.path(preview),
            "width": preview["width"],
            "height": preview["height"],
            "type": artwork.media_type("jpeg"),
        }

    is_song = release is not None and release.release_type == "single" and len(tracks) == 1
    names = " & ".join(artists) if len(artists) <= 2 else ", ".join(artists[:-1]) + " & " + artists[-1]
    labels = [b["label"] for b in buttons]
    services_text = ", ".join(labels[:-1]) + " and " + labels[-1] if len(labels) > 1 else "".join(labels)
    countdown = None
    if current_mode == "presave" and link.release_at is not None:
        zone = _zone(link)
        countdown = {
            "datetime": link.release_at.astimezone(zone).replace(microsecond=0).isoformat(),
            "text": _local_text(link.release_at, zone),
            "relative": relative(link.release_at - now),
        }
        description = f"Pre-save {link.title} by {names}, out {countdown['text']}."
    else:
        description = f"Listen to {link.title} by {names}" + (f" on {services_text}." if labels else ".")

    release_date: date | None = release.release_date if release is not None else None
    structured: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MusicRecording" if is_song else "MusicAlbum",
        "name": link.title,
        "url": page_url,
        "byArtist": [{"@type": "MusicGroup", "name": name} for name in artists],
    }
    if release_date is not None:
        structured["datePublished"] = release_date.isoformat()
    if og_image is not None:
        structured["image"] = og_image["url"]
    if is_song:
        isrc, duration_ms = tracks[0]
        if isrc:
            structured["isrcCode"] = isrc
        if duration_ms:
            structured["duration"] = _duration(duration_ms)
    elif tracks:
        structured["numTracks"] = len(tracks)
    structured["offers"] = [
        {
            "@type": "Offer",
            "name": b["label"],
            "category": b["action"],
            "url": base + b["href"],
            "availability": "https://schema.org/PreOrder"
            if current_mode == "presave"
            else "https://schema.org/InStock",
        }
        for b in buttons
    ]
    return {
        "title": link.title,
        "artists": artists,
        "artist_names": names,
        "mode": current_mode,
        "buttons": buttons,
        "cover": cover,
        "countdown": countdown,
        "description": description,
        "page_url": page_url,
        "og_type": "music.song" if is_song else "music.album",
        "og_image": og_image,
        "json_ld": _json_ld(structured),
    }


# Built once with a bound parameter: building the statement per request cost more than running it.
_TRACKS = (
    select(Track.isrc, Track.duration_ms)
    .where(col(Track.release_id) == bindparam("release_id"))
    .order_by(col(Track.disc_number), col(Track.track_number))
)


def read(session: Session, slug: str) -> tuple[SmartLink, Release | None, list[tuple[str | None, int | None]]]:
    link = smartlinks.by_slug(session, slug)
    release = session.get(Release, link.release_id)
    tracks = [(isrc, ms) for isrc, ms in session.exec(_TRACKS, params={"release_id": link.release_id}).all()]
    return link, release, tracks


def max_age(link: SmartLink) -> int:
    """Seconds a browser may keep the page: at most `MAX_AGE_SECONDS`, and never beyond the switch to `stream`."""
    if smartlinks.mode(link) != "presave" or link.release_at is None:
        return MAX_AGE_SECONDS
    left = (link.release_at - clock.now()).total_seconds()
    return max(0, min(MAX_AGE_SECONDS, int(left)))


def _render(slug: str, visitor: smartlink_stats.Visitor) -> Page | int:
    """The page, or the status of why there is none (404 unknown or deleted, 410 disabled by its owner)."""
    with session_scope() as session:
        try:
            link, release, tracks = read(session, slug)
        except ApiProblem as problem:
            return int(problem.status)
        smartlink_stats.record(session, link.id, "view", visitor)
        body = pages.render_text(TEMPLATE, **context(link, release, tracks))
        return Page(body, max_age(link))


async def show(request: Request) -> Response:
    visitor = smartlink_stats.visitor(request.scope.get("client"), request.headers)
    # A thread, as the JSON view: the hit INSERT may wait for SQLite's writer lock, which must not stall the loop.
    page = await run_in_threadpool(_render, str(request.path_params["slug"]), visitor)
    if isinstance(page, int):
        if page == 410:
            return pages.gone("This smart link has been switched off by the artist or label that shared it.")
        return pages.not_found("This smart link does not exist. Check the address you were given.")
    etag = '"' + hashlib.sha256(page.body.encode()).hexdigest()[:32] + '"'
    # `private`: a shared cache would answer fans without the view being counted.
    cache_control = f"private, max-age={page.max_age}" if page.max_age else "no-cache"
    headers = {**pages.SECURITY_HEADERS, "Cache-Control": cache_control, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(page.body, headers=headers)
