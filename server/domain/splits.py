"""Split rules: a split's version status and each share's answer."""

from enum import StrEnum


class SplitStatus(StrEnum):
    """The spec's `Split.status`: the active version, or one a newer version replaced."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"


class ShareStatus(StrEnum):
    """The spec's `SplitShare.acceptance_status`: the collaborator's answer to a share."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
