"""One surface for both SDKs (codegen/surface.yaml): every spec operation has a name there, and both SDKs expose
exactly those names, error classes and settings."""

import json
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "codegen"))
import surface as surface_module


def _surface() -> surface_module.Surface:
    """Loaded per test: with a spec operation missing from surface.yaml, the first test reports what to add and the
    others fail too, instead of the import stopping the whole run."""
    return surface_module.load()


def test_every_spec_operation_has_an_sdk_name_and_every_name_an_operation() -> None:
    raw = yaml.safe_load(surface_module.SURFACE_FILE.read_text())
    spec = json.loads(surface_module.SPEC.read_text())
    problems = surface_module.problems(raw, spec)
    assert not problems, "\n".join(problems)


def test_a_new_operation_without_an_entry_says_what_to_add() -> None:
    raw = yaml.safe_load(surface_module.SURFACE_FILE.read_text())
    spec = json.loads(surface_module.SPEC.read_text())
    spec["paths"]["/api/v1/sandbox/triggers"] = {"post": {"operationId": "createSandboxTrigger", "tags": ["Sandbox"]}}
    del raw["operations"]["getBalance"]
    problems = surface_module.problems(raw, spec)
    assert any(
        "createSandboxTrigger" in line and "`  createSandboxTrigger: sandbox.<method>`" in line for line in problems
    ), problems
    assert any("getBalance" in line and "codegen/surface.yaml" in line for line in problems), problems


def test_the_typescript_surface_file_is_generated_from_the_mapping() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "codegen" / "surface.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    generated = (ROOT / "sdk-typescript" / "src" / "surface.gen.ts").read_text()
    for op in _surface().operations.values():
        camel = f"{surface_module.camel(op.resource)}.{surface_module.camel(op.method)}"
        assert f"  {op.operation_id}: '{camel}'," in generated


def test_the_typescript_client_mounts_every_resource_and_method_of_the_mapping() -> None:
    """The compile-time half is `satisfies` in src/lib/operations.ts; this reads the client's source so that a
    drift is reported without a TypeScript build."""
    client = (ROOT / "sdk-typescript" / "src" / "lib" / "client.ts").read_text()
    for resource in _surface().resources:
        assert re.search(rf"readonly {surface_module.camel(resource)}: \w+;", client), resource


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_python_client_has_every_method_of_the_mapping(flavour: str) -> None:
    from og_records import AsyncOGRecords, OGRecords

    client_class = OGRecords if flavour == "sync" else AsyncOGRecords
    hints = typing.get_type_hints(client_class)
    resources = {name for name, hint in hints.items() if isinstance(hint, type) and hasattr(hint, "with_raw_response")}
    assert resources == set(_surface().resources)
    for op in _surface().operations.values():
        resource = hints[op.resource]
        method = getattr(resource, op.method, None)
        assert callable(method), f"{client_class.__name__}.{op.resource}.{op.method} is missing"
        from server.openapi.resolver import snake_case

        source = sys.modules[resource.__module__].__file__
        assert source is not None
        text = Path(source).read_text()
        assert f'operation_id="{snake_case(op.operation_id)}"' in text


def test_the_python_errors_and_settings_are_the_mapping_s() -> None:
    import httpx
    import og_records
    from og_records import _client
    from og_records._exceptions import error_for

    for status, name in _surface().errors.items():
        error_class = getattr(og_records, name)
        error = error_for(httpx.Response(status, json={"code": "x"}, request=httpx.Request("GET", "http://x")))
        assert type(error) is error_class
    assert type(error_for(httpx.Response(418, request=httpx.Request("GET", "http://x")))).__name__ == "BadRequestError"
    assert type(error_for(httpx.Response(502, request=httpx.Request("GET", "http://x")))).__name__ == (
        "InternalServerError"
    )
    for old, new in _surface().deprecated_errors.items():
        assert getattr(og_records, old) is getattr(og_records, new)
    assert _client.API_KEY_ENV == _surface().environment["api_key"] == "OG_RECORDS_API_KEY"
    assert _client.BASE_URL_ENV == _surface().environment["base_url"] == "OG_RECORDS_BASE_URL"
    assert _surface().defaults["base_url"] == og_records.DEFAULT_BASE_URL
    assert og_records.OGRecords(api_key="og_test_x").max_retries == _surface().defaults["max_retries"]
