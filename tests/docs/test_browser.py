"""The docs site in a real headless Chromium, served by a real server process, with no network beyond localhost.

Debian's chromium is driven through Playwright's `executable_path` (Playwright never downloads a browser here);
`.ci/install-chromium` installs it for CI. Screenshots land in test-artifacts/docs/.
"""

import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from server.docs_site.build import GUIDES, operations, reference_url, tag_slug
from server.openapi.specification import raw_document
from tests.conftest import ROOT, LiveServer, server_env, start_server, stop_server

# An artefact test (a real Chromium): the fast tier (`-m "not slow"`) leaves it out.
pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "docs"


def _chromium() -> str:
    found = os.environ.get("OG_TEST_CHROMIUM") or shutil.which("chromium")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: install chromium with .ci/install-chromium")
        pytest.skip("the browser test needs Debian's chromium (.ci/install-chromium, run by .ci/run)")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(server_env(tmp_path_factory.mktemp("docs-server")), ["serve", "--no-seed"])
    try:
        yield live
    finally:
        stop_server(live)


class Browser:
    """A Chromium context that lets requests reach only the test server, and records every other attempt."""

    def __init__(self, context: "playwright_api.BrowserContext", origin: str) -> None:
        self.context = context
        self.origin_prefix = origin + "/"
        self.outside: list[str] = []
        self.page_errors: list[str] = []
        context.route("**/*", self._route)

    def _route(self, route: "playwright_api.Route") -> None:
        url = route.request.url
        if url.startswith(self.origin_prefix) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def new_page(self) -> "playwright_api.Page":
        page = self.context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page


@pytest.fixture(scope="module")
def browser(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = _chromium()
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        wrapped = Browser(context, server.base_url)
        try:
            yield wrapped
        finally:
            context.close()


def _open_reference(browser: Browser, server: LiveServer) -> "playwright_api.Page":
    page = browser.new_page()
    response = page.goto(server.base_url + "/docs", wait_until="networkidle")
    assert response is not None
    assert response.status == 200
    page.wait_for_selector('[data-section-id="/section/authentication"]')
    return page


def _show(page: "playwright_api.Page", route: str, expected_text: str = "") -> str:
    """Navigate the reference's hash router to `route` (`/<tag>/<operationid>`); return its section's rendered text.

    Sections render lazily as they scroll into view, so this waits until the section holds `expected_text`.
    """
    page.evaluate("route => { window.location.hash = route; }", "#" + route)
    selector = f'[data-section-id="{route}"]'
    page.wait_for_function(
        "([selector, expected]) => { const el = document.querySelector(selector);"
        " return el !== null && el.innerText.length > 0 && el.innerText.includes(expected); }",
        arg=[selector, expected_text],
        timeout=15_000,
    )
    return str(page.locator(selector).first.inner_text())


def test_the_reference_loads_offline_and_lists_every_operation_and_webhook(
    browser: Browser, server: LiveServer
) -> None:
    document = raw_document()
    page = _open_reference(browser, server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reference.png"))

    by_tag: dict[str, list[tuple[str, str]]] = {}
    for path, item in document["paths"].items():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                by_tag.setdefault(operation["tags"][0], []).append((operation["operationId"], path))
    for event, item in document["webhooks"].items():
        by_tag.setdefault(item["post"]["tags"][0], []).append((item["post"]["operationId"], event))

    listed = 0
    for tag, entries in by_tag.items():
        for operation_id, shown_as in entries:
            text = _show(page, f"/{tag_slug(tag)}/{operation_id.lower()}", shown_as)
            assert shown_as in text, f"{operation_id} does not show {shown_as}"
            listed += 1
    assert listed == len(operations(document)) > 0
    _show(page, "/releases/createrelease", "/api/v1/releases")
    page.screenshot(path=str(ARTIFACTS / "reference-operation.png"))
    assert browser.outside == [], f"the reference tried to reach the network: {browser.outside}"
    assert browser.page_errors == []


def test_every_link_of_the_guides_resolves(browser: Browser, server: LiveServer) -> None:
    page = browser.new_page()
    reference = _open_reference(browser, server)
    pages = ["/docs/guides"] + [f"/docs/guides/{slug}" for slug in GUIDES]
    links: set[str] = set()
    for path in pages:
        response = page.goto(server.base_url + path, wait_until="load")
        assert response is not None, path
        assert response.status == 200, path
        links.update(page.eval_on_selector_all("a[href]", "anchors => anchors.map(a => a.getAttribute('href'))"))
    page.goto(server.base_url + "/docs/guides/webhooks", wait_until="load")
    page.screenshot(path=str(ARTIFACTS / "guide-webhooks.png"), full_page=False)

    external = sorted(link for link in links if link.startswith("https://"))
    assert external == ["https://www.rfc-editor.org/rfc/rfc9457", "https://www.standardwebhooks.com"]
    checked = 0
    for link in sorted(links - set(external)):
        target = urlsplit(link)
        if target.path == "/docs" and target.fragment:
            _show(reference, target.fragment)
        elif target.path.startswith("/docs/guides"):
            page.goto("about:blank")  # a fresh load even when only the fragment differs from the last link
            response = page.goto(server.base_url + link, wait_until="load")
            assert response is not None, link
            assert response.status == 200, link
            if target.fragment:
                assert page.locator(f'[id="{target.fragment}"]').count() == 1, link
        else:
            response = page.request.get(server.base_url + link)
            assert response.status == 200, link
        checked += 1
    # Every operation a guide mentions is among them, and the webhooks guide links every event's schema.
    for event in raw_document()["webhooks"].values():
        assert reference_url(event["post"]) in links
    assert checked > 50
    assert browser.outside == [], f"a guide tried to reach the network: {browser.outside}"
    assert browser.page_errors == []


def test_screenshots_are_kept_as_artifacts() -> None:
    # Runs after the tests above (file order); a missing screenshot means the browser never rendered the pages.
    for name in ("reference.png", "reference-operation.png", "guide-webhooks.png"):
        shot = ARTIFACTS / name
        if not shot.exists():
            pytest.skip("the browser tests did not run")
        assert shot.stat().st_size > 10_000, name
