"""The invitation page in a real headless Chromium (Debian's, through Playwright), served by a real server process:
a payee opens the emailed link, sees the share, accepts it with a click, and a second visit is refused. No
JavaScript is needed; the page loads nothing from another origin. Screenshots land in
test-artifacts/invitations/."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, LiveServer, free_port, server_env, start_server, stop_server
from tests.docs.test_browser import CHROMIUM_ARGS, _chromium

# A real-browser test: the fast tier (`-m "not slow"`) leaves it out.
pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")
ARTIFACTS = ROOT / "test-artifacts" / "invitations"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    port = free_port()
    env = server_env(tmp_path_factory.mktemp("invitation-server"), OG_BASE_URL=f"http://127.0.0.1:{port}")
    live = start_server(env, ["serve", "--no-seed"], port=port)
    try:
        yield live
    finally:
        stop_server(live)


def _sandbox_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "accounts", "create", "--name", "Nordlicht Records", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    return str(json.loads(result.stdout)["api_key"]["secret"])


def _invitation(server: LiveServer) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {_sandbox_key(server.env)}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as api:
        release = api.post("/api/v1/releases", json={"title": "Northern Lights", "primary_artists": ["Aurora Vale"]})
        assert release.status_code == 201, release.text
        person = api.post(
            "/api/v1/persons", json={"name": "Mara Lindqvist", "email": "mara@example.com", "invite": True}
        ).json()
        label = api.post("/api/v1/persons", json={"name": "Label", "email": "label@example.com"}).json()
        shares = [
            {"person_id": label["id"], "role": "label", "share_bps": 7500},
            {"person_id": person["id"], "role": "composer", "share_bps": 2500},
        ]
        split = api.post("/api/v1/splits", json={"release_id": release.json()["id"], "shares": shares})
        assert split.status_code == 201, split.text
        [message] = api.get("/api/v1/sandbox/outbox", params={"person_id": person["id"]}).json()["data"]
        return {"link": message["link"], "split": split.json(), "person": person, "headers": headers}


def _screenshot(page: "playwright_api.Page", name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS / name)), full_page=True)


def test_a_payee_accepts_a_share_in_chromium_and_the_link_is_then_spent(server: LiveServer) -> None:
    executable = _chromium()
    flow = _invitation(server)
    assert flow["link"].startswith(server.base_url + "/invitations/")
    outside: list[str] = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})

            def route(request_route: "playwright_api.Route") -> None:
                if request_route.request.url.startswith(server.base_url + "/"):
                    request_route.continue_()
                else:
                    outside.append(request_route.request.url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            response = page.goto(flow["link"])
            assert response is not None
            assert response.status == 200
            assert page.get_by_role("heading", name="Your royalty shares").is_visible()
            assert "Nordlicht Records invites you" in page.inner_text("main")
            share = page.get_by_role("region", name="Release “Northern Lights”")
            assert "composer" in share.inner_text()
            assert "25 %" in share.inner_text()
            _screenshot(page, "invitation-phone.png")
            page.set_viewport_size({"width": 1280, "height": 800})
            _screenshot(page, "invitation-desktop.png")

            share.get_by_role("button", name="Accept").click()
            page.wait_for_load_state()
            assert page.get_by_role("heading", name="Thank you").is_visible()
            assert "cannot be used again" in page.inner_text("main")

            again = page.goto(flow["link"])
            assert again is not None
            assert again.status == 410
            assert page.get_by_role("heading", name="This link was already used").is_visible()
            _screenshot(page, "invitation-used.png")
        finally:
            browser.close()
    assert outside == []
    split = httpx.get(
        f"{server.base_url}/api/v1/splits/{flow['split']['id']}", headers=flow["headers"], timeout=30
    ).json()
    assert {s["person_id"]: s["acceptance_status"] for s in split["shares"]}[flow["person"]["id"]] == "accepted"
