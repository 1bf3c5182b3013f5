"""How timestamps and dates appear in the API."""

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """`2026-11-26T12:00:00Z`: UTC, second precision."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def rfc3339_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)
