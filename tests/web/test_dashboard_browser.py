"""The dashboard in a real headless Chromium against a real server process: the issue's "Done when", keyboard-only
use, and an axe-core accessibility scan of every page (no serious or critical violation).

Screenshots of every page (desktop 1280x800 and phone 390x844) land in test-artifacts/dashboard/.
"""

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, LiveServer, server_env, start_server, stop_server
from tests.docs.test_browser import CHROMIUM_ARGS, Browser, _chromium

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PASSWORD = "correct horse battery staple"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(server_env(tmp_path_factory.mktemp("dashboard-server")), ["serve", "--no-seed"])
    try:
        yield live
    finally:
        stop_server(live)


@pytest.fixture(scope="module")
def browser(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = _chromium()
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=DESKTOP,
        )
        wrapped = Browser(context, server.base_url)
        try:
            yield wrapped
        finally:
            context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator["playwright_api.Page"]:
    browser.context.clear_cookies()
    opened = browser.new_page()
    console_errors: list[str] = []
    opened.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    yield opened
    opened.close()
    # A Content-Security-Policy refusal (an inline script or style slipped in) shows up as a console error.
    assert console_errors == [], console_errors
    assert browser.page_errors == []
    assert browser.outside == [], f"a page tried to reach the network: {browser.outside}"


