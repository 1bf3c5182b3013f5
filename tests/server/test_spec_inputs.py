"""The typed inputs the services take (server/domain: `PersonCreate`, `ReleaseDetailsUpdate`, …) are the spec's
request bodies: the same property names, a default exactly for the properties the schema does not require (`ABSENT`
for every field of a partial update), `None` allowed wherever the schema allows `null`, and each field of the type
the schema gives (a `StrEnum` with exactly the spec's values for an enum, `date` for a date, `Decimal` for a decimal
amount, a tuple for an array, a nested input for an object). A property added to, renamed in, made required in or
removed from the bundled spec without the same change in the code fails here; so does a new JSON request body of a
typed resource that no input stands for."""

import json
import types
from collections.abc import Mapping
from dataclasses import MISSING, fields, is_dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest

from server.domain.inputs import ABSENT, Absent
from server.domain.payouts import PayoutRequest
from server.domain.persons import PersonCreate, PersonUpdate
from server.domain.releases import (
    ReleaseCreate,
    ReleaseDetailsUpdate,
    ReleaseDistributionUpdate,
    ReleaseTracksUpdate,
)
from server.domain.splits import SplitCreate
from tests.server import spec_document
from tests.server.spec_document import resolve

# Each input and the request-body schema it stands for.
INPUTS: dict[type, str] = {
    PersonCreate: "#/components/schemas/PersonCreate",
    PersonUpdate: "#/components/schemas/PersonUpdate",
    ReleaseCreate: "#/components/schemas/ReleaseCreate",
    ReleaseDetailsUpdate: "#/components/schemas/ReleaseDetailsUpdate",
    ReleaseTracksUpdate: "#/components/schemas/ReleaseTracksUpdate",
    ReleaseDistributionUpdate: "#/components/schemas/ReleaseDistributionUpdate",
    SplitCreate: "#/components/schemas/SplitCreate",
    PayoutRequest: "#/components/schemas/PayoutRequest",
}

# The resources (spec tags) whose JSON write operations take a typed input; each such operation's body must be in
# INPUTS. Operations of other tags still hand their services the validated body.
TYPED_TAGS = {"Persons", "Releases", "Splits", "Payouts"}

# Documented differences, (input, property) -> why. None today: add one here rather than loosen a check.
SPEC_ONLY: dict[tuple[type, str], str] = {}
CODE_ONLY: dict[tuple[type, str], str] = {}

DECIMAL_AMOUNT = "#/components/schemas/DecimalAmount"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return spec_document.load()


