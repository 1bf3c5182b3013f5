"""Helpers of the dashboard's HTTP tests: a CSRF token from a page, a sign-up, the secret a page shows once."""

import re
import secrets

from starlette.testclient import TestClient

PASSWORD = "correct horse battery staple"


def token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def sign_up(client: TestClient, email: str | None = None, kind: str = "label") -> str:
    email = email or f"dev-{secrets.token_hex(5)}@example.com"
    answer = client.post(
        "/signup",
        data={
            "csrf_token": token(client, "/signup"),
            "name": "Night Owl Records",
            "email": email,
            "password": PASSWORD,
            "kind": kind,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/dashboard"
    return email


def secret_of(html: str) -> str:
    found = re.search(r"data-secret>(og_(?:test|live)_[A-Za-z0-9]+)<", html)
    assert found is not None, "no secret shown"
    return found.group(1)
