"""Sandbox test clocks beyond the journey in test_sandbox.py: one advance at a time, landing on its target, sales
that come in day by day in real time, and everything that reads "now" for a sandbox account reading its clock —
the public smart-link view, QC verdicts and OAuth tokens."""

import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select
from starlette.testclient import TestClient

from server import clock
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.events import Event
from server.db.models.oauth import OAuthToken
from server.db.models.sandbox import SandboxStep
from server.domain.errors import DomainError
from server.services import accounts, oauth, oauth_clients, sandbox_clock, sandbox_simulator
from tests.conftest import Tenant, TenantFactory
from tests.dates import days_from_today
from tests.server.releases_helpers import create_track, master_wav, ok, run_qc, upload_audio
from tests.server.test_smartlinks import _create, _release


def _clock(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    return dict(ok(client.get("/api/v1/sandbox/clock", headers=tenant.headers)))


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _wire(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _advance(client: TestClient, tenant: Tenant, to: datetime) -> dict[str, Any]:
    return ok(client.post("/api/v1/sandbox/clock/advance", json={"to": _wire(to)}, headers=tenant.headers))


def _advancing_until(account_id: str, until: datetime | None) -> None:
    with session_scope() as session:
        session.execute(
            update(Account).where(col(Account.id) == account_id).values(sandbox_clock_advancing_until=until)
        )


def test_a_second_advance_while_one_runs_is_refused_and_the_scheduler_waits(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    tenant = make_tenant(mock_data=True)
    now = _parse(_clock(client, tenant)["now"])
    # Another advance of this account holds the claim (as a concurrent request's does while it runs; held long
    # here so that it still holds when the test moves the server's clock below).
    _advancing_until(tenant.account_id, clock.real_now() + timedelta(days=60))
    assert _clock(client, tenant)["status"] == "advancing"
    refused = client.post(
        "/api/v1/sandbox/clock/advance", json={"to": _wire(now + timedelta(days=1))}, headers=tenant.headers
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "sandbox_clock_advancing"
    assert refused.headers["Retry-After"] == "5"
    assert _parse(_clock(client, tenant)["now"]) < now + timedelta(hours=1)  # nothing moved
    # Meanwhile the scheduler leaves the account to the advance: its due steps wait, even when far overdue.
    with clock.shifted(timedelta(days=30)), session_scope() as session:
        assert tenant.account_id not in sandbox_simulator.accounts_due(session)
        assert tenant.account_id not in [row[0] for row in sandbox_clock.accounts_selling(session)]

    # A claim whose advance died with its process expires, and the clock can be advanced again.
    _advancing_until(tenant.account_id, clock.real_now() - timedelta(seconds=1))
    moved = ok(
        client.post(
            "/api/v1/sandbox/clock/advance", json={"to": _wire(now + timedelta(days=1))}, headers=tenant.headers
        )
    )
    assert moved["status"] == "ready"
    assert _clock(client, tenant)["status"] == "ready"  # the advance released its claim


def test_an_advance_lands_on_its_target_never_before_it(client: TestClient, tenant: Tenant) -> None:
    start = _parse(_clock(client, tenant)["now"])
    for hours in (1, 7, 30):
        target = start + timedelta(hours=hours, milliseconds=900)
        moved = ok(client.post("/api/v1/sandbox/clock/advance", json={"to": _wire(target)}, headers=tenant.headers))
        # The wire shows whole seconds: `now` is never before the second `to` falls in.
        assert target.replace(microsecond=0) <= _parse(moved["now"]) < target + timedelta(seconds=5)


def _go_live(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    releases = ok(client.get("/api/v1/releases", params={"limit": 100}, headers=tenant.headers))["data"]
    ready = next(r for r in releases if r["status"] == "submitted")
    advanced = ok(
        client.post(f"/api/v1/sandbox/releases/{ready['id']}/advance", json={"to": "live"}, headers=tenant.headers)
    )
    assert advanced["status"] == "live"
    return dict(advanced)


def _imports(tenant: Tenant) -> int:
    with session_scope() as session:
        return len(
            session.exec(
                select(Event).where(col(Event.account_id) == tenant.account_id, col(Event.type) == "earnings.imported")
            ).all()
        )


def test_live_sandbox_releases_earn_day_by_day_in_real_time(client: TestClient, make_tenant: TenantFactory) -> None:
    tenant = make_tenant(mock_data=True)
    _go_live(client, tenant)
    sandbox_clock.report_due_sales()  # the scheduler's first look: sales begin today
    # A day later (real time, no advance), the scheduler reports the day that is over: once, however often it looks.
    with clock.shifted(timedelta(days=1, hours=1)):
        before = _imports(tenant)
        sandbox_clock.report_due_sales()
        after_first = _imports(tenant)
        sandbox_clock.report_due_sales()
        assert _imports(tenant) == after_first > before
        with session_scope() as session:
            account = session.get(Account, tenant.account_id)
            assert account is not None
            assert account.sandbox_sales_through == (clock.now() - timedelta(days=1)).date()
    # The next day brings the next day's report.
    with clock.shifted(timedelta(days=2, hours=1)):
        sandbox_clock.report_due_sales()
        assert _imports(tenant) > after_first


def test_the_public_smart_link_view_reads_the_owners_sandbox_clock(client: TestClient, tenant: Tenant) -> None:
    release_day = days_from_today(10)
    link = _create(
        client,
        tenant,
        release_id=_release(client, tenant, release_day),
        presave={"enabled": True, "services": ["spotify"], "time_zone": "UTC"},
    )
    assert client.get(f"/api/v1/smartlinks/{link['slug']}").json()["mode"] == "presave"
    now = _parse(_clock(client, tenant)["now"])
    ok(
        client.post(
            "/api/v1/sandbox/clock/advance", json={"to": _wire(now + timedelta(days=11))}, headers=tenant.headers
        )
    )
    # The owner's API calls and the fans' public view agree: on the sandbox clock, release day has come.
    assert ok(client.get(f"/api/v1/smartlinks/{link['id']}/settings", headers=tenant.headers))["mode"] == "stream"
    assert client.get(f"/api/v1/smartlinks/{link['slug']}").json()["mode"] == "stream"
    page = client.get(f"/l/{link['slug']}")
    assert page.status_code == 200
    assert "Pre-save" not in page.text


def test_a_qc_verdict_and_its_event_carry_the_sandbox_time(client: TestClient, tenant: Tenant) -> None:
    now = _parse(_clock(client, tenant)["now"])
    ok(
        client.post(
            "/api/v1/sandbox/clock/advance", json={"to": _wire(now + timedelta(days=40))}, headers=tenant.headers
        )
    )
    track = create_track(client, tenant)
    assert upload_audio(client, tenant, track["id"], master_wav()).status_code in (200, 202)
    run_qc()  # the worker, outside any request: it runs the job on the track's account's clock
    qc = ok(client.get(f"/api/v1/tracks/{track['id']}/qc-status", headers=tenant.headers))
    assert _parse(qc["audio"]["checked_at"]) > now + timedelta(days=39)
    events = ok(
        client.get("/api/v1/events", params={"limit": 1, "type": "track.qc_completed"}, headers=tenant.headers)
    )["data"]
    assert _parse(events[0]["created"]) > now + timedelta(days=39)


def test_a_sandbox_oauth_token_expires_on_the_accounts_clock(make_tenant: TenantFactory) -> None:
    tenant = make_tenant()
    with session_scope() as session:
        account = session.get(Account, tenant.account_id)
        assert account is not None
        _account, user, _password = accounts.create_account(
            session,
            name="Token Owner",
            email=f"owner-{secrets.token_hex(6)}@example.com",
            password="correct horse battery staple",
        )
        registered = oauth_clients.register(
            session,
            account=account,
            environment="sandbox",
            name="Clock test",
            redirect_uris=["https://app.example.com/callback"],
            public=False,
        )
        access = oauth.ACCESS_PREFIX + secrets.token_urlsafe(32)
        session.add(
            OAuthToken(
                account_id=tenant.account_id,
                environment="sandbox",
                access_token_hash=oauth._digest(access),
                family_id="fam_" + secrets.token_hex(8),
                client_id=registered.client.id,
                user_id=user.id,
                scope="persons:read",
                access_expires_at=clock.real_now() + oauth.ACCESS_TOKEN_TTL,
            )
        )
    with session_scope() as session:
        assert oauth.authenticate_access_token(session, access).account_id == tenant.account_id
    # An hour and a bit later on the sandbox clock (real time has barely moved), the access token has expired.
    with session_scope() as session:
        moved = session.get(Account, tenant.account_id)
        assert moved is not None
        moved.sandbox_clock_offset_seconds = int(oauth.ACCESS_TOKEN_TTL.total_seconds()) + 60
        session.add(moved)
    with session_scope() as session, pytest.raises(DomainError) as refused:
        oauth.authenticate_access_token(session, access)
    assert refused.value.code == "invalid_token"


def _run_step_at(step_id: int | None, moment: datetime) -> None:
    with clock.for_account((moment - clock.real_now()).total_seconds()), session_scope() as session:
        step = session.get(SandboxStep, step_id)
        assert step is not None
        assert sandbox_simulator.run_step(session, step)


def test_a_release_goes_live_when_the_scheduler_and_an_advance_share_its_steps(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    """The scheduler and a clock advance run the steps of one release in plan order but on different clocks: the
    scheduler at the moment it finds a step due (late, on a busy machine), the advance at each step's due time. The
    stores' `live` run by the advance after their `delivered` was run late by the scheduler must still apply (it
    once arrived "older" than `delivered`, and the release stayed `delivering`: the guide's journey failed under
    load)."""
    tenant = make_tenant(mock_data=True)
    releases = ok(client.get("/api/v1/releases", params={"limit": 100}, headers=tenant.headers))["data"]
    draft = next(r for r in releases if r["title"] == "Ready When You Are")
    ok(client.post(f"/api/v1/releases/{draft['id']}/submit", headers=tenant.headers))
    with session_scope() as session:
        steps = [(s.id, s.payload["status"], s.due_at) for s in sandbox_simulator.pending_steps(session, draft["id"])]
    late = max(due for _id, _status, due in steps) + timedelta(minutes=1)
    live = [(step_id, due) for step_id, status, due in steps if status == "live"]
    assert live
    for step_id, status, _due in steps:  # the scheduler, a minute after every step was due
        if status != "live":
            _run_step_at(step_id, late)
    assert ok(client.get(f"/api/v1/releases/{draft['id']}", headers=tenant.headers))["status"] == "delivering"
    for step_id, due in live:  # then the advance, each at its due time
        _run_step_at(step_id, due)
    assert ok(client.get(f"/api/v1/releases/{draft['id']}", headers=tenant.headers))["status"] == "live"
