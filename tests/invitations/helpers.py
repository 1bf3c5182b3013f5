"""A sandbox payee flow's building blocks: a person invited, a split naming them, the outbox's link."""

import re
from datetime import date
from typing import Any

from starlette.testclient import TestClient

from server.clock import now
from tests.conftest import Tenant
from tests.server.releases_helpers import create_release, ok


def next_month() -> tuple[date, str]:
    today = now().date()
    first = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return first, first.strftime("%Y-%m")


def invited_person(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Mara Lindqvist", "email": "mara@example.com", "invite": True, **fields}
    return dict(ok(client.post("/api/v1/persons", json=body, headers=tenant.headers), 201))


def split_for(
    client: TestClient, tenant: Tenant, person: dict[str, Any], *, release: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A release split 50/50 between the account's own artist person and `person` (composer), from next month."""
    release = release or create_release(client, tenant)
    own = ok(
        client.post("/api/v1/persons", json={"name": "Label", "email": "label@example.com"}, headers=tenant.headers),
        201,
    )
    first, _ = next_month()
    body = {
        "release_id": release["id"],
        "effective_from": first.isoformat(),
        "shares": [
            {"person_id": own["id"], "role": "label", "share_bps": 5000},
            {"person_id": person["id"], "role": "composer", "share_bps": 5000},
        ],
    }
    return dict(ok(client.post("/api/v1/splits", json=body, headers=tenant.headers), 201))


def outbox(client: TestClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    return list(ok(client.get("/api/v1/sandbox/outbox", params=params, headers=tenant.headers))["data"])


def link_path(message: dict[str, Any]) -> str:
    """The invitation page's path from a captured message (its `link`, which is also in the text)."""
    link = message["link"]
    assert link
    assert link in message["text"]
    found = re.search(r"/invitations/[^\s\"]+$", link)
    assert found
    return found.group(0)


def csrf_field(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def share_field(html: str) -> str:
    found = re.search(r'name="share" value="([^"]+)"', html)
    assert found, "no share can be answered on this page"
    return found.group(1)
