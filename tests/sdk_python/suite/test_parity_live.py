"""Sandbox ↔ production parity, proven: one scenario run through the SDK with a sandbox key and with a production key of
the same account (production access granted). Status codes, response shapes (keys, types, id prefixes), error codes and
the webhook signature scheme are identical; the differences the sandbox guide documents (mock data, simulated
delivery, key prefixes, `environment`) are asserted as differences."""

import base64
import contextlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks
from conftest import _env, _record
from og_records import APIStatusError, OGRecords, file_from
from og_records.models import (
    CopyrightLineInput,
    CreateTrackFilesBody,
    PersonCreate,
    ReleaseCreate,
    ReleaseDetailsUpdate,
    ReleaseDistributionUpdate,
    SmartLinkCreate,
    SmartLinkCreateDestinationsItem,
    SplitCreate,
    SplitShareCreate,
    TrackCreate,
    TrackCreditInput,
    UpdateReleaseArtworkBody,
    WebhookEndpointCreate,
)
from test_releases_live import wait_for, write_cover, write_wav
from test_webhooks_live import Receiver

ID = re.compile(r"^([a-z]+)_[0-9a-z]{26}$")


def shape(value: Any) -> Any:
    """What a client relies on in a JSON value: keys, types, id prefixes; not the values themselves."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        shapes: list[Any] = []
        for item in value:
            if shape(item) not in shapes:
                shapes.append(shape(item))
        return shapes
    if isinstance(value, str):
        match = ID.match(value)
        return f"id:{match.group(1)}" if match else "string"
    return type(value).__name__


@dataclass
class Run:
    """The answers of one environment, step by step: (status, body) per named step."""

    steps: dict[str, tuple[int, Any]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    deliveries: list[Any] = field(default_factory=list)
    secret: str = ""

    def call(self, name: str, request: Callable[[], Any]) -> Any:
        try:
            answer = request()
        except APIStatusError as error:
            self.steps[name] = (error.status, error.problem)
            return error.problem
        body = answer.http_response.json() if answer.http_response.content else None
        self.steps[name] = (answer.status_code, body)
        return body


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("parity-media")
    return {"master": write_wav(folder / "master.wav"), "cover": write_cover(folder / "cover.jpg")}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def scenario(client: OGRecords, media: dict[str, Path], receiver: Receiver) -> Run:
    """The integration every label builds, step by step, through the SDK's raw responses."""
    run = Run()
    tag = uuid.uuid4().hex[:8]
    endpoint = run.call(
        "create webhook endpoint",
        lambda: client.webhook_endpoints.with_raw_response.create(
            body=WebhookEndpointCreate(url=receiver.url, enabled_events=["person.created"], description=f"parity {tag}")
        ),
    )
    run.secret, run.ids["endpoint"] = endpoint["secret"], endpoint["id"]
    person = run.call(
        "create person",
        lambda: client.persons.with_raw_response.create(
            body=PersonCreate(name="Ida Parity", legal_name="Ida Parity", email=f"ida-{tag}@example.com")
        ),
    )
    run.ids["person"] = person["id"]
    release = run.call(
        "create release",
        lambda: client.releases.with_raw_response.create(
            body=ReleaseCreate(title=f"Parity {tag}", primary_artists=["Ida Parity"])
        ),
    )
    run.ids["release"] = release["id"]
    run.call("submit incomplete", lambda: client.releases.with_raw_response.submit(release["id"]))
    run.call(
        "details",
        lambda: client.releases.with_raw_response.update_details(
            release["id"],
            body=ReleaseDetailsUpdate(
                label="Parity Records",
                genre="electronic",
                language="en",
                p_line=CopyrightLineInput(year=2026, owner="Parity Records"),
                c_line=CopyrightLineInput(year=2026, owner="Ida Parity"),
            ),
        ),
    )
    track = run.call(
        "track with audio",
        lambda: client.tracks.with_raw_response.create(
            body=CreateTrackFilesBody(
                metadata=TrackCreate(
                    title="Even",
                    primary_artists=["Ida Parity"],
                    release_id=release["id"],
                    explicit=False,
                    language="en",
                    credits=[
                        TrackCreditInput(person_id=person["id"], role="composer"),
                        TrackCreditInput(person_id=person["id"], role="lyricist"),
                    ],
                ),
                audio=file_from(media["master"]),
            )
        ),
    )
    run.call(
        "artwork",
        lambda: client.releases.with_raw_response.update_artwork(
            release["id"], body=UpdateReleaseArtworkBody(artwork=file_from(media["cover"]))
        ),
    )
    run.call(
        "distribution",
        lambda: client.releases.with_raw_response.update_distribution(
            release["id"],
            body=ReleaseDistributionUpdate(
                release_date=date.today() + timedelta(days=30),
                territories=["WW"],
                stores=["spotify", "apple_music"],
                price_tier="front",
            ),
        ),
    )
    # QC runs in the background in both environments: wait for its results, then read them as a client would.
    wait_for(
        lambda: client.tracks.get_qc_status(track["id"]),
        lambda qc: (
            qc.audio is not None
            and qc.audio.status != "pending"
            and qc.cover is not None
            and qc.cover.status != "pending"
        ),
    )
    run.call("qc status", lambda: client.tracks.with_raw_response.get_qc_status(track["id"]))
    run.call("submit", lambda: client.releases.with_raw_response.submit(release["id"]))
    run.call(
        "split",
        lambda: client.splits.with_raw_response.create(
            body=SplitCreate(
                release_id=release["id"],
                shares=[SplitShareCreate(person_id=person["id"], role="artist", share_bps=10000)],
            )
        ),
    )
    run.call(
        "smart link",
        lambda: client.smart_links.with_raw_response.create(
            body=SmartLinkCreate(
                release_id=release["id"],
                slug=f"parity-{tag}",
                destinations=[
                    SmartLinkCreateDestinationsItem(
                        service="spotify", url="https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"
                    )
                ],
            ),
            idempotency_key=str(uuid.uuid4()),
        ),
    )
    # One event type both environments emitted at this step: the sandbox's simulated review emits release events
    # of its own in the meantime (the documented difference), so the newest five events are not comparable.
    run.call("list events", lambda: client.events.with_raw_response.list(limit=1, type="person.created"))
    run.call(
        "invalid person",
        lambda: client.persons.with_raw_response.create(body=PersonCreate(name="", email="not-an-email")),
    )
    run.call("unknown release", lambda: client.releases.with_raw_response.get("rel_" + "0" * 26))
    run.call(
        "invalid split",
        lambda: client.splits.with_raw_response.create(
            body=SplitCreate(
                release_id=release["id"],
                shares=[SplitShareCreate(person_id=person["id"], role="artist", share_bps=5000)],
            )
        ),
    )
    run.deliveries = receiver.wait_for(person_event_id(client, person["id"]))
    return run


