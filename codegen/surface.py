"""The SDKs' public surface (codegen/surface.yaml): loading, checking against the spec, and rendering it.

    python codegen/surface.py          # write sdk-typescript/src/surface.gen.ts
    python codegen/surface.py --check  # exit 1 when the spec and surface.yaml disagree or the file is stale

The Python SDK reads the same file in codegen/python/generate.py.
"""

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SURFACE_FILE = HERE / "surface.yaml"
SPEC = ROOT / "spec" / "dist" / "openapi.json"
TS_OUTPUT = ROOT / "sdk-typescript" / "src" / "surface.gen.ts"
METHODS = ("get", "put", "post", "patch", "delete")
NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    resource: str
    method: str
    tag: str


@dataclass(frozen=True)
class Surface:
    operations: dict[str, Operation]  # by operationId, in the file's order
    resource_classes: dict[str, str]
    errors: dict[int, str]
    fallback_errors: dict[str, str]
    deprecated_errors: dict[str, str]
    environment: dict[str, str]
    deprecated_environment: dict[str, str]
    defaults: dict[str, Any]

    @property
    def resources(self) -> list[str]:
        """Resource names in the order of their first operation."""
        return list(dict.fromkeys(op.resource for op in self.operations.values()))

    def class_name(self, resource: str) -> str:
        return self.resource_classes.get(resource) or "".join(part.capitalize() for part in resource.split("_"))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def spec_operations(spec: dict[str, Any]) -> dict[str, str]:
    """operationId → its first tag, for every operation of the bundled spec."""
    found: dict[str, str] = {}
    for item in spec["paths"].values():
        for method in METHODS:
            if method in item:
                operation = item[method]
                found[operation["operationId"]] = (operation.get("tags") or ["Default"])[0]
    return found


