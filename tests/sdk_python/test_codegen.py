"""The committed generated SDK layer is exactly what the pinned generator makes from the committed spec."""

import subprocess
import sys

from tests.conftest import ROOT


def test_regenerating_the_python_sdk_changes_nothing() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "codegen" / "python" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_spec_operation_has_a_namespace_method() -> None:
    """The generated namespaces cover the whole contract, not only what the server implements today."""
    from server.openapi.resolver import snake_case
    from server.openapi.specification import raw_document

    document = raw_document()
    operation_ids = {
        snake_case(operation["operationId"])
        for path_item in document["paths"].values()
        for method, operation in path_item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    }
    api_dir = ROOT / "sdk-python" / "og_records" / "_generated" / "api"
    wired = set()
    for namespace in api_dir.iterdir():
        if namespace.is_dir() and (namespace / "__init__.py").exists():
            source = (namespace / "__init__.py").read_text()
            wired |= {op for op in operation_ids if f'operation_id="{op}"' in source}
    assert wired == operation_ids
