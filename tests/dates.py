"""Dates in tests are placed relative to the server's clock (`server.clock`), never to the calendar.

The spec's examples keep fixed, readable dates for the docs; they are written as of `EXAMPLES_AS_OF`. A test that
sends an example moves every date in it by the days between that day and the server's today, so an example's
`effective_from` stays five days ahead and its `release_date` seven weeks ahead, whatever the year.
"""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server import clock

# The day the spec's request examples were written for (their split starts 2026-12-01, their pre-save link
# releases 2026-12-12, their release goes out 2027-01-15: all ahead of this day by what the rules ask).
EXAMPLES_AS_OF = date(2026, 11, 26)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def today() -> date:
    """The server's today (UTC), which every date rule compares with."""
    return clock.now().date()


def now() -> datetime:
    return clock.now()


def days_from_today(days: int) -> date:
    return today() + timedelta(days=days)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def as_of_today(value: Any, *, as_of: date = EXAMPLES_AS_OF) -> Any:
    """`value` (an example body, or any JSON value) with every date, date-time and year-month moved forward by the
    time between `as_of` and the server's today: whole days for dates and date-times, whole months for months."""
    shift = today() - as_of
    months = (today().year - as_of.year) * 12 + today().month - as_of.month
    if isinstance(value, dict):
        return {key: as_of_today(item, as_of=as_of) for key, item in value.items()}
    if isinstance(value, list):
        return [as_of_today(item, as_of=as_of) for item in value]
    if not isinstance(value, str):
        return value
    if _DATE.match(value):
        return (date.fromisoformat(value) + shift).isoformat()
    if _DATETIME.match(value):
        moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + shift
        return moved.isoformat().replace("+00:00", "Z") if value.endswith("Z") else moved.isoformat()
    if _MONTH.match(value):
        year, month = _add_months(int(value[:4]), int(value[5:]), months)
        return f"{year:04d}-{month:02d}"
    return value


def utc_now_timestamp() -> int:
    """The server clock as a Unix timestamp (signature schemes carry one)."""
    return int(clock.now().astimezone(UTC).timestamp())
