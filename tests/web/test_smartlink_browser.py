"""The smart-link page in a real headless Chromium, served by a real server process: phone and desktop widths
(screenshots in test-artifacts/smartlinks/), an axe-core scan, the countdown script, and every button reaching its
service through the counted redirect. Nothing may leave the server's origin except those redirects' targets,
which the browser context answers itself.

axe-core is vendored (tests/web/vendor/axe-4.14.1.min.js, MPL-2.0, from the npm package `axe-core`) and injected
by Playwright; the app never serves it.
"""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server import clock
from server.media import cover_bytes
from tests.conftest import ROOT, LiveServer, free_port, server_env, start_server, stop_server
from tests.docs.test_browser import CHROMIUM_ARGS, _chromium

# A real-browser test: the fast tier (`-m "not slow"`) leaves it out.
pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "smartlinks"
# A desktop Chrome's User-Agent: headless Chromium announces itself as "HeadlessChrome", which the statistics
# rightly file under bots.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
DESTINATIONS = {
    "spotify": "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy",
    "apple_music": "https://music.apple.com/de/album/midnight-drive/1790000001",
    "youtube_music": "https://music.youtube.com/playlist?list=OLAK5uy_midnight",
    "deezer": "https://www.deezer.com/album/1790000001",
    "tidal": "https://tidal.com/browse/album/1790000001",
    "bandcamp": "https://novalane.bandcamp.com/album/midnight-drive",
}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@dataclass
class Site:
    server: LiveServer
    key: str
    stream: dict[str, Any]
    presave: dict[str, Any]


def _cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", *args, "--json"], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout))


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _chromium()  # skip (or fail on CI) before starting anything when there is no browser
    port = free_port()
    env = server_env(tmp_path_factory.mktemp("smartlink-pages"), OG_BASE_URL=f"http://127.0.0.1:{port}")
    key = _cli(env, "accounts", "create", "--name", "Nova Lane Music")["api_key"]["secret"]
    server = start_server(env, ["serve", "--no-seed"], port=port)
    try:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
            release = _ok(
                api.post("/api/v1/releases", json={"title": "Midnight Drive", "primary_artists": ["Nova Lane"]}), 201
            )
            files = {"artwork": ("cover.jpg", cover_bytes(), "image/jpeg")}
            _ok(api.patch(f"/api/v1/releases/{release['id']}/artwork", files=files))
            stream = _ok(
                api.post(
                    "/api/v1/smartlinks",
                    json={
                        "release_id": release["id"],
                        "slug": "midnight-drive",
                        "destinations": [{"service": s, "url": u} for s, u in DESTINATIONS.items()],
                    },
                ),
                201,
            )
            upcoming = _ok(
                api.post("/api/v1/releases", json={"title": "Northern Lights", "primary_artists": ["Nova Lane"]}),
                201,
            )
            release_day = (clock.now() + timedelta(days=9)).date().isoformat()
            _ok(api.patch(f"/api/v1/releases/{upcoming['id']}/distribution", json={"release_date": release_day}))
            presave = _ok(
                api.post(
                    "/api/v1/smartlinks",
                    json={
                        "release_id": upcoming["id"],
                        "slug": "northern-lights",
                        "destinations": [
                            {"service": "spotify", "url": DESTINATIONS["spotify"]},
                            {"service": "bandcamp", "url": DESTINATIONS["bandcamp"]},
                        ],
                        "presave": {"enabled": True, "services": ["spotify"], "time_zone": "Europe/Berlin"},
                    },
                ),
                201,
            )
            # The in-process QC worker passes the cover and makes its derivatives in the background.
            deadline = time.monotonic() + 60
            while stream["artwork_url"] is None and time.monotonic() < deadline:
                time.sleep(0.3)
                stream = _ok(api.get(f"/api/v1/smartlinks/{stream['id']}/settings"))
            assert stream["artwork_url"] is not None, "the cover's derivatives never appeared"
        yield Site(server, key, stream, presave)
    finally:
        stop_server(server)


@dataclass
class Visit:
    """A browser context that reaches only the server, and stands in for the services (recording where the
    redirect sent the browser)."""

    origin: str
    landed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def route(self, route: "playwright_api.Route") -> None:
        url = route.request.url
        if url.startswith(self.origin + "/api/v1/smartlinks/"):
            # The click redirect, sent to the server as the browser sent it; Chromium's request interception does
            # not see the redirect's target, so the context stands in for the service at the Location it got.
            response = route.fetch(max_redirects=0)
            assert response.status == 302, response.status
            self.landed.append(response.headers["location"])
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>service</title>")
        elif url.startswith(self.origin + "/") or url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@pytest.fixture(scope="module")
