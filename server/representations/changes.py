"""`previous_attributes` of an `*.updated` event: what a change touched, from the representations before and after."""

from typing import Any


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The previous values of the top-level fields a change touched (for `previous_attributes`)."""
    return {key: value for key, value in before.items() if after.get(key) != value and key != "updated_at"}
