"""Every operation the server implements, called through the SDK against the live server."""

import uuid

import pytest
from og_records import AsyncOGRecords, NotFoundError, OGRecords, SyncPage
from og_records.models import HealthStatus, Person, PersonCreate, ReadinessStatus


def _new_person(client: OGRecords, name: str | None = None) -> Person:
    unique = uuid.uuid4().hex[:10]
    return client.persons.create(
        body=PersonCreate.from_dict({"name": name or f"Ada {unique}", "email": f"ada-{unique}@example.com"})
    )


def test_create_then_get_a_person(client: OGRecords) -> None:
    created = _new_person(client, "Ada Lovelace")
    assert isinstance(created, Person)
    assert created.id.startswith("per_")
    assert created.name == "Ada Lovelace"
    fetched = client.persons.get(created.id)
    assert fetched.id == created.id
    assert fetched.email == created.email


def test_list_walks_every_page_lazily(client: OGRecords) -> None:
    created = {_new_person(client).id for _ in range(5)}
    page = client.persons.list(limit=2)
    assert isinstance(page, SyncPage)
    assert len(page.data) == 2
    assert page.has_more
    assert page.next_cursor
    pages = list(page.iter_pages())
    assert len(pages) >= 3
    seen = [person.id for person in client.persons.list(limit=2)]
    assert len(seen) == len(set(seen)), "no person is yielded twice across pages"
    assert created <= set(seen)
    assert seen == [person.id for one in pages for person in one.data]


def test_system_probes(client: OGRecords) -> None:
    assert isinstance(client.system.health(), HealthStatus)
    assert isinstance(client.system.readiness(), ReadinessStatus)


def test_environment_comes_from_the_key(client: OGRecords) -> None:
    assert client.environment == "sandbox"


@pytest.mark.anyio
async def test_async_twin_creates_gets_and_paginates(async_client: AsyncOGRecords) -> None:
    unique = uuid.uuid4().hex[:10]
    created = await async_client.persons.create(
        body=PersonCreate(name=f"Grace {unique}", email=f"grace-{unique}@example.com")
    )
    assert (await async_client.persons.get(created.id)).name == f"Grace {unique}"
    first = await async_client.persons.list(limit=1)
    assert len(first.data) == 1
    assert first.has_more
    second = await first.next_page()
    assert second.data[0].id != first.data[0].id
    ids = [person.id async for person in async_client.persons.list(limit=2)]
    assert created.id in ids
    assert len(ids) == len(set(ids))
    assert (await async_client.system.health()).status


def test_a_missing_person_is_not_found(client: OGRecords) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.persons.get("per_" + "0" * 26)
    error = caught.value
    assert error.status == 404
    assert error.code
    assert error.request_id
    assert error.detail
