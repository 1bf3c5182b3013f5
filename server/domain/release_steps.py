"""The release wizard's steps: which fields each step still misses (JSON pointers into the release).

Today's hand-written rules; the shared release rule catalogue (`server.domain.release_rules`, issue 19) is meant to
compute them instead, behind this same function."""

from typing import Any

from server.db.models.releases import Release
from server.db.models.tracks import Track


def _step(missing: list[str]) -> dict[str, Any]:
    return {"complete": not missing, "missing": missing}


def steps(release: Release, tracks: list[Track]) -> dict[str, Any]:
    details = [
        pointer
        for pointer, value in (
            ("/title", release.title),
            ("/primary_artists", release.primary_artists),
            ("/label", release.label),
            ("/genre", release.genre),
            ("/language", release.language),
            ("/p_line", release.p_line_year),
            ("/c_line", release.c_line_year),
        )
        if value in (None, "", [])
    ]
    track_step = (
        ["/tracks"] if not tracks else [f"/tracks/{i}/audio" for i, t in enumerate(tracks) if not t.audio_file_id]
    )
    distribution = [
        pointer
        for pointer, value in (
            ("/release_date", release.release_date),
            ("/territories", release.territories),
            ("/stores", release.stores),
        )
        if value in (None, [])
    ]
    return {
        "details": _step(details),
        "tracks": _step(track_step),
        "artwork": _step([] if release.artwork_file_id else ["/artwork"]),
        "distribution": _step(distribution),
    }
