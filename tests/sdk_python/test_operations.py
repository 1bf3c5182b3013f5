"""The operations beyond the wizard through the Python SDK against a live server (issue 19): a takedown the sandbox's
simulated sub-distributor confirms, deleting a draft, removing a track, updating and deleting a person, updating,
disabling and deleting a smart link, an ISRC nobody else can take."""

import secrets

import pytest

from tests.sdk_python.conftest import LiveAPI


@pytest.fixture
def client(live_api: LiveAPI):  # type: ignore[no-untyped-def]
    from og_records import OGRecords

    with OGRecords(api_key=live_api.api_key, base_url=live_api.base_url) as sdk:
        yield sdk


def test_takedown_then_taken_down(client) -> None:  # type: ignore[no-untyped-def]
    from og_records import ConflictError

    triggered = client.sandbox.trigger(event="release.submitted")
    live = client.sandbox.advance_release(str(triggered.resource["id"]), to="live")
    requested = client.releases.request_takedown(live.id)
    assert requested.status == "takedown_requested"
    assert {delivery.status for delivery in requested.deliveries} == {"removing"}
    assert client.sandbox.advance_release(live.id, to="taken_down").status == "taken_down"
    with pytest.raises(ConflictError) as refused:
        client.releases.delete(live.id)
    assert (refused.value.code, refused.value.current_state) == ("invalid_state", "taken_down")


def test_remove_a_track_and_delete_the_draft(client) -> None:  # type: ignore[no-untyped-def]
    from og_records import NotFoundError

    release = client.releases.create(title="Short Lived", primary_artists=["Nova Lane"])
    first = client.tracks.create(release_id=release.id, title="One", primary_artists=["Nova Lane"])
    second = client.tracks.create(release_id=release.id, title="Two", primary_artists=["Nova Lane"])
    after = client.releases.remove_track(release.id, first.id)
    assert [(t.id, t.track_number) for t in after.tracks] == [(second.id, 1)]
    assert client.releases.delete(release.id).status_code == 204
    with pytest.raises(NotFoundError):
        client.releases.get(release.id)
    assert client.tracks.get(second.id).release_id is None


def test_update_and_delete_a_person(client) -> None:  # type: ignore[no-untyped-def]
    from og_records import NotFoundError

    person = client.persons.create(name="Mara Lindqvist", email="mara@example.com")
    updated = client.persons.update(person.id, legal_name="Mara Sofia Lindqvist", roles=["composer"])
    assert (updated.legal_name, updated.roles, updated.email) == ("Mara Sofia Lindqvist", ["composer"], person.email)
    client.persons.delete(person.id)
    with pytest.raises(NotFoundError):
        client.persons.get(person.id)


def test_update_disable_and_delete_a_smart_link(client) -> None:  # type: ignore[no-untyped-def]
    from og_records import APIStatusError, NotFoundError

    release = client.releases.create(title="Midnight Drive", primary_artists=["Nova Lane"])
    slug = f"ops-{secrets.token_hex(4)}"
    link = client.smart_links.create(release_id=release.id, slug=slug)
    assert client.smart_links.update(link.id, title="Midnight Drive (Deluxe)").title == "Midnight Drive (Deluxe)"
    assert client.smart_links.update(link.id, status="disabled").status == "disabled"
    with pytest.raises(APIStatusError) as gone:
        client.smart_links.get_public(slug)
    assert (gone.value.status, gone.value.code) == (410, "smartlink_disabled")
    client.smart_links.delete(link.id)
    with pytest.raises(NotFoundError):
        client.smart_links.get_public(slug)


def test_an_isrc_in_use_cannot_be_taken(client) -> None:  # type: ignore[no-untyped-def]
    from og_records import ConflictError

    isrc = f"QZ{secrets.randbelow(1000):03d}26{secrets.randbelow(100000):05d}"
    client.tracks.create(title="Original", primary_artists=["Nova Lane"], isrc=isrc)
    with pytest.raises(ConflictError) as taken:
        client.tracks.create(title="Copy", primary_artists=["Nova Lane"], isrc=isrc)
    assert taken.value.code == "conflict"
