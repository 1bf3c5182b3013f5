"""Loading the bundled OpenAPI 3.1 document and handing it to connexion.

connexion 3.3 refuses `openapi: 3.1.x` because it checks documents against its bundled 3.0 schema
(spec-first/connexion#1396). Everything else it does with a document (routing, parameter parsing, security,
binding) works on 3.1 as long as validation speaks 2020-12, which `server.openapi.validators` provides. So the only
change is the document check: `OpenAPI31Specification` validates with openapi-spec-validator's 3.1 validator instead.
It is installed as connexion's OpenAPI specification class for the process (connexion picks that class by name in
`Specification.from_dict`; there is no parameter for it).
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

import connexion.spec
from connexion.exceptions import InvalidSpecification
from openapi_spec_validator import OpenAPIV31SpecValidator

_PACKAGED = Path(__file__).resolve().parent.parent / "_spec" / "openapi.json"
_REPOSITORY = Path(__file__).resolve().parents[2] / "spec" / "dist" / "openapi.json"


def spec_path() -> Path:
    """The bundled document: inside an installed wheel, or in the repository for an editable install."""
    return _PACKAGED if _PACKAGED.exists() else _REPOSITORY


@cache
def raw_document() -> dict[str, Any]:
    """The 3.1 document exactly as published (served at /openapi.json, read by the docs and the SDK generators)."""
    with spec_path().open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


@cache
def document_bytes() -> bytes:
    return spec_path().read_bytes()


class OpenAPI31Specification(connexion.spec.OpenAPISpecification):  # type: ignore[misc]
    """connexion's OpenAPI specification, checked as OpenAPI 3.1 instead of 3.0."""

    @classmethod
    def _validate_spec(cls, spec: dict[str, Any]) -> None:
        version = str(spec.get("openapi", ""))
        if not version.startswith("3.1."):
            raise InvalidSpecification(f"expected an OpenAPI 3.1 document, got {version!r}")
        try:
            errors = [error.message for error in OpenAPIV31SpecValidator(spec).iter_errors()]
        except (KeyError, TypeError, ValueError) as exc:  # the validator trips over some malformed shapes
            errors = [f"malformed document near {exc}"]
        if errors:
            raise InvalidSpecification(f"invalid OpenAPI 3.1 document: {errors[0]}")


def install() -> None:
    """Make connexion build OpenAPI31Specification for every OpenAPI 3 document it loads."""
    current = getattr(connexion.spec, "OpenAPISpecification", None)
    if current is None or not issubclass(OpenAPI31Specification, current):
        raise RuntimeError("connexion.spec.OpenAPISpecification moved: revisit docs/adr/0001 before upgrading")
    connexion.spec.OpenAPISpecification = OpenAPI31Specification
