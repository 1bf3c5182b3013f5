"""The status enums the services set (server/domain) are the spec's: a value added to, renamed in or removed from
an `enum` in the bundled spec without the same change in the code fails here, and so does a new status enum in the
spec that no domain enum stands for."""

import json
from enum import StrEnum
from typing import Any

import pytest

from server.domain.api_keys import ApiKeyStatus
from server.domain.payouts import PayoutStatus
from server.domain.persons import InvitationStatus
from server.domain.releases import DeliveryStatus, ReleaseStatus
from server.domain.smartlinks import SmartLinkStatus
from server.domain.splits import ShareStatus, SplitStatus
from server.domain.tracks import QcStatus
from server.domain.webhook_endpoints import AttemptOutcome, EndpointStatus
from tests.server import spec_document
from tests.server.spec_document import resolve

# Each domain enum and the JSON pointers (into the bundled spec) of the enums it must equal.
ENUMS: dict[type[StrEnum], tuple[str, ...]] = {
    ReleaseStatus: ("/components/schemas/ReleaseStatus",),
    DeliveryStatus: (
        "/components/schemas/DeliveryStatus/properties/status",
        "/components/schemas/DspSyncDeliveryStatusChanged/properties/data/properties/status",
    ),
    QcStatus: ("/components/schemas/QcStatus",),
    PayoutStatus: ("/components/schemas/Payout/properties/status",),
    InvitationStatus: ("/components/schemas/Person/properties/invitation_status",),
    SplitStatus: ("/components/schemas/Split/properties/status",),
    ShareStatus: ("/components/schemas/SplitShare/properties/acceptance_status",),
    SmartLinkStatus: (
        "/components/schemas/SmartLink/properties/status",
        "/components/schemas/SmartLinkUpdate/properties/status",
    ),
    EndpointStatus: (
        "/components/schemas/WebhookEndpoint/properties/status",
        "/components/schemas/WebhookEndpointUpdate/properties/status",
    ),
    AttemptOutcome: ("/components/schemas/WebhookAttempt/properties/outcome",),
    ApiKeyStatus: ("/components/schemas/ApiKey/properties/status",),
}

# Status enums of the spec that are not a resource's state set by a service.
NOT_DOMAIN_STATES = {
    "/components/schemas/SandboxClock/properties/status": "ready | advancing: whether an advance holds the claim",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return spec_document.load()


def differences(document: dict[str, Any], enum: type[StrEnum], pointer: str) -> tuple[set[str], set[str]]:
    """(values only the spec has, values only the code has)."""
    schema = resolve(document, pointer)
    if "$ref" in schema:
        schema = resolve(document, schema["$ref"].removeprefix("#"))
    in_spec = set(schema["enum"])
    in_code = {member.value for member in enum}
    return in_spec - in_code, in_code - in_spec


@pytest.mark.parametrize(
    ("enum", "pointer"), [(enum, pointer) for enum, pointers in ENUMS.items() for pointer in pointers]
)
def test_each_status_enum_has_exactly_the_spec_values(spec: dict[str, Any], enum: type[StrEnum], pointer: str) -> None:
    only_spec, only_code = differences(spec, enum, pointer)
    assert not only_spec, f"{pointer} has {sorted(only_spec)}, which {enum.__name__} lacks"
    assert not only_code, f"{enum.__name__} has {sorted(only_code)}, which {pointer} lacks"


def test_a_spec_change_without_the_code_change_is_caught(spec: dict[str, Any]) -> None:
    changed = json.loads(json.dumps(spec))
    resolve(changed, "/components/schemas/Payout/properties/status")["enum"].append("on_hold")
    resolve(changed, "/components/schemas/ReleaseStatus")["enum"].remove("live")
    assert differences(changed, PayoutStatus, "/components/schemas/Payout/properties/status") == ({"on_hold"}, set())
    assert differences(changed, ReleaseStatus, "/components/schemas/ReleaseStatus") == (set(), {"live"})


def _status_enums(node: Any, pointer: str = "") -> list[str]:
    """Pointers of every enum-valued `status`, `*_status` or `outcome` property (or `*Status` schema) in the spec."""
    found: list[str] = []
    if isinstance(node, dict):
        name = pointer.rsplit("/", 1)[-1]
        if "enum" in node and (name in {"status", "outcome"} or name.endswith(("_status", "Status"))):
            found.append(pointer)
        for key, value in node.items():
            found.extend(_status_enums(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_status_enums(value, f"{pointer}/{index}"))
    return found


def test_every_status_enum_of_the_spec_has_a_domain_enum(spec: dict[str, Any]) -> None:
    covered = {pointer for pointers in ENUMS.values() for pointer in pointers} | set(NOT_DOMAIN_STATES)
    in_schemas = _status_enums(spec["components"]["schemas"], "/components/schemas")
    assert in_schemas, "the walk found no status enum at all"
    assert sorted(set(in_schemas) - covered) == []
