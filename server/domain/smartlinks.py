"""Smart-link rules read by the API, the public page and the services: which buttons a page shows, when pre-save
turns into streaming, and the links' public URLs."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server import clock, config
from server.db.models.smartlinks import SmartLink
from server.domain import artwork


class SmartLinkStatus(StrEnum):
    """The spec's `SmartLink.status`: a disabled link's page answers 410 and its slug stays reserved."""

    ACTIVE = "active"
    DISABLED = "disabled"


# Display names, in the enum's order (SmartLinkService).
LABELS = {
    "spotify": "Spotify",
    "apple_music": "Apple Music",
    "amazon_music": "Amazon Music",
    "youtube_music": "YouTube Music",
    "deezer": "Deezer",
    "tidal": "TIDAL",
    "soundcloud": "SoundCloud",
    "bandcamp": "Bandcamp",
    "beatport": "Beatport",
}
PRESAVE_SERVICES = ("spotify", "apple_music", "deezer")
# Download stores: their button buys, and a store page is useful before release day too (pre-orders).
BUY_SERVICES = frozenset({"bandcamp", "beatport"})


@dataclass(frozen=True)
class Button:
    service: str
    action: str  # presave | play | buy
    url: str  # the destination the click redirects to; never shown on the public page


def mode(link: SmartLink, now: datetime | None = None) -> str:
    """`presave` until `release_at` (pre-saves enabled), `stream` from then on: derived at read time from the clock,
    so the switch at midnight needs no job and no write."""
    if link.release_at is None or not link.presave.get("enabled"):
        return "stream"
    return "presave" if (now or clock.now()) < link.release_at else "stream"


def buttons(link: SmartLink, current_mode: str) -> list[Button]:
    """The public page's buttons in display order. Before release day only pre-save services (that have a page to
    send the fan to) and download stores are offered: a streaming link to an unreleased album leads nowhere."""
    presave_services = set(link.presave.get("services") or ()) if current_mode == "presave" else set()
    result = []
    for destination in link.destinations:
        service, url = destination["service"], destination["url"]
        if service in BUY_SERVICES:
            result.append(Button(service, "buy", url))
        elif current_mode == "stream":
            result.append(Button(service, "play", url))
        elif service in presave_services:
            result.append(Button(service, "presave", url))
    return result


def page_url(slug: str) -> str:
    """The fan-facing page (`server.web.smartlink_page`), on the public link domain."""
    return f"{config.active().public_links}/l/{slug}"


def click_path(slug: str, service: str) -> str:
    return f"/api/v1/smartlinks/{slug}/go/{service}"


def artwork_url(link: SmartLink) -> str | None:
    """The owner's own image if they gave one, else the release's QC-passed cover as a 1200 px JPEG."""
    if link.artwork_url is not None:
        return link.artwork_url
    image = artwork.preview(link.artwork)
    return None if image is None else config.active().public_links + artwork.path(image)


def time_zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_release_at(link: SmartLink) -> datetime | None:
    """`release_at` in the link's time zone, so the wire shows the local midnight the owner chose."""
    if link.release_at is None:
        return None
    link_zone = time_zone(str(link.presave.get("time_zone") or "UTC"))
    return link.release_at.astimezone(link_zone or UTC)
