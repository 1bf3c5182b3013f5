"""The Python SDK's calling conventions against a live server: keyword arguments or request models, per-request
options, raw responses, and the request id on every object and error. (The whole SDK suite runs from the built
wheel in test_sdk_wheel.py; these run in place, so they are quick to iterate on.)"""

import httpx
import pytest

from tests.sdk_python.conftest import LiveAPI


@pytest.fixture
def client(live_api: LiveAPI):  # type: ignore[no-untyped-def]
    from og_records import OGRecords

    seen: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [seen.append]})
    with OGRecords(api_key=live_api.api_key, base_url=live_api.base_url, http_client=http) as sdk:
        sdk.seen = seen  # type: ignore[attr-defined]
        yield sdk
    http.close()


def test_keyword_arguments_and_request_models_create_the_same(client) -> None:  # type: ignore[no-untyped-def]
    from og_records.models import PersonCreate

    by_keywords = client.persons.create(name="Mara Lindqvist", email="mara@example.com", roles=["composer"])
    by_model = client.persons.create(body=PersonCreate(name="Mara Lindqvist", email="mara2@example.com"))
    assert (by_keywords.name, by_keywords.roles) == ("Mara Lindqvist", ["composer"])
    assert by_model.name == "Mara Lindqvist"
    with pytest.raises(TypeError, match="email"):
        client.persons.create(name="No Email")
    with pytest.raises(TypeError, match="not both"):
        client.persons.create(body=PersonCreate(name="A", email="a@example.com"), name="B")


def test_every_object_and_error_carries_its_request_id(client) -> None:  # type: ignore[no-untyped-def]
    from og_records import NotFoundError, UnprocessableEntityError

    person = client.persons.create(name="Ada", email="ada@example.com")
    assert person.request_id
    assert person.request_id.startswith("req_")
    page = client.persons.list(limit=1)
    assert page.data[0].request_id is None or page.data[0].request_id.startswith("req_")
    with pytest.raises(NotFoundError) as missing:
        client.persons.get("per_" + "0" * 26)
    assert missing.value.request_id
    assert missing.value.request_id.startswith("req_")
    with pytest.raises(UnprocessableEntityError) as invalid:
        client.persons.create(name="", email="not-an-email")
    assert invalid.value.errors
    assert invalid.value.request_id


def test_per_request_options_reach_the_request(client) -> None:  # type: ignore[no-untyped-def]
    client.persons.create(
        name="Per Request",
        email="per@example.com",
        idempotency_key="idem-per-request-1",
        extra_headers={"X-Trace": "t1"},
    )
    sent = client.seen[-1]
    assert sent.headers["Idempotency-Key"] == "idem-per-request-1"
    assert sent.headers["X-Trace"] == "t1"
    client.persons.list(timeout=7.5, max_retries=0)
    assert client.seen[-1].extensions["timeout"]["read"] == 7.5
    with pytest.raises(ValueError, match="max_retries"):
        client.persons.list(max_retries=-1)


def test_with_raw_response_gives_status_headers_request_id_and_the_parsed_body(client) -> None:  # type: ignore[no-untyped-def]
    from og_records import APIResponse
    from og_records.models import Person

    raw = client.persons.with_raw_response.create(name="Raw", email="raw@example.com")
    assert isinstance(raw, APIResponse)
    assert raw.status_code == 201
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.request_id == raw.headers["x-request-id"]
    person = raw.parse()
    assert isinstance(person, Person)
    assert person.name == "Raw"
    assert person.request_id == raw.request_id
    listed = client.persons.with_raw_response.list(limit=1)
    assert listed.status_code == 200
    assert len(listed.parse().data) == 1
    balance = client.balance.with_raw_response.get()
    assert balance.parse().currency


def test_track_credits_are_typed_models(client) -> None:  # type: ignore[no-untyped-def]
    from og_records.models import TrackCredit, TrackCreditInput

    writer = client.persons.create(name="Jonas", legal_name="Jonas Berg", email="jonas@example.com")
    track = client.tracks.create(
        title="Borealis",
        primary_artists=["Aurora Vale"],
        credits=[TrackCreditInput(person_id=writer.id, role="composer"), TrackCreditInput(name="Kim", role="producer")],
    )
    assert all(isinstance(credit, TrackCredit) for credit in track.credits)
    assert [(c.name, c.role) for c in track.credits] == [("Jonas Berg", "composer"), ("Kim", "producer")]
    # Exactly one of person_id and name, as before the schema said it without a oneOf.
    from og_records import UnprocessableEntityError

    for wrong in (
        TrackCreditInput(role="producer"),
        TrackCreditInput(person_id=writer.id, name="Kim", role="composer"),
    ):
        with pytest.raises(UnprocessableEntityError) as refused:
            client.tracks.create(title="Borealis", primary_artists=["Aurora Vale"], credits=[wrong])
        assert refused.value.errors[0].pointer.startswith("/credits/0")


@pytest.mark.anyio
async def test_the_async_client_has_the_same_conventions(live_api: LiveAPI) -> None:
    from og_records import AsyncOGRecords

    async with AsyncOGRecords(api_key=live_api.api_key, base_url=live_api.base_url) as client:
        person = await client.persons.create(name="Async", email="async@example.com", extra_headers={"X-A": "1"})
        assert person.request_id
        raw = await client.persons.with_raw_response.get(person.id)
        assert raw.status_code == 200
        assert raw.parse().id == person.id
        first_page = await client.persons.with_raw_response.list(limit=1)
        assert first_page.parse().data


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