def problems(raw: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """Everything that keeps surface.yaml from describing the spec, each with what to do about it."""
    found: list[str] = []
    entries: dict[str, str] = raw.get("operations") or {}
    in_spec = spec_operations(spec)
    for operation_id, tag in in_spec.items():
        if operation_id not in entries:
            resource = re.sub(r"(?<!^)(?=[A-Z])", "_", tag).lower()
            found.append(
                f"spec operation {operation_id} has no SDK name: add `  {operation_id}: {resource}.<method>` "
                f"(snake_case, e.g. `{resource}.create`) under `operations:` in codegen/surface.yaml, then run "
                "`nox -s codegen`"
            )
    for operation_id, path in entries.items():
        if operation_id not in in_spec:
            found.append(f"codegen/surface.yaml names {operation_id}, which the spec does not have: remove the entry")
        parts = str(path).split(".")
        if len(parts) != 2 or not all(NAME.match(part) for part in parts):
            found.append(f"codegen/surface.yaml: {operation_id}: {path!r} is not `resource.method` in snake_case")
    seen: dict[str, str] = {}
    for operation_id, path in entries.items():
        if path in seen:
            found.append(f"codegen/surface.yaml: {operation_id} and {seen[path]} are both {path}")
        seen[path] = operation_id
    return found


def load(spec: dict[str, Any] | None = None) -> Surface:
    raw = yaml.safe_load(SURFACE_FILE.read_text(encoding="utf-8"))
    spec = spec if spec is not None else json.loads(SPEC.read_text(encoding="utf-8"))
    wrong = problems(raw, spec)
    if wrong:
        raise SystemExit("codegen/surface.yaml does not match the spec:\n  " + "\n  ".join(wrong))
    tags = spec_operations(spec)
    operations = {}
    for operation_id, path in raw["operations"].items():
        resource, method = path.split(".")
        operations[operation_id] = Operation(operation_id, resource, method, tags[operation_id])
    return Surface(
        operations=operations,
        resource_classes=dict(raw.get("resource_classes") or {}),
        errors={int(status): name for status, name in raw["errors"].items()},
        fallback_errors=dict(raw["fallback_errors"]),
        deprecated_errors=dict(raw.get("deprecated_errors") or {}),
        environment=dict(raw["environment"]),
        deprecated_environment=dict(raw.get("deprecated_environment") or {}),
        defaults=dict(raw["defaults"]),
    )


TS_HEADER = (
    "// Generated from codegen/surface.yaml by codegen/surface.py. Do not edit: change surface.yaml and run\n"
    "// `nox -s codegen`.\n"
)


def render_typescript(surface: Surface) -> str:
    operations = "\n".join(
        f"  {op.operation_id}: '{camel(op.resource)}.{camel(op.method)}'," for op in surface.operations.values()
    )
    errors = "\n".join(f"  {status}: '{name}'," for status, name in surface.errors.items())
    env = "\n".join(f"  {camel(key)}: '{name}'," for key, name in surface.environment.items())
    old_env = "\n".join(f"  {camel(key)}: '{name}'," for key, name in surface.deprecated_environment.items())
    defaults = surface.defaults
    return f"""{TS_HEADER}
/** Where each operation of the API lives on the client: `operationId → "resource.method"`. */
export const OPERATIONS = {{
{operations}
}} as const;

/** The error class thrown for each HTTP status (others: `FALLBACK_CLIENT_ERROR`, `FALLBACK_SERVER_ERROR`). */
export const ERROR_NAMES = {{
{errors}
}} as const;

export const FALLBACK_CLIENT_ERROR = '{surface.fallback_errors["client"]}';
export const FALLBACK_SERVER_ERROR = '{surface.fallback_errors["server"]}';

/** Environment variables read when the client is built without the setting. */
export const ENVIRONMENT = {{
{env}
}} as const;

/** Names read before 0.2 (after the ones above), with a one-time deprecation warning. */
export const DEPRECATED_ENVIRONMENT = {{
{old_env}
}} as const;

export const DEFAULT_BASE_URL = '{defaults["base_url"]}';
export const DEFAULT_MAX_RETRIES = {int(defaults["max_retries"])};
export const DEFAULT_TIMEOUT_MS = {int(float(defaults["timeout_seconds"]) * 1000)};
"""


def render_python(surface: Surface) -> str:
    """`og_records/_generated/surface.py`: the same data for the Python SDK's handwritten modules."""
    operations = {op.operation_id: f"{op.resource}.{op.method}" for op in surface.operations.values()}
    lines = [
        '"""The SDK surface (codegen/surface.yaml) as data."""',
        "",
        f"OPERATIONS: dict[str, str] = {operations!r}",
        f"ERROR_NAMES: dict[int, str] = {surface.errors!r}",
        f"FALLBACK_CLIENT_ERROR = {surface.fallback_errors['client']!r}",
        f"FALLBACK_SERVER_ERROR = {surface.fallback_errors['server']!r}",
        f"DEPRECATED_ERRORS: dict[str, str] = {surface.deprecated_errors!r}",
        f"ENVIRONMENT: dict[str, str] = {surface.environment!r}",
        f"DEFAULT_BASE_URL = {surface.defaults['base_url']!r}",
        f"DEFAULT_MAX_RETRIES = {int(surface.defaults['max_retries'])!r}",
        f"DEFAULT_TIMEOUT_SECONDS = {float(surface.defaults['timeout_seconds'])!r}",
        f"DEFAULT_CONNECT_TIMEOUT_SECONDS = {float(surface.defaults['connect_timeout_seconds'])!r}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    rendered = render_typescript(load())
    if args.check:
        if not TS_OUTPUT.exists() or TS_OUTPUT.read_text(encoding="utf-8") != rendered:
            print(f"{TS_OUTPUT.relative_to(ROOT)} is stale: run `nox -s codegen` and commit it", file=sys.stderr)
            return 1
        return 0
    TS_OUTPUT.write_text(rendered, encoding="utf-8")
    print(f"wrote {TS_OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
