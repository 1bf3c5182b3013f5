"""The bundled spec as the spec-consistency tests read it: the document, and a JSON pointer into it."""

import json
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[2] / "spec" / "dist" / "openapi.json"


def load() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC.read_text())
    return document


def resolve(document: dict[str, Any], pointer: str) -> Any:
    """The node at a JSON pointer, with or without the leading `#` of a `$ref`."""
    node: Any = document
    for part in pointer.removeprefix("#").lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node
