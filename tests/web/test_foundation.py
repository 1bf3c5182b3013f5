"""The pages' shared ground: static files under content-hashed URLs, the security headers, CSRF tokens."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from server.web import csrf, pages, static


def test_static_files_are_served_with_an_immutable_cache_under_their_hashed_url(client: TestClient) -> None:
    url = static.url("og.css")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "immutable" in response.headers["cache-control"]
    assert url.endswith("?v=" + response.headers["etag"].strip('"'))
    again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_the_vendored_htmx_is_served_from_this_origin(client: TestClient) -> None:
    response = client.get(static.url("htmx-2.0.11.min.js"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert b"htmx" in response.content


def test_a_path_outside_the_static_folder_is_not_found(client: TestClient) -> None:
    assert client.get("/static/..%2Fpages.py").status_code == 404
    assert client.get("/static/missing.css").status_code == 404


def test_a_rendered_page_carries_the_security_headers_and_escapes_values() -> None:
    response = pages.render("not_found.html", title="<b>x</b>", message="<script>alert(1)</script>")
    body = bytes(response.body).decode()
    assert "&lt;script&gt;" in body
    assert "<script>alert" not in body
    assert response.headers["content-security-policy"] == pages.CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in pages.CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in pages.CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.status_code == 200


def _request(cookie: str | None = None, header: str | None = None) -> Request:
    headers = []
    if cookie is not None:
        headers.append((b"cookie", f"{csrf.COOKIE}={cookie}".encode()))
    if header is not None:
        headers.append((csrf.HEADER.encode(), header.encode()))
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "scheme": "http"})


def test_csrf_token_must_match_the_cookie() -> None:
    fresh = csrf.token(_request())
    assert len(fresh) >= 32
    response = csrf.attach(_request(), Response(), fresh)
    assert f"{csrf.COOKIE}={fresh}" in response.headers["set-cookie"]
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    assert csrf.valid(_request(cookie=fresh), fresh)
    assert csrf.valid(_request(cookie=fresh, header=fresh), None)
    assert not csrf.valid(_request(cookie=fresh), "x" * 43)
    assert not csrf.valid(_request(), fresh)
    assert not csrf.valid(_request(cookie="short"), "short")
