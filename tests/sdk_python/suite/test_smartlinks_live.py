"""Smart links through the SDK against the live server: create with pre-saves, the public page, a click's redirect,
the owner's reads and the statistics that the page view and click produced."""

import uuid
from datetime import date, timedelta

import pytest
from og_records import ConflictError, NotFoundError, OGRecords, UnprocessableEntityError
from og_records.models import (
    ReleaseCreate,
    ReleaseDistributionUpdate,
    SmartLinkCreate,
    SmartLinkCreateDestinationsItem,
    SmartLinkCreatePresave,
)

SPOTIFY = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"
BANDCAMP = "https://novalane.bandcamp.com/album/midnight-drive"


def test_a_smart_link_from_creation_to_statistics(client: OGRecords) -> None:
    release = client.releases.create(body=ReleaseCreate(title="Midnight Drive", primary_artists=["Nova Lane"]))
    client.releases.update_distribution(
        release.id, body=ReleaseDistributionUpdate(release_date=date.today() + timedelta(days=14))
    )
    slug = f"midnight-drive-{uuid.uuid4().hex[:8]}"
    link = client.smart_links.create(
        body=SmartLinkCreate(
            release_id=release.id,
            slug=slug,
            destinations=[
                SmartLinkCreateDestinationsItem(service="spotify", url=SPOTIFY),
                SmartLinkCreateDestinationsItem(service="bandcamp", url=BANDCAMP),
            ],
            presave=SmartLinkCreatePresave(enabled=True, services=["spotify"], time_zone="Europe/Berlin"),
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert link.mode == "presave"
    assert link.presave.time_zone == "Europe/Berlin"
    assert client.smart_links.get(link.id).slug == slug
    assert link.id in [item.id for item in client.smart_links.list(release_id=release.id)]

    page = client.smart_links.get_public(slug)
    assert [(s.service, s.action) for s in page.services] == [("spotify", "presave"), ("bandcamp", "buy")]
    went = client.smart_links.follow(slug, "spotify")
    assert went.status_code == 302
    assert went.headers["location"] == SPOTIFY

    stats = client.smart_links.get_stats(link.id, from_=date.today() - timedelta(days=1), to=date.today())
    assert stats.smartlink_id == link.id
    assert len(stats.daily) == 2
    # The SDK's user agent is not a browser's: the hits are kept but counted as bots, never as fans.
    assert stats.views.total == 0

    with pytest.raises(ConflictError):
        client.smart_links.create(body=SmartLinkCreate(release_id=release.id, slug=slug))
    with pytest.raises(UnprocessableEntityError) as refused:
        client.smart_links.create(
            body=SmartLinkCreate(
                release_id=release.id,
                slug=f"{slug}-x",
                destinations=[SmartLinkCreateDestinationsItem(service="tidal", url="http://x.test/")],
            )
        )
    assert [e.pointer for e in refused.value.errors] == ["/destinations/0/url"]
    with pytest.raises(NotFoundError):
        client.smart_links.get_public("no-such-link-here")
