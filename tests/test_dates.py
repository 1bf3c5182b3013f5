"""The helper that places the spec's example dates relative to the server's clock."""

from datetime import date, timedelta

from server import clock
from tests.dates import EXAMPLES_AS_OF, as_of_today, today


def test_example_dates_keep_their_distance_from_today() -> None:
    body = {
        "effective_from": (EXAMPLES_AS_OF + timedelta(days=5)).isoformat(),
        "presave": {"release_at": f"{EXAMPLES_AS_OF + timedelta(days=16)}T00:00:00+01:00"},
        "lines": [{"sale_period": "2026-09"}],
        "name": "2026-12",  # a month-shaped string moves too: examples have no other strings of that shape
        "count": 3,
    }
    moved = as_of_today(body)
    assert date.fromisoformat(moved["effective_from"]) == today() + timedelta(days=5)
    assert moved["presave"]["release_at"] == f"{today() + timedelta(days=16)}T00:00:00+01:00"
    assert moved["count"] == 3


def test_example_dates_follow_a_clock_moved_into_next_year() -> None:
    with clock.shifted(timedelta(days=400)):
        moved = as_of_today(
            {"effective_from": EXAMPLES_AS_OF.isoformat(), "period": "2026-11", "at": "2026-11-26T10:00:00Z"}
        )
        assert moved["effective_from"] == today().isoformat()
        assert moved["period"] == f"{today().year:04d}-{today().month:02d}"
        assert moved["at"] == f"{today().isoformat()}T10:00:00Z"
