"""API key management through the SDK against the live server: a created key's secret works in a second client,
lists filter by status across pages, rotation keeps the old secret for its grace period (or not), revocation."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from og_records import AuthenticationError, OGRecords, PermissionDeniedError, SyncPage
from og_records.models import ApiKey, ApiKeyCreate, ApiKeyRotation, ApiKeyScope, ApiKeyWithSecret, PersonCreate

NewHttp = Callable[[], httpx.Client]


def _create(client: OGRecords, scopes: list[ApiKeyScope], **fields: object) -> ApiKeyWithSecret:
    return client.api_keys.create(
        body=ApiKeyCreate(name=f"SDK key {uuid.uuid4().hex[:8]}", scopes=scopes, **fields)  # type: ignore[arg-type]
    )


def _as(secret: str, base_url: str, recording_http: NewHttp) -> OGRecords:
    """A second client, holding the created key: what the integrator hands to another service."""
    return OGRecords(api_key=secret, base_url=base_url, http_client=recording_http(), max_retries=0)


def _authentication_code(client: OGRecords) -> str | None:
    with pytest.raises(AuthenticationError) as refused:
        client.persons.list(limit=1)
    assert refused.value.status == 401
    return refused.value.code


def test_a_created_key_works_in_a_second_client_with_only_its_scopes(
    client: OGRecords, base_url: str, recording_http: NewHttp
) -> None:
    key = _create(client, ["persons:read"])
    assert key.secret.startswith("og_test_")
    assert key.last_four == key.secret[-4:]
    assert key.status == "active"
    assert key.scopes == ["persons:read"]
    second = _as(key.secret, base_url, recording_http)
    assert second.environment == "sandbox"
    assert isinstance(second.persons.list(limit=1), SyncPage)
    with pytest.raises(PermissionDeniedError) as denied:
        second.persons.create(body=PersonCreate(name="Not allowed", email="not-allowed@example.com"))
    assert denied.value.code == "insufficient_scope"
    fetched = client.api_keys.get(key.id)
    assert isinstance(fetched, ApiKey)
    assert not hasattr(fetched, "secret"), "the secret is shown once, at creation"
    assert (fetched.id, fetched.last_four, fetched.name) == (key.id, key.last_four, key.name)
    assert fetched.last_used_at is not None, "the second client's request was recorded"


def test_list_filters_by_status_and_walks_every_page(client: OGRecords) -> None:
    active = {_create(client, ["persons:read"]).id for _ in range(3)}
    expiring = _create(client, ["persons:read"], expires_at=datetime.now(UTC) + timedelta(days=2))
    assert expiring.status == "expiring"
    revoked = _create(client, ["persons:read"])
    client.api_keys.revoke(revoked.id)

    first = client.api_keys.list(status="active", limit=2)
    assert len(first.data) == 2
    assert first.has_next_page()
    second = first.next_page()
    assert {key.id for key in second.data}.isdisjoint(key.id for key in first.data)
    listed = [key.id for key in client.api_keys.list(status="active", limit=2)]  # every page, fetched lazily
    assert len(listed) == len(set(listed)), "no key is yielded twice across pages"
    assert active <= set(listed)
    assert expiring.id not in listed
    assert revoked.id not in listed
    assert all(key.status == "active" for key in client.api_keys.list(status="active", limit=2))

    expiring_now = list(client.api_keys.list(status="expiring"))
    assert expiring.id in [key.id for key in expiring_now]
    assert {key.status for key in expiring_now} == {"expiring"}
    revoked_ids = [key.id for key in client.api_keys.list(status="revoked", limit=1)]
    assert revoked.id in revoked_ids
    assert active.isdisjoint(revoked_ids)


def test_rotation_keeps_the_old_secret_for_the_grace_period_unless_told_otherwise(
    client: OGRecords, base_url: str, recording_http: NewHttp
) -> None:
    key = _create(client, ["persons:read"])
    rotated = client.api_keys.rotate(key.id)
    assert rotated.id == key.id
    assert rotated.secret != key.secret
    assert rotated.last_four == rotated.secret[-4:]
    assert rotated.previous_secret_expires_at is not None
    grace = rotated.previous_secret_expires_at - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < grace <= timedelta(days=7)
    old, new = _as(key.secret, base_url, recording_http), _as(rotated.secret, base_url, recording_http)
    assert isinstance(old.persons.list(limit=1), SyncPage), "the old secret works during the grace period"
    assert isinstance(new.persons.list(limit=1), SyncPage)

    # Rotating with expires_in=0 (a leaked secret) ends every earlier secret at once.
    again = client.api_keys.rotate(key.id, body=ApiKeyRotation(expires_in=0))
    assert again.previous_secret_expires_at is None
    assert _authentication_code(old) == "invalid_api_key"
    assert _authentication_code(new) == "invalid_api_key"
    assert isinstance(_as(again.secret, base_url, recording_http).persons.list(limit=1), SyncPage)


def test_a_revoked_key_is_refused_with_api_key_revoked(
    client: OGRecords, base_url: str, recording_http: NewHttp
) -> None:
    key = _create(client, ["persons:read"])
    holder = _as(key.secret, base_url, recording_http)
    assert isinstance(holder.persons.list(limit=1), SyncPage)
    revoked = client.api_keys.revoke(key.id)
    assert revoked.status == "revoked"
    assert revoked.revoked_at is not None
    assert _authentication_code(holder) == "api_key_revoked"
    again = client.api_keys.revoke(key.id)  # revoking twice changes nothing
    assert again.revoked_at == revoked.revoked_at
    assert client.api_keys.get(key.id).status == "revoked"
