"""Turning validated request parameters into Python values."""

from datetime import datetime


def timestamp(value: str | None) -> datetime | None:
    """A `format: date-time` query value (already validated against the spec) as an aware datetime."""
    return None if value is None else datetime.fromisoformat(value)
