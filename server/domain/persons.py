"""Person rules: where a person's invitation to the dashboard stands."""

from enum import StrEnum


class InvitationStatus(StrEnum):
    """The spec's `Person.invitation_status`."""

    NOT_INVITED = "not_invited"
    PENDING = "pending"
    ACCEPTED = "accepted"
    FAILED = "failed"
