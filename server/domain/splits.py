"""Split rules: a split's version status and each share's answer, and the typed input of a new split version (the
spec's `SplitCreate`)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Self

from server.domain.inputs import metadata, optional
from server.domain.persons import PersonRole


class SplitStatus(StrEnum):
    """The spec's `Split.status`: the active version, or one a newer version replaced."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"


class ShareStatus(StrEnum):
    """The spec's `SplitShare.acceptance_status`: the collaborator's answer to a share."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class SplitShareCreate:
    """One payee's share in a new split, in basis points (10000 = 100 %)."""

    person_id: str
    role: PersonRole
    share_bps: int

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(person_id=body["person_id"], role=PersonRole(body["role"]), share_bps=int(body["share_bps"]))


@dataclass(frozen=True)
class SplitCreate:
    """A new split version for a release or a track (`createSplit`). Exactly one of `release_id` and `track_id` is
    checked by the service (`split_target_required`), as are the shares' total and `effective_from`."""

    shares: tuple[SplitShareCreate, ...]
    release_id: str | None = None
    track_id: str | None = None
    effective_from: date | None = None  # None: today
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            shares=tuple(SplitShareCreate.from_body(share) for share in body["shares"]),
            release_id=body.get("release_id"),
            track_id=body.get("track_id"),
            effective_from=optional(date.fromisoformat)(body.get("effective_from")),
            metadata=metadata(body.get("metadata")),
        )
