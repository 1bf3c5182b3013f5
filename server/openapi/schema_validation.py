"""JSON Schema 2020-12 validation (the dialect of OpenAPI 3.1) with compiled, cached validators.

connexion 3.3 validates with JSON Schema Draft 4, which silently ignores `const`, numeric `exclusiveMinimum` and
`prefixItems` and crashes on type arrays. `jsonschema_rs` speaks 2020-12 and is compiled Rust, so validation is both
correct and cheap. Every failure becomes a `FieldError` with a JSON pointer, and all failures are reported at once.
"""

import re
import threading
from typing import Any

import jsonschema_rs

from server.problems import FieldError

_CACHE: dict[int, tuple[dict[str, Any], Any]] = {}
_CACHE_LIMIT = 4096
_LOCK = threading.Lock()


def compiled(schema: dict[str, Any]) -> Any:
    """The compiled validator for a schema dict. Keyed by identity: connexion keeps one dict per operation."""
    entry = _CACHE.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    # connexion attaches the whole `components` section to every schema it hands out ("with_definitions"), though
    # its references are already inlined; compiling it would be wasted work and trips jsonschema_rs's depth limit.
    own = {key: value for key, value in schema.items() if key != "components"}
    validator = jsonschema_rs.Draft202012Validator(own, validate_formats=True)
    with _LOCK:
        _CACHE[id(schema)] = (schema, validator)
        # A safety net, never reached by the spec's own schemas (a few hundred): a caller that builds a schema per
        # request must not grow the process without bound. The oldest entries go first.
        while len(_CACHE) > _CACHE_LIMIT:
            del _CACHE[next(iter(_CACHE))]
    return validator


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


_REQUIRED = re.compile(r'^"(?P<name>(?:[^"\\]|\\.)*)" is a required property')


def field_errors(schema: dict[str, Any], instance: Any, *, prefix: str = "") -> list[FieldError]:
    """Every violation of `schema` by `instance`, as field errors pointing below `prefix`.

    `prefix` is "" for a request body (pointers like `/title`) or `query:limit` for a parameter.
    """
    validator = compiled(schema)
    if validator.is_valid(instance):  # the common case, and cheaper than starting the error iterator
        return []
    errors: list[FieldError] = []
    for error in validator.iter_errors(instance):
        path = "".join("/" + _escape(str(part)) for part in error.instance_path)
        # The failing keyword names the rule: `required`, `pattern`, `const`, `exclusive_minimum`, …
        keywords = [part for part in error.schema_path if isinstance(part, str)]
        code = _snake(keywords[-1]) if keywords else "invalid"
        if code == "required":
            match = _REQUIRED.match(error.message)
            if match:
                path += "/" + _escape(match.group("name"))
        elif code == "additional_properties":
            code = "additional_property"
        errors.append(FieldError(code=code, pointer=prefix + path, detail=error.message))
    return errors