def _alternatives(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [alternative for arg in get_args(annotation) for alternative in _alternatives(arg)]
    return [annotation]


def _has_default(field: Any) -> bool:
    return field.default is not MISSING or field.default_factory is not MISSING


def _nullable(document: dict[str, Any], schema: dict[str, Any]) -> tuple[bool, dict[str, Any], str | None]:
    """(the schema admits null, the non-null schema with `$ref`s resolved, the `$ref` it came from)."""
    ref = None
    nullable = False
    if "oneOf" in schema:
        others = [option for option in schema["oneOf"] if option.get("type") != "null"]
        nullable = len(others) < len(schema["oneOf"])
        assert len(others) == 1, f"a oneOf of several non-null schemas has no input type: {schema}"
        schema = others[0]
    while "$ref" in schema:
        ref = schema["$ref"]
        schema = resolve(document, ref)
    kind = schema.get("type")
    if isinstance(kind, list):
        nullable = nullable or "null" in kind
        rest = [item for item in kind if item != "null"]
        schema = {**schema, "type": rest[0] if len(rest) == 1 else rest}
    return nullable, schema, ref


def type_problems(document: dict[str, Any], annotation: Any, schema: dict[str, Any], where: str) -> list[str]:
    """How `annotation` (without `None` and `ABSENT`) differs from the non-null `schema`."""
    if schema.get("enum") is not None:
        if not (isinstance(annotation, type) and issubclass(annotation, StrEnum)):
            return [f"{where}: the spec has an enum; the code has {annotation}, not a StrEnum"]
        only_spec = set(schema["enum"]) - {member.value for member in annotation}
        only_code = {member.value for member in annotation} - set(schema["enum"])
        return [f"{where}: {annotation.__name__} lacks {sorted(only_spec)}"] * bool(only_spec) + [
            f"{where}: {annotation.__name__} has {sorted(only_code)}, which the spec lacks"
        ] * bool(only_code)
    kind = schema.get("type")
    if kind == "array":
        if get_origin(annotation) is not tuple or get_args(annotation)[1:] != (Ellipsis,):
            return [f"{where}: the spec has an array; the code has {annotation}, not tuple[..., ...]"]
        nullable, items, _ = _nullable(document, schema["items"])
        return [f"{where}[]: items are nullable in the spec"] * nullable + type_problems(
            document, get_args(annotation)[0], items, f"{where}[]"
        )
    if kind == "object" and "properties" in schema:
        if not is_dataclass(annotation):
            return [f"{where}: the spec has an object; the code has {annotation}, not an input dataclass"]
        return input_problems(document, annotation, schema, where)  # type: ignore[arg-type]
    if kind == "object":
        expected: Any = Mapping[str, str]
    elif kind == "string" and schema.get("format") == "date":
        expected = date
    else:
        expected = {"string": str, "integer": int, "boolean": bool}.get(str(kind))
    if annotation != expected:
        return [f"{where}: the spec has {kind} ({schema.get('format', '-')}); the code has {annotation}"]
    return []


def input_problems(document: dict[str, Any], cls: type, schema: dict[str, Any], where: str = "") -> list[str]:
    """Every way the input dataclass `cls` differs from the object `schema` (`where`: its place, for messages)."""
    where = where or cls.__name__
    problems = []
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    partial = not required and schema.get("minProperties", 0) >= 1  # a PATCH body: only what is sent changes
    hints = get_type_hints(cls)
    by_name = {field.name: field for field in fields(cls)}
    for name in sorted(set(properties) - set(by_name)):
        if (cls, name) not in SPEC_ONLY:
            problems.append(f"{where}: the spec's property {name!r} has no field")
    for name in sorted(set(by_name) - set(properties)):
        if (cls, name) not in CODE_ONLY:
            problems.append(f"{where}: the field {name!r} is not a property in the spec")
    for name in sorted(set(by_name) & set(properties)):
        field, at = by_name[name], f"{where}.{name}"
        if name in required and _has_default(field):
            problems.append(f"{at}: required in the spec, but the field has a default")
        if name not in required and not _has_default(field):
            problems.append(f"{at}: optional in the spec, but the field has no default")
        alternatives = _alternatives(hints[name])
        if partial and (field.default is not ABSENT or Absent not in alternatives):
            problems.append(f"{at}: a partial update's field must default to ABSENT (not sent)")
        if not partial and Absent in alternatives:
            problems.append(f"{at}: ABSENT belongs to partial updates only")
        nullable, target, ref = _nullable(document, properties[name])
        allows_none = type(None) in alternatives
        if nullable and not allows_none:
            problems.append(f"{at}: the spec allows null; the field does not allow None")
        if partial and allows_none and not nullable:
            problems.append(f"{at}: None would clear a field the spec does not let clients clear")
        rest = [alternative for alternative in alternatives if alternative not in (type(None), Absent)]
        if len(rest) != 1:
            problems.append(f"{at}: expected one type besides None and ABSENT, found {rest}")
            continue
        if ref == DECIMAL_AMOUNT:
            if rest[0] is not Decimal:
                problems.append(f"{at}: a DecimalAmount must be a Decimal (never a float), found {rest[0]}")
            continue
        problems += type_problems(document, rest[0], target, at)
    return problems


@pytest.mark.parametrize("cls", list(INPUTS), ids=lambda cls: cls.__name__)
def test_each_input_is_its_request_body_schema(spec: dict[str, Any], cls: type) -> None:
    assert input_problems(spec, cls, resolve(spec, INPUTS[cls])) == []


def test_every_json_write_of_a_typed_resource_has_an_input(spec: dict[str, Any]) -> None:
    bodies = set()
    for item in spec["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            if not TYPED_TAGS & set(operation.get("tags", [])):
                continue
            content = operation["requestBody"]["content"]
            if "application/json" in content:
                bodies.add(content["application/json"]["schema"]["$ref"])
    assert bodies, "found no JSON request body at all"
    assert sorted(bodies - set(INPUTS.values())) == []


def test_a_spec_change_without_the_code_change_is_caught(spec: dict[str, Any]) -> None:
    changed = json.loads(json.dumps(spec))
    person = resolve(changed, INPUTS[PersonCreate])
    person["properties"]["nickname"] = {"type": "string"}  # a new property
    del person["properties"]["phone"]  # a removed one
    person["required"].append("legal_name")  # newly required
    resolve(changed, "#/components/schemas/PersonRole")["enum"].append("arranger")  # a new enum value
    problems = input_problems(changed, PersonCreate, person)
    assert "PersonCreate: the spec's property 'nickname' has no field" in problems
    assert "PersonCreate: the field 'phone' is not a property in the spec" in problems
    assert "PersonCreate.legal_name: required in the spec, but the field has a default" in problems
    assert "PersonCreate.roles[]: PersonRole lacks ['arranger']" in problems

    split = resolve(changed, INPUTS[SplitCreate])
    split["properties"]["effective_from"]["format"] = "date-time"
    resolve(changed, "#/components/schemas/SplitShareCreate")["properties"]["share_bps"]["type"] = "string"
    problems = input_problems(changed, SplitCreate, split)
    assert any(problem.startswith("SplitCreate.effective_from: the spec has string") for problem in problems)
    assert any(problem.startswith("SplitCreate.shares[].share_bps: the spec has string") for problem in problems)

    details = resolve(changed, INPUTS[ReleaseDetailsUpdate])
    details["properties"]["title"]["type"] = ["string", "null"]  # now clearable
    problems = input_problems(changed, ReleaseDetailsUpdate, details)
    assert problems == ["ReleaseDetailsUpdate.title: the spec allows null; the field does not allow None"]


def test_a_partial_update_tells_absent_from_null() -> None:
    update = ReleaseDetailsUpdate.from_body({"label": None, "upc": "4061707512346"})
    assert update.label is None
    assert update.title is ABSENT
    assert update.fields_set == {"label", "upc"}
    assert PersonUpdate.from_body({"phone": None}).fields_set == {"phone"}
