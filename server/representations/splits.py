"""The split object, with its shares."""

from typing import Any

from server.db.models.splits import Split, SplitShare
from server.timefmt import rfc3339


def represent(split: Split, shares: list[SplitShare]) -> dict[str, Any]:
    return {
        "id": split.id,
        "object": "split",
        "environment": split.environment,
        "release_id": split.release_id,
        "track_id": split.track_id,
        "version": split.version,
        "shares": [
            {
                "person_id": share.person_id,
                "role": share.role,
                "share_bps": share.share_bps,
                "acceptance_status": share.acceptance_status,
            }
            for share in shares
        ],
        "status": split.status,
        "effective_from": split.effective_from.isoformat(),
        "superseded_at": rfc3339(split.superseded_at) if split.superseded_at else None,
        "superseded_by": split.superseded_by,
        "metadata": dict(split.meta),
        "created_at": rfc3339(split.created_at),
        "updated_at": rfc3339(split.updated_at),
    }
