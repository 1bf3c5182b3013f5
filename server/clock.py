"""The platform's "now". Every rule that depends on time (key rotation grace, token lifetimes, retry schedules)
reads it from here, so tests can move time instead of waiting for it."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_offset: list[timedelta] = [timedelta(0)]


def now() -> datetime:
    return datetime.now(UTC) + _offset[0]


@contextmanager
def shifted(by: timedelta) -> Iterator[None]:
    """Run a block as if the clock were `by` later (tests only)."""
    _offset[0] += by
    try:
        yield
    finally:
        _offset[0] -= by