def check_page(page: "playwright_api.Page", name: str) -> None:
    """Scan the page with axe-core and keep desktop and phone screenshots."""
    # evaluate() runs through the DevTools protocol, which the page's CSP does not govern (a <script> tag would be).
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    bad = [violation for violation in violations if violation["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: {bad}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def sign_up(page: "playwright_api.Page", server: LiveServer, *, scan: bool = False) -> str:
    email = f"dev-{secrets.token_hex(5)}@example.com"
    page.goto(server.base_url + "/signup")
    if scan:
        check_page(page, "signup")
    page.get_by_label("Name").fill("Night Owl Records")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Label").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(server.base_url + "/dashboard")
    return email


def api_status(server: LiveServer, secret: str, request_id: str) -> int:
    answer = httpx.get(
        server.base_url + "/api/v1/releases",
        headers={"Authorization": f"Bearer {secret}", "X-Request-Id": request_id},
        timeout=10,
    )
    return answer.status_code


def test_done_when_sign_up_create_rotate_revoke_a_key_and_see_the_calls(
    page: "playwright_api.Page", server: LiveServer
) -> None:
    sign_up(page, server, scan=True)
    check_page(page, "overview")
    assert page.get_by_role("heading", name="Welcome, Night Owl Records").is_visible()

    page.get_by_role("link", name="API keys").click()
    page.wait_for_url(server.base_url + "/dashboard/api-keys")
    check_page(page, "api-keys-empty")
    page.get_by_label("Name", exact=True).fill("Done-when key")
    page.get_by_role("button", name="Create key").click()
    first = page.locator("[data-secret]").inner_text().strip()
    assert first.startswith("og_test_")
    page.get_by_role("button", name="Copy").click()  # the static script shows the button and reports the outcome
    # The outcome is written when the clipboard's promise settles, after the click returns: wait for it.
    copy_status = page.locator("[data-copy-status]")
    deadline = time.monotonic() + 10
    while copy_status.inner_text() == "" and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert copy_status.inner_text() != ""
    check_page(page, "api-keys-created")
    run = secrets.token_hex(4)
    assert api_status(server, first, f"req-first-{run}") == 200

    page.goto(server.base_url + "/dashboard/api-keys")  # the secret is not shown again
    assert page.locator("[data-secret]").count() == 0
    assert first not in page.content()
    page.get_by_role("link", name="Rotate Done-when key").click()
    check_page(page, "api-key-rotate-confirm")
    page.get_by_role("button", name="Rotate").click()
    second = page.locator("[data-secret]").inner_text().strip()
    assert second.startswith("og_test_")
    assert second != first
    grace_end = page.locator("[data-grace-end]").inner_text()
    expected = datetime.now(UTC) + timedelta(days=7)
    assert grace_end in {expected.strftime("%Y-%m-%d"), (expected - timedelta(minutes=5)).strftime("%Y-%m-%d")}
    check_page(page, "api-keys-rotated")
    assert api_status(server, first, f"req-old-{run}") == 200
    assert api_status(server, second, f"req-new-{run}") == 200

    page.get_by_role("link", name="Revoke Done-when key").click()
    check_page(page, "api-key-revoke-confirm")
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_load_state()
    assert api_status(server, first, f"req-old-revoked-{run}") == 401
    assert api_status(server, second, f"req-new-revoked-{run}") == 401
    assert page.get_by_role("cell", name="revoked").is_visible()

    # The log is written in the background within about a second: reload until the calls are there.
    wanted = [
        f"req-first-{run}",
        f"req-old-{run}",
        f"req-new-{run}",
        f"req-old-revoked-{run}",
        f"req-new-revoked-{run}",
    ]
    deadline = time.monotonic() + 20
    while True:
        page.get_by_role("link", name="Request log").click()
        page.wait_for_url(server.base_url + "/dashboard/logs")
        shown = page.locator("tr[data-request-id]").evaluate_all(
            "rows => rows.map(row => row.getAttribute('data-request-id'))"
        )
        if all(request_id in shown for request_id in wanted) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(300)
    assert all(request_id in shown for request_id in wanted), shown
    check_page(page, "request-log")
    revoked_row = page.locator(f'tr[data-request-id="req-new-revoked-{run}"]')
    assert "401" in revoked_row.inner_text()
    assert "api_key_revoked" in revoked_row.inner_text()
    page.get_by_label("Request id").fill(f"req-new-{run}")
    page.get_by_role("button", name="Search").click()  # htmx swaps the results in place (plain GET without JS)
    page.wait_for_function("() => document.querySelectorAll('tr[data-request-id]').length === 1")
    assert page.url == server.base_url + "/dashboard/logs"
    page.get_by_role("link", name=f"req-new-{run}").click()
    assert page.get_by_text("/api/v1/releases").first.is_visible()
    check_page(page, "request-log-entry")


def test_an_error_in_the_request_log_shows_its_problem_document(
    page: "playwright_api.Page", server: LiveServer
) -> None:
    sign_up(page, server)
    page.goto(server.base_url + "/dashboard/api-keys")
    page.get_by_label("Name", exact=True).fill("Read-only")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("[data-secret]").inner_text().strip()
    request_id = f"req-forbidden-{secrets.token_hex(4)}"
    answer = httpx.post(
        server.base_url + "/api/v1/releases",
        headers={"Authorization": f"Bearer {secret}", "X-Request-Id": request_id},
        json={"title": "Nope"},
        timeout=10,
    )
    assert answer.status_code == 403
    deadline = time.monotonic() + 20
    while True:
        page.goto(server.base_url + f"/dashboard/logs?status=4xx&request_id={request_id}")
        if page.locator("tr[data-request-id]").count() == 1 or time.monotonic() > deadline:
            break
        page.wait_for_timeout(300)
    assert page.get_by_role("cell", name="insufficient_scope").is_visible()
    page.get_by_role("link", name=request_id).click()
    document = page.locator("pre.json").inner_text()
    assert '"code": "insufficient_scope"' in document
    assert request_id in document


def test_keyboard_only_log_in_and_create_a_key(page: "playwright_api.Page", server: LiveServer) -> None:
    email = sign_up(page, server)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(server.base_url + "/login")
    check_page(page, "login")

    def tab_to(predicate: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate(f"() => {{ const el = document.activeElement; return {predicate}; }}"):
                return
        raise AssertionError(f"Tab never reached {predicate}")

    tab_to("el.id === 'email'")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(server.base_url + "/dashboard")
    tab_to("el.tagName === 'A' && el.textContent.trim() === 'API keys'")
    page.keyboard.press("Enter")
    page.wait_for_url(server.base_url + "/dashboard/api-keys")
    tab_to("el.id === 'key-name'")
    page.keyboard.type("Keyboard key")
    tab_to("el.tagName === 'BUTTON' && el.textContent.trim() === 'Create key'")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-secret]")
    assert page.locator("[data-secret]").inner_text().startswith("og_test_")


def test_the_other_pages_pass_the_accessibility_scan(page: "playwright_api.Page", server: LiveServer) -> None:
    sign_up(page, server)
    page.goto(server.base_url + "/dashboard/events")
    check_page(page, "events")
    page.goto(server.base_url + "/dashboard/sandbox")
    check_page(page, "sandbox")
    page.goto(server.base_url + "/forgot-password")
    check_page(page, "forgot-password")
    page.goto(server.base_url + "/dashboard/events")
    page.goto(server.base_url + "/dashboard/production-access")
    check_page(page, "production-access")
    page.get_by_label("Use case").fill("Our label delivers its catalogue from its own release tool.")
    page.get_by_label("Expected volume").fill("40 releases a month")
    page.get_by_role("button", name="Request production access").click()
    assert page.get_by_role("status").inner_text().startswith("Thank you")
    check_page(page, "production-access-sent")
    # The switch refuses production until an operator grants it, and says where to ask.
    page.goto(server.base_url + "/dashboard")
    page.get_by_label("Environment").select_option("production")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_url(server.base_url + "/dashboard/production-access")


def test_webhooks_pages(page: "playwright_api.Page", server: LiveServer) -> None:
    sign_up(page, server)
    page.get_by_role("link", name="Webhooks").click()
    page.wait_for_url(server.base_url + "/dashboard/webhooks")
    check_page(page, "webhooks")
    page.get_by_label("Endpoint URL").fill("https://hooks.example.com/og")
    page.get_by_label("Description").fill("Production receiver")
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("[data-secret]").inner_text().strip()
    assert secret.startswith("whsec_")
    check_page(page, "webhook-endpoint")
    page.get_by_role("link", name="Rotate secret").click()
    check_page(page, "webhook-rotate-confirm")
    page.get_by_role("button", name="Rotate secret").click()
    assert page.locator("[data-secret]").inner_text().strip() not in ("", secret)
    page.get_by_role("button", name="Disable").click()
    assert page.get_by_role("status").inner_text() == "The endpoint is disabled."
    page.get_by_role("link", name="Delete").click()
    check_page(page, "webhook-delete-confirm")
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(server.base_url + "/dashboard/webhooks")
    assert page.get_by_text("No endpoints in the sandbox yet.").is_visible()
    page.get_by_role("link", name="Event catalogue", exact=True).click()
    assert page.get_by_role("heading", name="release.created").is_visible()
    check_page(page, "event-catalogue")


def test_oauth_apps_pages(page: "playwright_api.Page", server: LiveServer) -> None:
    sign_up(page, server)
    page.get_by_role("link", name="OAuth apps").click()
    page.wait_for_url(server.base_url + "/dashboard/oauth-apps")
    check_page(page, "oauth-apps")
    page.get_by_label("Application name").fill("CRM Sync")
    page.get_by_label("Redirect URIs").fill("https://crm.example.com/oauth/callback")
    page.get_by_role("button", name="Register application").click()
    secret = page.locator("[data-secret]").inner_text().strip()
    assert secret.startswith("ogcs_")
    assert page.locator("[data-client-id]").inner_text().startswith("cli_")
    check_page(page, "oauth-app")
    page.get_by_role("link", name="Rotate secret").click()
    check_page(page, "oauth-app-rotate-confirm")
    page.get_by_role("button", name="Rotate secret").click()
    assert page.locator("[data-secret]").inner_text().strip() not in ("", secret)
