"""The operations beyond the wizard through the Python SDK against a live server (issue 19): a takedown the sandbox's
simulated sub-distributor confirms, deleting a draft, removing a track, updating and deleting a person, updating,
disabling and deleting a smart link, an ISRC nobody else can take."""

import os
import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest
from og_records import APIStatusError, ConflictError, NotFoundError, OGRecords


@pytest.fixture
def mocked(base_url: str, recording_http: Callable[[], httpx.Client]) -> Iterator[OGRecords]:
    """The parity account's sandbox: it has a mock catalogue with live releases (the suite's own account starts
    empty); no other test takes its releases down."""
    key = os.environ["OG_SDK_TEST_PARITY_SANDBOX_KEY"]
    with OGRecords(api_key=key, base_url=base_url, http_client=recording_http()) as sdk:
        yield sdk


def test_takedown_then_taken_down(mocked: OGRecords) -> None:
    live = next(release for release in mocked.releases.list(limit=100) if release.status == "live")
    requested = mocked.releases.request_takedown(live.id)
    assert requested.status == "takedown_requested"
    assert {delivery.status for delivery in requested.deliveries} <= {"removing", "removed"}
    assert mocked.releases.request_takedown(live.id).status == "takedown_requested"  # a repeat changes nothing
    assert mocked.sandbox.advance_release(live.id, to="taken_down").status == "taken_down"
    with pytest.raises(ConflictError) as refused:
        mocked.releases.delete(live.id)
    assert (refused.value.code, refused.value.current_state) == ("invalid_state", "taken_down")


def test_remove_a_track_and_delete_the_draft(client: OGRecords) -> None:
    release = client.releases.create(title="Short Lived", primary_artists=["Nova Lane"])
    first = client.tracks.create(release_id=release.id, title="One", primary_artists=["Nova Lane"])
    second = client.tracks.create(release_id=release.id, title="Two", primary_artists=["Nova Lane"])
    after = client.releases.remove_track(release.id, first.id)
    assert [(t.id, t.track_number) for t in after.tracks] == [(second.id, 1)]
    assert client.releases.delete(release.id).status_code == 204
    with pytest.raises(NotFoundError):
        client.releases.get(release.id)
    assert client.tracks.get(second.id).release_id is None


def test_update_and_delete_a_person(client: OGRecords) -> None:
    person = client.persons.create(name="Mara Lindqvist", email="mara@example.com")
    updated = client.persons.update(person.id, legal_name="Mara Sofia Lindqvist", roles=["composer"])
    assert (updated.legal_name, updated.roles, updated.email) == ("Mara Sofia Lindqvist", ["composer"], person.email)
    client.persons.delete(person.id)
    with pytest.raises(NotFoundError):
        client.persons.get(person.id)


def test_update_disable_and_delete_a_smart_link(client: OGRecords) -> None:
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


def test_an_isrc_in_use_cannot_be_taken(client: OGRecords) -> None:
    isrc = f"QZ{secrets.randbelow(1000):03d}26{secrets.randbelow(100000):05d}"
    client.tracks.create(title="Original", primary_artists=["Nova Lane"], isrc=isrc)
    with pytest.raises(ConflictError) as taken:
        client.tracks.create(title="Copy", primary_artists=["Nova Lane"], isrc=isrc)
    assert taken.value.code == "conflict"
