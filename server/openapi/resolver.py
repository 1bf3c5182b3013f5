"""Binds public operationIds to handler functions.

The spec's operationIds are the SDKs' method names (`createRelease`), so they cannot be dotted Python paths.
An operation's single tag names its handler module and the operationId, in snake case, names the function:
tag `Releases` + `createRelease` → `server.api.releases.create_release`.

Operations whose handler does not exist yet answer 501 `not_implemented` (problem+json), and are listed by
`unimplemented_operations()` so the contract tests can keep one visible list of them.
"""

import importlib
import re
from collections.abc import Callable
from typing import Any

from connexion.resolver import Resolution, Resolver

from server.problems import ApiProblem

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(name: str) -> str:
    """`createRelease` → `create_release`; acronyms stay whole: `OAuth` → `oauth`, `createOauthToken` →
    `create_oauth_token`."""
    return _WORD_BOUNDARY.sub("_", name).lower()


HANDLER_PACKAGE = "server.api"


def module_for_tag(tag: str, package: str = HANDLER_PACKAGE) -> str:
    return f"{package}.{snake_case(tag)}"


def handler_name(tag: str, operation_id: str, package: str = HANDLER_PACKAGE) -> str:
    return f"{module_for_tag(tag, package)}.{snake_case(operation_id)}"


def find_handler(tag: str, operation_id: str, package: str = HANDLER_PACKAGE) -> Callable[..., Any] | None:
    module_name = module_for_tag(tag, package)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    handler: Callable[..., Any] | None = getattr(module, snake_case(operation_id), None)
    return handler


def _not_implemented(operation_id: str) -> Callable[..., Any]:
    def handler(*_args: Any, **_kwargs: Any) -> Any:
        raise ApiProblem(
            501,
            "not_implemented",
            f"The operation {operation_id} is part of the API contract but not available on this server yet.",
        )

    handler.__name__ = f"not_implemented_{snake_case(operation_id)}"
    return handler


class TagResolver(Resolver):  # type: ignore[misc]
    def __init__(self, package: str = HANDLER_PACKAGE) -> None:
        super().__init__()
        self.package = package

    def resolve(self, operation: Any) -> Resolution:
        operation_id: str = operation.operation_id
        tag: str = operation._operation["tags"][0]  # connexion keeps the raw operation object here
        handler = find_handler(tag, operation_id, self.package) or _not_implemented(operation_id)
        return Resolution(handler, handler_name(tag, operation_id, self.package))


def unimplemented_operations(document: dict[str, Any]) -> list[str]:
    """operationIds of the document that have no handler yet."""
    missing = []
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in {"get", "put", "post", "patch", "delete"} and (
                find_handler(operation["tags"][0], operation["operationId"]) is None
            ):
                missing.append(operation["operationId"])
    return sorted(missing)
