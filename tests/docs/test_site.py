"""The built docs site: in sync with the spec and the guides, generated parts complete, served at /docs."""

import os
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.docs_site import build
from server.docs_site.routes import SITE
from server.openapi.specification import raw_document


def _needs_redocly() -> None:
    if not build.REDOCLY.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must check the docs site: run `npm ci` in codegen/")
        pytest.skip("needs the Node tools in codegen/ (npm ci)")


def test_the_committed_site_is_what_the_build_produces(tmp_path: Path) -> None:
    _needs_redocly()
    fresh = tmp_path / "site"
    build.build(fresh)
    committed = sorted(p.relative_to(SITE) for p in SITE.rglob("*") if p.is_file())
    assert sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()) == committed
    stale = [str(p) for p in committed if (fresh / p).read_bytes() != (SITE / p).read_bytes()]
    assert stale == [], "server/docs_site/site is out of date: run `nox -s codegen` and commit it"


def test_the_reference_is_self_contained() -> None:
    page = (SITE / "index.html").read_text(encoding="utf-8")
    assert "cdn.redocly.com/redoc" not in re.sub(r"<script type=\"module\">.*?</script>", "", page, flags=re.S)
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', page)
    assert "default-src 'self'" in page
    assert '"disableTelemetry":true' in page


def test_the_errors_guide_lists_every_code_of_the_catalogue() -> None:
    page = (SITE / "guides" / "errors.html").read_text(encoding="utf-8")
    for code, entry in raw_document()["x-error-codes"].items():
        assert f'<h3 id="{code}"><code>{code}</code></h3>' in page
        assert f"{entry['status']} {entry['title']}." in page


def test_the_webhooks_guide_lists_every_event_of_the_spec() -> None:
    page = (SITE / "guides" / "webhooks.html").read_text(encoding="utf-8")
    for event, item in raw_document()["webhooks"].items():
        assert f"<td><code>{event}</code></td>" in page
        assert build.reference_url(item["post"]) in page


def test_the_authentication_guide_lists_every_scope() -> None:
    page = (SITE / "guides" / "authentication.html").read_text(encoding="utf-8")
    scopes = raw_document()["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]["scopes"]
    for scope in scopes:
        assert f"<td><code>{scope}</code></td>" in page


@pytest.mark.parametrize(
    ("markdown", "complaint"),
    [
        ("# T\n\nSee [it](ref:noSuchOperation).\n", "names no operation"),
        ("# T\n\nSee [it](nowhere.md).\n", "links to no guide"),
        ("# T\n\nSee [it](errors.md#no-such-heading).\n", "has no such heading"),
        ("# T\n\n<!-- spec:no-such-directive -->\n", "unknown directive"),
        ("# T\n\n<!-- spec:schema-description NoSuchSchema -->\n", "does not declare"),
        ("# T\n\nSee [it](http://example.com).\n", "neither ref:"),
        ("No title\n", "must start with"),
    ],
)
def test_a_guide_that_drifts_from_the_spec_fails_the_build(
    markdown: str, complaint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guides = tmp_path / "guides"
    guides.mkdir()
    for slug in build.GUIDES:
        (guides / f"{slug}.md").write_text((build.GUIDES_SOURCE / f"{slug}.md").read_text(encoding="utf-8"))
    (guides / "sandbox.md").write_text(markdown)
    monkeypatch.setattr(build, "GUIDES_SOURCE", guides)
    with pytest.raises(build.BuildError, match=complaint):
        build.build_guides(raw_document(), tmp_path / "out")


@pytest.mark.parametrize(
    "path", ["/docs", "/docs/", "/docs/guides", "/docs/guides/"] + [f"/docs/guides/{s}" for s in build.GUIDES]
)
def test_every_page_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("path", ["/docs/guides/nope", "/docs/guides/index", "/docs/guides/..%2Fsecret", "/docs/x"])
def test_unknown_pages_are_problem_404s(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
