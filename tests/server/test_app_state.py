"""Two independent apps in one process (issue 21): each holds its own settings, database, file store and workers.

Every request, and the background work an app starts (QC, the request log's writer), reads the state of the app it
belongs to — so tests can build apps of their own beside the shared one, and nothing one app does lands in another's
database or data directory.
"""

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.db import engine as db
from server.db.engine import session_scope
from server.db.migrate import upgrade_to_head
from server.db.models.dashboard import RequestLogEntry
from server.db.models.files import File
from server.db.models.persons import Person
from server.db.models.tracks import Track
from server.scopes import SCOPES
from server.services import accounts, api_keys
from tests.server.releases_helpers import create_track, master_wav, ok, upload_audio


@dataclass(frozen=True)
class Tenant:
    account_id: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def _settings(root: Path, name: str) -> Settings:
    data_dir = root / name
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'og.sqlite3'}",
        redis_url=None,
        base_url="http://testserver",
        validate_responses=True,
        max_body_bytes=64 * 1024,
        max_upload_bytes=8 * 1024 * 1024,
        log_level="WARNING",
        log_json=True,
        webhooks_allow_loopback=True,
        secret_key=f"the secret key of app {name}",
        rate_limit_multiplier=1000,
        sandbox_simulator_in_process=False,
        sandbox_mock_data=False,
        qc_in_process=True,  # each app runs its own QC thread
        freeze_gc_at_start=False,
    )


def _tenant(settings: Settings) -> Tenant:
    """An account with a key in the database of `settings` (as `og-server` commands do: outside any app)."""
    db.configure(settings)
    with session_scope() as session:
        account, _user, _password = accounts.create_account(
            session,
            name="Label",
            email=f"owner-{secrets.token_hex(6)}@example.com",
            password="correct horse battery staple",
            mock_data=False,
        )
        issued = api_keys.create_key(session, account=account, environment="sandbox", name="key", scopes=list(SCOPES))
        return Tenant(account.id, issued.secret)


def _rows(settings: Settings, statement: Any) -> list[Any]:
    """Rows read straight from one app's database, whatever the process's default is."""
    with Session(db.engine_of(settings)) as session:
        return list(session.exec(statement).all())


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Settings, Settings]]:
    pair = (_settings(tmp_path, "a"), _settings(tmp_path, "b"))
    for settings in pair:
        settings.data_dir.mkdir(parents=True)
        upgrade_to_head(settings.database_url)
    yield pair
    for settings in pair:
        db.engine_of(settings).dispose()


def _names(client: TestClient, tenant: Tenant) -> list[str]:
    return [person["name"] for person in ok(client.get("/api/v1/persons", headers=tenant.headers))["data"]]


def test_two_apps_in_one_process_keep_their_own_database_keys_files_and_workers(
    two: tuple[Settings, Settings],
) -> None:
    settings_a, settings_b = two
    tenant_a, tenant_b = _tenant(settings_a), _tenant(settings_b)
    app_a, app_b = create_app(settings_a), create_app(settings_b)  # B is built last: no "last one wins"

    with TestClient(app_a, raise_server_exceptions=False) as a, TestClient(app_b, raise_server_exceptions=False) as b:
        # Interleaved: A, B, A, B. Each key is known only to its own app's database.
        ok(
            a.post("/api/v1/persons", json={"name": "Only In A", "email": "p@example.com"}, headers=tenant_a.headers),
            201,
        )
        assert b.get("/api/v1/persons", headers=tenant_a.headers).status_code == 401
        ok(
            b.post("/api/v1/persons", json={"name": "Only In B", "email": "p@example.com"}, headers=tenant_b.headers),
            201,
        )
        assert a.get("/api/v1/persons", headers=tenant_b.headers).status_code == 401
        assert _names(a, tenant_a) == ["Only In A"]
        assert _names(b, tenant_b) == ["Only In B"]

        # Each app signs list cursors with its own secret key: A's cursor works on A, and B refuses it.
        ok(
            a.post("/api/v1/persons", json={"name": "Second In A", "email": "p@example.com"}, headers=tenant_a.headers),
            201,
        )
        ok(
            b.post("/api/v1/persons", json={"name": "Second In B", "email": "p@example.com"}, headers=tenant_b.headers),
            201,
        )
        cursor_a = ok(a.get("/api/v1/persons", params={"limit": 1}, headers=tenant_a.headers))["next_cursor"]
        assert cursor_a
        assert [
            p["name"]
            for p in ok(a.get("/api/v1/persons", params={"cursor": cursor_a}, headers=tenant_a.headers))["data"]
        ] == ["Only In A"]
        refused = b.get("/api/v1/persons", params={"cursor": cursor_a}, headers=tenant_b.headers)
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid_cursor"

        # An upload lands in A's file store, and A's own QC thread (started by A's lifespan) analyses it from A's
        # database and store.
        track = create_track(a, tenant_a)
        ok(upload_audio(a, tenant_a, track["id"], master_wav()))
        deadline = time.monotonic() + 60
        status = "pending"
        while status == "pending" and time.monotonic() < deadline:
            status = ok(a.get(f"/api/v1/tracks/{track['id']}/qc-status", headers=tenant_a.headers))["audio"]["status"]
            if status == "pending":
                time.sleep(0.2)
        assert status == "passed"

    # After both apps stopped (each flushes its own request log on shutdown).
    assert {p.name for p in _rows(settings_a, select(Person))} == {"Only In A", "Second In A"}
    assert {p.name for p in _rows(settings_b, select(Person))} == {"Only In B", "Second In B"}
    [stored] = _rows(settings_a, select(File))
    assert (settings_a.data_dir / "files" / stored.storage_key).is_file()
    assert not (settings_b.data_dir / "files" / stored.storage_key).exists()
    assert _rows(settings_b, select(File)) == []
    [analysed] = _rows(settings_a, select(Track))
    assert analysed.qc_status == "passed"
    # The request log writer of each app wrote that app's requests into that app's database.
    logged_a = _rows(settings_a, select(RequestLogEntry.account_id, RequestLogEntry.path))
    logged_b = _rows(settings_b, select(RequestLogEntry.account_id, RequestLogEntry.path))
    assert {account for account, _path in logged_a} == {tenant_a.account_id}
    assert {account for account, _path in logged_b} == {tenant_b.account_id}
    assert any(path == f"/api/v1/tracks/{track['id']}/audio" for _account, path in logged_a)
    assert _rows(settings_a, select(RequestLogEntry).where(col(RequestLogEntry.status) == 401)) == []


def test_outside_any_app_the_accessors_read_the_process_default_and_inside_one_its_state(
    two: tuple[Settings, Settings],
) -> None:
    import threading

    from server import config, storage
    from server.state import current, use

    settings_a, settings_b = two
    app_a, app_b = create_app(settings_a), create_app(settings_b)
    assert app_a.state.settings is settings_a
    assert app_b.state.settings is settings_b
    assert current() is None
    db.configure(settings_a)  # what a CLI command or a test's own query does
    assert db.engine() is db.engine_of(settings_a)
    with use(app_b.state):
        assert db.settings() is settings_b
        assert config.active() is settings_b
        assert db.engine() is db.engine_of(settings_b)
        assert storage.store() is app_b.state.store
        seen: list[Settings] = []
        thread = threading.Thread(target=app_b.state.bound(lambda: seen.append(db.settings())))
        thread.start()
        thread.join()
        assert seen == [settings_b]  # a thread the app starts runs with the app's state
    assert db.settings() is settings_a
