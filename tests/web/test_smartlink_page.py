"""The smart-link page fans open (`GET /l/{slug}`): what it shows in each mode, what link previews read, how it is
cached, that views and clicks land in the statistics, and the cover derivatives it shows."""

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlmodel import col, select
from starlette.testclient import TestClient

from server import clock
from server.db.engine import session_scope
from server.db.models.artwork import ArtworkDerivative
from server.db.models.smartlinks import SmartLink
from server.docs_site.build import GUIDES_SOURCE
from server.services import artwork
from server.web import static
from tests.conftest import Tenant
from tests.server.releases_helpers import good_cover, run_qc, upload_artwork

FAN = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile Safari/604.1"}
SPOTIFY = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"
APPLE = "https://music.apple.com/de/album/midnight-drive/1790000001"
BANDCAMP = "https://novalane.bandcamp.com/album/midnight-drive"
TIDAL = "https://tidal.com/browse/album/1790000001"


class Document(HTMLParser):
    """The parts of a page the tests read: meta tags, links, elements by class, JSON-LD, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.anchors: list[dict[str, str]] = []
        self.times: list[dict[str, str]] = []
        self.images: list[dict[str, str]] = []
        self.scripts: list[dict[str, str]] = []
        self.json_ld: list[Any] = []
        self._in_ld = False
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "link":
            self.links[a.get("rel", "")] = a.get("href", "")
        elif tag == "a":
            self.anchors.append(a)
        elif tag == "time":
            self.times.append(a)
        elif tag == "img":
            self.images.append(a)
        elif tag == "script":
            self.scripts.append(a)
            self._in_ld = a.get("type") == "application/ld+json"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(json.loads(data))
        else:
            self.text.append(data)


def _release(client: TestClient, tenant: Tenant, release_date: date | None = None) -> str:
    body: dict[str, Any] = {"title": "Midnight Drive", "primary_artists": ["Nova Lane", "Kito Mar"]}
    created = client.post("/api/v1/releases", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    release_id = str(created.json()["id"])
    if release_date is not None:
        patched = client.patch(
            f"/api/v1/releases/{release_id}/distribution",
            json={"release_date": release_date.isoformat()},
            headers=tenant.headers,
        )
        assert patched.status_code == 200, patched.text
    return release_id


def _link(client: TestClient, tenant: Tenant, slug: str, **fields: Any) -> dict[str, Any]:
    body = {
        "release_id": fields.pop("release_id", None) or _release(client, tenant),
        "slug": slug,
        "destinations": [
            {"service": "spotify", "url": SPOTIFY},
            {"service": "apple_music", "url": APPLE},
            {"service": "bandcamp", "url": BANDCAMP},
        ],
        **fields,
    }
    response = client.post("/api/v1/smartlinks", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _slug(name: str) -> str:
    return f"{name}-{hashlib.sha256(str(clock.now()).encode()).hexdigest()[:8]}"


def test_the_links_url_is_its_page_with_one_counted_button_per_service(client: TestClient, tenant: Tenant) -> None:
    link = _link(client, tenant, _slug("page"))
    assert link["url"] == f"http://testserver/l/{link['slug']}"
    public = client.get(f"/api/v1/smartlinks/{link['slug']}").json()
    assert public["url"] == link["url"]

    response = client.get(f"/l/{link['slug']}", headers=FAN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = Document(response.text)
    assert "Midnight Drive" in page.text
    assert "Nova Lane & Kito Mar" in page.text
    buttons = [a for a in page.anchors if a.get("class") == "button"]
    assert [b["href"] for b in buttons] == [
        f"/api/v1/smartlinks/{link['slug']}/go/{service}" for service in ("spotify", "apple_music", "bandcamp")
    ]
    # Every mark is our own static file.
    assert [i["src"] for i in page.images] == [
        static.url(f"mark-{s}.svg") for s in ("spotify", "apple_music", "bandcamp")
    ]
    for image in page.images:
        assert client.get(image["src"]).headers["content-type"] == "image/svg+xml"
    assert SPOTIFY not in response.text  # destinations only ever leave through the counted redirect

    went = [client.get(b["href"], headers=FAN, follow_redirects=False) for b in buttons]
    assert [(w.status_code, w.headers["location"]) for w in went] == [(302, SPOTIFY), (302, APPLE), (302, BANDCAMP)]
    stats = client.get(f"/api/v1/smartlinks/{link['id']}/stats", headers=tenant.headers).json()
    # The page view counts exactly as the JSON view above does.
    assert stats["views"]["total"] == 2
    assert stats["clicks"]["total"] == 3
    assert {s["service"] for s in stats["clicks"]["by_service"]} == {"spotify", "apple_music", "bandcamp"}


def test_link_previews_get_open_graph_twitter_and_schema_org_without_being_counted(
    client: TestClient, tenant: Tenant
) -> None:
    link = _link(client, tenant, _slug("share"))
    page = Document(client.get(f"/l/{link['slug']}", headers={"User-Agent": "WhatsApp/2.23.20.0"}).text)
    assert page.meta["og:type"] == "music.album"
    assert page.meta["og:title"] == "Midnight Drive \N{EN DASH} Nova Lane & Kito Mar"
    assert page.meta["og:url"] == page.links["canonical"] == link["url"]
    assert (
        page.meta["og:description"]
        == "Listen to Midnight Drive by Nova Lane & Kito Mar on Spotify, Apple Music and Bandcamp."
    )
    assert "og:image" not in page.meta  # no cover yet
    assert page.meta["twitter:card"] == "summary"
    (data,) = page.json_ld
    assert data["@type"] == "MusicAlbum"
    assert data["byArtist"] == [
        {"@type": "MusicGroup", "name": "Nova Lane"},
        {"@type": "MusicGroup", "name": "Kito Mar"},
    ]
    assert [(o["name"], o["url"]) for o in data["offers"]] == [
        (label, f"http://testserver/api/v1/smartlinks/{link['slug']}/go/{service}")
        for label, service in (("Spotify", "spotify"), ("Apple Music", "apple_music"), ("Bandcamp", "bandcamp"))
    ]
    stats = client.get(f"/api/v1/smartlinks/{link['id']}/stats", headers=tenant.headers).json()
    assert stats["views"]["total"] == 0


def test_values_cannot_break_out_of_the_json_ld_block(client: TestClient, tenant: Tenant) -> None:
    link = _link(client, tenant, _slug("inject"), title="</script><script>alert(1)</script>")
    body = client.get(f"/l/{link['slug']}", headers=FAN).text
    assert "<script>alert(1)" not in body
    assert Document(body).json_ld[0]["name"] == "</script><script>alert(1)</script>"


def test_before_release_day_the_page_counts_down_and_offers_pre_saves(client: TestClient, tenant: Tenant) -> None:
    # Berlin's midnight of this day is 5½ to 6½ days ahead whatever the time of day: a run that crosses midnight
    # (UTC or Berlin) between creating the link and reading its page still sees "in 5 days" or "in 6 days".
    release_day = (clock.now() + timedelta(days=6, hours=12)).date()
    link = _link(
        client,
        tenant,
        _slug("presave"),
        release_id=_release(client, tenant, release_day),
        destinations=[
            {"service": "spotify", "url": SPOTIFY},
            {"service": "tidal", "url": TIDAL},
            {"service": "bandcamp", "url": BANDCAMP},
        ],
        presave={"enabled": True, "services": ["spotify"], "time_zone": "Europe/Berlin"},
    )
    midnight = datetime(release_day.year, release_day.month, release_day.day, tzinfo=ZoneInfo("Europe/Berlin"))
    response = client.get(f"/l/{link['slug']}", headers=FAN)
    page = Document(response.text)
    buttons = [a for a in page.anchors if a.get("class") == "button"]
    assert [b["href"].rsplit("/", 1)[1] for b in buttons] == ["spotify", "bandcamp"]  # TIDAL cannot stream yet
    assert "Pre-save" in page.text
    assert "Buy" in page.text
    (moment,) = page.times
    assert datetime.fromisoformat(moment["datetime"]) == midnight
    assert moment["datetime"].endswith(("+01:00", "+02:00"))
    text = "".join(page.text)
    assert f"{midnight.day} {midnight:%B %Y}, 00:00 (Europe/Berlin)" in text
    assert re.search(r"in [56] days", text)
    assert {"src": static.url("smartlink.js"), "defer": ""} in page.scripts
    assert page.meta["og:description"].startswith("Pre-save Midnight Drive by Nova Lane & Kito Mar, out ")
    assert all(o["availability"] == "https://schema.org/PreOrder" for o in page.json_ld[0]["offers"])
    assert page.json_ld[0]["datePublished"] == release_day.isoformat()
    assert response.headers["cache-control"] == "private, max-age=60"

    # Half a minute before midnight a browser may keep the page for no longer than that.
    until = midnight - clock.now()
    with clock.shifted(until - timedelta(seconds=30)):
        late = client.get(f"/l/{link['slug']}", headers=FAN)
    max_age = int(late.headers["cache-control"].rsplit("=", 1)[1])
    assert 0 < max_age <= 30
    assert "in 1 minute" in late.text
    with clock.shifted(until + timedelta(seconds=1)):
        after = Document(client.get(f"/l/{link['slug']}", headers=FAN).text)
    assert [a["href"].rsplit("/", 1)[1] for a in after.anchors if a.get("class") == "button"] == [
        "spotify",
        "tidal",
        "bandcamp",
    ]
    assert after.times == []
    assert not any(s.get("src", "").startswith("/static/smartlink.js") for s in after.scripts)


def test_the_page_revalidates_by_etag_and_each_revalidation_is_a_view(client: TestClient, tenant: Tenant) -> None:
    link = _link(client, tenant, _slug("etag"))
    first = client.get(f"/l/{link['slug']}", headers=FAN)
    etag = first.headers["etag"]
    again = client.get(f"/l/{link['slug']}", headers={**FAN, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    stats = client.get(f"/api/v1/smartlinks/{link['id']}/stats", headers=tenant.headers).json()
    assert stats["views"]["total"] == 2


def test_html_and_css_together_stay_under_30_kb(client: TestClient, tenant: Tenant) -> None:
    link = _link(client, tenant, _slug("light"))
    page = client.get(f"/l/{link['slug']}", headers=FAN)
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert stylesheets == [static.url("og.css")]
    total = len(page.content) + sum(len(client.get(href).content) for href in stylesheets)
    assert total < 30 * 1024, total


def test_an_unknown_slug_is_an_html_404(client: TestClient) -> None:
    response = client.get("/l/no-such-link-anywhere", headers=FAN)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "does not exist" in response.text
    assert "content-security-policy" in response.headers


def test_a_passed_cover_becomes_web_sized_derivatives_that_the_page_and_the_api_show(
    client: TestClient, tenant: Tenant
) -> None:
    release_id = _release(client, tenant)
    before = _link(client, tenant, _slug("cover"), release_id=release_id)  # exists before the cover passes QC
    assert before["artwork_url"] is None
    assert upload_artwork(client, tenant, release_id, good_cover()).status_code == 200
    run_qc()

    with session_scope() as session:
        cover_sha = hashlib.sha256(good_cover()).hexdigest()
        rows = session.exec(select(ArtworkDerivative).where(col(ArtworkDerivative.source_sha256) == cover_sha)).all()
        assert sorted((r.format, r.width, r.height) for r in rows) == [
            ("jpeg", 640, 640),
            ("jpeg", 1200, 1200),
            ("webp", 640, 640),
            ("webp", 1200, 1200),
        ]
    after_qc = client.get(f"/api/v1/smartlinks/{before['id']}/settings", headers=tenant.headers).json()
    created_later = _link(client, tenant, _slug("cover-later"), release_id=release_id)
    assert after_qc["artwork_url"] == created_later["artwork_url"]
    match = re.fullmatch(r"http://testserver/artwork/([0-9a-f]{64})\.jpg", after_qc["artwork_url"])
    assert match is not None

    image = client.get(after_qc["artwork_url"].removeprefix("http://testserver"))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert hashlib.sha256(image.content).hexdigest() == match[1]  # the URL names the bytes
    assert image.content[:3] == b"\xff\xd8\xff"

    page = Document(client.get(f"/l/{before['slug']}", headers=FAN).text)
    assert page.meta["og:image"] == after_qc["artwork_url"]
    assert (page.meta["og:image:width"], page.meta["og:image:height"]) == ("1200", "1200")
    assert page.meta["twitter:card"] == "summary_large_image"
    (cover,) = [i for i in page.images if i.get("class") == "sl-cover"]
    assert cover["alt"] == "Cover of Midnight Drive by Nova Lane & Kito Mar"
    webp = client.get(cover["src"].replace(".jpg", ".webp"))
    assert cover["src"].startswith("/artwork/")
    assert client.get(cover["src"]).status_code == 200
    assert webp.status_code in (200, 404)  # the 640 px JPEG's digest names no WebP; the srcset names the WebPs
    srcsets = re.findall(r'<source type="image/webp" srcset="([^"]+)"', client.get(f"/l/{before['slug']}").text)
    (webp_set,) = srcsets
    for candidate in webp_set.split(", "):
        url = candidate.split(" ")[0]
        got = client.get(url)
        assert (got.status_code, got.headers["content-type"]) == (200, "image/webp")

    # Only derivatives are served, under their own digest and extension.
    assert client.get(f"/artwork/{cover_sha}.jpg").status_code == 404
    assert client.get(f"/artwork/{match[1]}.webp").status_code == 404
    assert client.get("/artwork/../secret.key").status_code == 404
    assert artwork.SIZES == (640, 1200)


def test_the_smart_link_guide_shows_a_request_that_works_and_the_tags_the_page_has(
    client: TestClient, tenant: Tenant
) -> None:
    guide = (GUIDES_SOURCE / "smart-links.md").read_text(encoding="utf-8")
    (body,) = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", guide, flags=re.S) if '"destinations"' in b]
    release_day = clock.now().date() + timedelta(days=20)
    release_id = _release(client, tenant, release_day)
    assert upload_artwork(client, tenant, release_id, good_cover()).status_code == 200
    run_qc()
    body |= {"release_id": release_id, "slug": _slug("guide")}
    created = client.post("/api/v1/smartlinks", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    assert created.json()["mode"] == "presave"
    with clock.shifted(timedelta(days=21)):
        page = client.get(f"/l/{body['slug']}", headers=FAN).text
    (html,) = re.findall(r"```html\n(.*?)```", guide, flags=re.S)
    for tag in re.findall(r'<(?:meta (?:property|name)="[^"]+"|link rel="canonical")', html):
        assert tag in page, tag


def test_covers_that_passed_before_derivatives_existed_get_them_from_the_worker(
    client: TestClient, tenant: Tenant
) -> None:
    release_id = _release(client, tenant)
    assert upload_artwork(client, tenant, release_id, good_cover()).status_code == 200
    run_qc()
    link = _link(client, tenant, _slug("backfill"), release_id=release_id)
    made = link["artwork_url"]
    # As a database upgraded from before derivatives looks: a passed cover, no derivatives, links without them.
    with session_scope() as session:
        cover_sha = hashlib.sha256(good_cover()).hexdigest()
        session.execute(delete(ArtworkDerivative).where(col(ArtworkDerivative.source_sha256) == cover_sha))
        session.execute(update(SmartLink).where(col(SmartLink.release_id) == release_id).values(artwork={}))
    assert client.get(f"/api/v1/smartlinks/{link['id']}/settings", headers=tenant.headers).json()["artwork_url"] is None
    run_qc()
    assert client.get(f"/api/v1/smartlinks/{link['id']}/settings", headers=tenant.headers).json()["artwork_url"] == made