def person_event_id(client: OGRecords, person_id: str) -> str:
    events = client.events.list(type="person.created", limit=20)
    return next(event.id for event in events.data if event.data.object.to_dict().get("id") == person_id)


@pytest.fixture(scope="module")
def runs(media: dict[str, Path], receiver: Receiver) -> Iterator[dict[str, tuple[OGRecords, Run]]]:
    base_url = _env("OG_SDK_TEST_BASE_URL")
    found: dict[str, tuple[OGRecords, Run]] = {}
    with contextlib.ExitStack() as stack:
        http = stack.enter_context(httpx.Client(event_hooks={"response": [_record]}))
        for environment, key in (
            ("sandbox", _env("OG_SDK_TEST_PARITY_SANDBOX_KEY")),
            ("production", _env("OG_SDK_TEST_PARITY_PRODUCTION_KEY")),
        ):
            client = stack.enter_context(OGRecords(api_key=key, base_url=base_url, http_client=http))
            found[environment] = (client, scenario(client, media, receiver))
        yield found
        for client, run in found.values():
            client.webhook_endpoints.delete(run.ids["endpoint"])


def test_the_keys_name_their_environment(runs: dict[str, tuple[OGRecords, Run]]) -> None:
    assert runs["sandbox"][0].environment == "sandbox"
    assert runs["production"][0].environment == "production"


def _comparable(body: Any) -> Any:
    """A page's `next_cursor` is a string only while more pages follow: the sandbox's mock catalogue has more events
    than a new production account (a documented difference), so the cursor's presence is not compared."""
    if isinstance(body, dict) and "next_cursor" in body:
        return {key: value for key, value in body.items() if key != "next_cursor"}
    return body


def test_every_step_answers_the_same_status_and_shape(runs: dict[str, tuple[OGRecords, Run]]) -> None:
    sandbox, production = runs["sandbox"][1], runs["production"][1]
    assert list(sandbox.steps) == list(production.steps)
    for step, (status, body) in sandbox.steps.items():
        assert status == production.steps[step][0], step
        assert shape(_comparable(body)) == shape(_comparable(production.steps[step][1])), step
    assert {step: status for step, (status, _body) in sandbox.steps.items()} == {
        "create webhook endpoint": 201,
        "create person": 201,
        "create release": 201,
        "submit incomplete": 422,
        "details": 200,
        "track with audio": 201,
        "artwork": 200,
        "distribution": 200,
        "qc status": 200,
        "submit": 200,
        "split": 201,
        "smart link": 201,
        "list events": 200,
        "invalid person": 422,
        "unknown release": 404,
        "invalid split": 422,
    }