def chromium(site: Site) -> Iterator["playwright_api.Browser"]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _open(
    chromium: "playwright_api.Browser", site: Site, slug: str, viewport: dict[str, int], *, bypass_csp: bool = False
) -> tuple["playwright_api.Page", Visit]:
    context = chromium.new_context(viewport=viewport, user_agent=USER_AGENT, bypass_csp=bypass_csp)
    visit = Visit(site.server.base_url)
    context.route("**/*", visit.route)
    page = context.new_page()
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    page.on("console", lambda message: visit.errors.append(message.text) if message.type == "error" else None)
    response = page.goto(f"{site.server.base_url}/l/{slug}", wait_until="networkidle")
    assert response is not None
    assert response.status == 200
    return page, visit


def test_the_page_renders_at_phone_and_desktop_widths(chromium: "playwright_api.Browser", site: Site) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for slug in ("midnight-drive", "northern-lights"):
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page, visit = _open(chromium, site, slug, viewport)
            page.screenshot(path=str(ARTIFACTS / f"{slug}-{name}.png"), full_page=True)
            assert visit.outside == []
            assert visit.errors == []
            # Nothing overflows sideways on a phone, and the heading is the release.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert page.get_by_role("heading", level=1).inner_text() in ("Midnight Drive", "Northern Lights")
            page.context.close()

    page, _visit = _open(chromium, site, "midnight-drive", PHONE)
    cover = page.get_by_role("img", name="Cover of Midnight Drive by Nova Lane")
    # The cover really decoded, and the browser chose a WebP of the <picture>.
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", cover.element_handle())
    chosen = page.evaluate("img => img.currentSrc", cover.element_handle())
    assert chosen.endswith(".webp")
    assert page.request.get(chosen).headers["content-type"] == "image/webp"
    og_image = page.locator('meta[property="og:image"]').get_attribute("content")
    assert og_image == site.stream["artwork_url"]
    loaded = page.request.get(og_image)
    assert (loaded.status, loaded.headers["content-type"]) == (200, "image/jpeg")
    page.context.close()


def test_axe_finds_no_serious_or_critical_violations(chromium: "playwright_api.Browser", site: Site) -> None:
    for slug in ("midnight-drive", "northern-lights"):
        for viewport in (PHONE, DESKTOP):
            # Playwright injects axe as an inline script, which the page's CSP (rightly) refuses: bypass it here only.
            page, _visit = _open(chromium, site, slug, viewport, bypass_csp=True)
            page.add_script_tag(path=str(AXE))
            results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
                for v in results["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert serious == [], serious
            page.context.close()


def test_the_countdown_ticks_in_the_visitors_time(chromium: "playwright_api.Browser", site: Site) -> None:
    page, visit = _open(chromium, site, "northern-lights", PHONE)
    timer = page.get_by_role("timer")
    page.wait_for_function(
        "el => /^in \\d+ days \\d\\d:\\d\\d:\\d\\d$/.test(el.textContent)", arg=timer.element_handle()
    )
    first = timer.inner_text()
    page.wait_for_function("([el, before]) => el.textContent !== before", arg=[timer.element_handle(), first])
    # The script rewrote the server's "(Europe/Berlin)" text in the browser's own zone and locale.
    assert "(Europe/Berlin)" not in page.locator("time").inner_text()
    assert page.get_by_role("link", name="Pre-save on Spotify").is_visible()
    assert visit.errors == []
    page.context.close()


def test_every_button_reaches_its_service_and_the_stats_count_it(
    chromium: "playwright_api.Browser", site: Site
) -> None:
    labels = {
        "spotify": "Spotify",
        "apple_music": "Apple Music",
        "youtube_music": "YouTube Music",
        "deezer": "Deezer",
        "tidal": "TIDAL",
        "bandcamp": "Bandcamp",
    }
    landed = []
    for service, label in labels.items():
        action = "Buy" if service == "bandcamp" else "Play"
        page, visit = _open(chromium, site, "midnight-drive", DESKTOP)
        with page.expect_navigation(url=f"**/go/{service}"):
            page.get_by_role("link", name=f"{action} on {label}").click()
        landed += visit.landed
        assert visit.outside == []
        page.context.close()
    assert landed == list(DESTINATIONS.values())

    with httpx.Client(base_url=site.server.base_url, headers={"Authorization": f"Bearer {site.key}"}) as api:
        stats = _ok(api.get(f"/api/v1/smartlinks/{site.stream['id']}/stats"))
    assert stats["clicks"]["total"] == len(DESTINATIONS)
    assert {s["service"] for s in stats["clicks"]["by_service"]} == set(DESTINATIONS)
    assert stats["views"]["total"] >= len(DESTINATIONS)  # every page load above, none of them filed as a bot


def test_screenshots_are_kept_as_artifacts() -> None:
    for slug in ("midnight-drive", "northern-lights"):
        for name in ("phone", "desktop"):
            shot = ARTIFACTS / f"{slug}-{name}.png"
            if not shot.exists():
                pytest.skip("the browser tests did not run")
            assert shot.stat().st_size > 10_000, shot
