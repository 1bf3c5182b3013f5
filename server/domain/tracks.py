"""Track rules: the quality-check status an uploaded recording (and a release's cover art) goes through."""

from enum import StrEnum


class QcStatus(StrEnum):
    """The spec's `QcStatus`: a track's `qc.status` and a release's `artwork.qc.status`."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