def test_errors_carry_the_same_codes_and_pointers(runs: dict[str, tuple[OGRecords, Run]]) -> None:
    sandbox, production = runs["sandbox"][1], runs["production"][1]
    for step in ("submit incomplete", "invalid person", "unknown release", "invalid split"):
        mine, theirs = sandbox.steps[step][1], production.steps[step][1]
        assert mine["code"] == theirs["code"], step
        assert mine["status"] == theirs["status"] >= 400, step
        pointers = sorted((e.get("code"), e.get("pointer")) for e in mine.get("errors") or [])
        assert pointers == sorted((e.get("code"), e.get("pointer")) for e in theirs.get("errors") or []), step
    assert sandbox.steps["unknown release"][0] == 404
    assert sandbox.steps["invalid person"][0] == 422


def test_webhooks_are_signed_the_same_way(runs: dict[str, tuple[OGRecords, Run]]) -> None:
    signed: dict[str, Any] = {}
    for environment, (_client, run) in runs.items():
        assert run.secret.startswith("whsec_")
        assert len(base64.b64decode(run.secret.removeprefix("whsec_"))) == 32
        (delivery,) = run.deliveries
        standardwebhooks.Webhook(run.secret).verify(delivery.body, delivery.headers)
        signed[environment] = (
            sorted(name for name in delivery.headers if name.startswith("webhook-")),
            delivery.headers["webhook-signature"].split(",")[0],
            delivery.headers["content-type"],
        )
    assert signed["sandbox"] == signed["production"]


def test_the_documented_differences(runs: dict[str, tuple[OGRecords, Run]]) -> None:
    (sandbox_client, sandbox), (production_client, production) = runs["sandbox"], runs["production"]
    # Mock data: the sandbox of a new account holds a catalogue; production holds only what this scenario made.
    assert len(sandbox_client.releases.list(limit=100).data) > 1
    assert [r.id for r in production_client.releases.list(limit=100).data] == [production.ids["release"]]
    # Simulated delivery: the sandbox release moves on by itself (review starts 6 s after the submit); production
    # waits for the real sub-distributor and stays submitted.
    moved = wait_for(
        lambda: sandbox_client.releases.get(sandbox.ids["release"]).status,
        lambda status: status != "submitted",
        timeout=30.0,
    )
    assert moved in {"in_review", "approved", "delivering", "live"}
    assert production_client.releases.get(production.ids["release"]).status == "submitted"
    # The sandbox-only operations refuse the production key.
    with pytest.raises(APIStatusError) as refused:
        production_client.sandbox.get_clock()
    assert (refused.value.status, refused.value.code) == (403, "sandbox_only")
    # Nothing crosses over: a sandbox id is unknown to production.
    with pytest.raises(APIStatusError) as unknown:
        production_client.releases.get(sandbox.ids["release"])
    assert unknown.value.status == 404


def test_what_only_the_sandbox_does_works_with_the_sandbox_key(runs: dict[str, tuple[OGRecords, Run]]) -> None:
    """The sandbox's own operations, through the SDK, on the sandbox key the scenario used; each refuses production."""
    (client, run), (production_client, _) = runs["sandbox"], runs["production"]
    live = client.sandbox.advance_release(run.ids["release"], to="live")
    assert (live.id, live.status) == (run.ids["release"], "live")
    triggered = client.sandbox.trigger(event="earnings.imported")
    assert (triggered.event, triggered.environment) == ("earnings.imported", "sandbox")
    assert triggered.event_ids
    before = client.sandbox.get_clock()
    moved = client.sandbox.advance_clock(to=before.now + timedelta(days=1))
    # The clock keeps running and reports whole seconds: a day later, give or take the second the call took.
    assert abs(moved.now - (before.now + timedelta(days=1))) <= timedelta(seconds=2)
    for refused_call in (
        lambda: production_client.sandbox.trigger(event="earnings.imported"),
        lambda: production_client.sandbox.advance_clock(to=before.now + timedelta(days=2)),
    ):
        with pytest.raises(APIStatusError) as refused:
            refused_call()
        assert (refused.value.status, refused.value.code) == (403, "sandbox_only")
