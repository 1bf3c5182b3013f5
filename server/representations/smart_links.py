"""The smart link as its owner sees it, and the public view a fan's browser gets."""

from typing import Any

from server.db.models.smartlinks import SmartLink
from server.domain import smartlinks
from server.timefmt import rfc3339


def _iso(moment: Any) -> str | None:
    # Local offset kept (`2026-12-12T00:00:00+01:00`): the owner set release day in that zone.
    return None if moment is None else moment.replace(microsecond=0).isoformat()


def represent(link: SmartLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "object": "smartlink",
        "environment": link.environment,
        "release_id": link.release_id,
        "slug": link.slug,
        "url": smartlinks.page_url(link.slug),
        "title": link.title,
        "artist": link.artist,
        "artwork_url": smartlinks.artwork_url(link),
        "mode": smartlinks.mode(link),
        "destinations": [{"service": d["service"], "url": d["url"]} for d in link.destinations],
        "presave": {
            "enabled": bool(link.presave.get("enabled")),
            "services": list(link.presave.get("services") or []),
            "release_at": _iso(smartlinks.local_release_at(link)),
            "time_zone": str(link.presave.get("time_zone") or "UTC"),
        },
        "status": link.status,
        "disabled_at": rfc3339(link.disabled_at) if link.disabled_at else None,
        "metadata": dict(link.meta),
        "created_at": rfc3339(link.created_at),
        "updated_at": rfc3339(link.updated_at),
    }


def represent_public(link: SmartLink) -> dict[str, Any]:
    """What a fan's browser may see: no ids, no raw destination URLs, no metadata."""
    current_mode = smartlinks.mode(link)
    return {
        "object": "public_smartlink",
        "environment": link.environment,
        "slug": link.slug,
        "url": smartlinks.page_url(link.slug),
        "title": link.title,
        "artist": link.artist,
        "artwork_url": smartlinks.artwork_url(link),
        "mode": current_mode,
        "release_at": _iso(smartlinks.local_release_at(link)),
        "services": [
            {
                "service": button.service,
                "label": smartlinks.LABELS[button.service],
                "action": button.action,
                "click_url": smartlinks.click_path(link.slug, button.service),
            }
            for button in smartlinks.buttons(link, current_mode)
        ],
    }
