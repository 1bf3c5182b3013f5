"""The one JSON parser for what clients and providers send us: strict, bounded, and never a 500.

Python's `json` accepts things no integrator means and that break later, far from the parser: `NaN`, `Infinity`
and `1e309` (an infinite float in a money field), duplicate keys (silently the last one wins, so a signature and
the stored document can disagree), lone surrogate escapes (`"\\ud800"`, a string no UTF-8 encoder accepts: the
database or the response then fails), integers over 4,300 digits (a `ValueError` that is not a `JSONDecodeError`)
and deep nesting (a `RecursionError` in the parser or in schema validation). Each is refused here with 400
`malformed_json` and a detail that names the problem.
"""

import json
from typing import Any

from server.problems import ApiProblem

# Deeper than any document of the API (the deepest is a release with tracks with contributors, about 6 levels);
# deep enough for provider payloads (Stripe's events nest about 8 levels).
MAX_DEPTH = 64


class StrictJSONError(ValueError):
    """The text is not JSON we accept; `str()` says why."""


def _refuse_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number")


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise StrictJSONError(f"the number {text[:32]} is out of range")
    return value


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:  # more digits than Python's int-from-string limit (4,300)
        raise StrictJSONError(f"an integer of {len(text)} digits is out of range") from exc


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise StrictJSONError(f"the key {key[:64]!r} appears twice in one object")
        document[key] = value
    return document


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_constant=_refuse_constant,
    parse_float=_parse_float,
    parse_int=_parse_int,
)


def _check(value: Any, depth: int) -> None:
    """Nesting within MAX_DEPTH and every string encodable as UTF-8 (no lone surrogates)."""
    if depth > MAX_DEPTH:
        raise StrictJSONError(f"the document nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        _encodable(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _encodable(key)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StrictJSONError("a string contains a lone surrogate escape (not valid Unicode)") from exc


def _too_deep(text: str) -> bool:
    """A cheap pre-check before the recursive C parser: more opening brackets in a row than MAX_DEPTH allows."""
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
        elif char == '"':
            return False  # strings may contain brackets: leave the exact count to `_check`
    return False


def loads(text: str | bytes) -> Any:
    """Parse strictly; raises `StrictJSONError` (a `ValueError`) with a reason fit for a problem's detail."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJSONError(f"the text is not valid UTF-8: {exc.reason}") from exc
    if _too_deep(text):
        raise StrictJSONError(f"the document nests deeper than {MAX_DEPTH} levels")
    try:
        document = _DECODER.decode(text)
    except StrictJSONError:
        raise
    except RecursionError as exc:
        raise StrictJSONError(f"the document nests deeper than {MAX_DEPTH} levels") from exc
    except json.JSONDecodeError as exc:
        raise StrictJSONError(str(exc)) from exc
    except ValueError as exc:  # anything else the decoder refuses
        raise StrictJSONError(str(exc)) from exc
    _check(document, 1)
    return document


def loads_body(raw: bytes, *, what: str = "The request body") -> Any:
    """`loads` for a request body or part: the problem is 400 `invalid_encoding` or `malformed_json`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiProblem(400, "invalid_encoding", f"{what} is not valid UTF-8: {exc.reason}.") from exc
    try:
        return loads(text)
    except StrictJSONError as exc:
        raise ApiProblem(400, "malformed_json", f"{what} is not acceptable JSON: {exc}.") from exc
