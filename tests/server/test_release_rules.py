"""The release rule catalogue: the wizard's `steps` and submit judge a release alike.

The property: for any release state, all steps complete ⇔ submit succeeds, and when it fails, submit's `errors[]`
are exactly the steps' `errors` (so `missing` lists every pointer submit reports). The states are written straight
into the rows (not through the API), so they include what write-time checks would refuse today: data written before
those checks existed must still be judged alike.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session
from starlette.testclient import TestClient

from server.db import engine as db
from server.db.models.files import File
from server.db.models.persons import Person
from server.db.models.tracks import Track
from server.domain import release_rules
from server.domain.errors import DomainError
from server.domain.releases import ReleaseCreate
from server.ids import new_id
from server.openapi.specification import raw_document
from server.principal import Principal
from server.representations.releases import represent
from server.scopes import SCOPES
from server.services import releases, submission
from tests.conftest import Tenant, TenantFactory
from tests.dates import days_from_today, today
from tests.server.releases_helpers import (
    complete_release,
    create_person,
    create_track,
    ok,
    unique_isrc,
    unique_upc,
)

# Valid identifiers no other test of the session uses (they are unique across the platform, per environment).
VALID_UPC = unique_upc()
OTHER_VALID_UPC = unique_upc()
VALID_ISRCS = (unique_isrc(), unique_isrc(), unique_isrc())


def _principal(tenant: Tenant) -> Principal:
    return Principal(tenant.account_id, tenant.environment, frozenset(SCOPES), tenant.key_id, "api_key")


# What can be wrong with a release, one aspect at a time. Each example picks a few aspects to break and draws every
# other aspect from its valid variants, so complete releases are generated as often as broken ones.
RELEASE_ASPECTS = (
    "details_missing",
    "title",
    "artists",
    "no_tracks",
    "upc",
    "artwork",
    "release_date",
    "original_release_date",
    "copyright_year",
    "territories",
    "stores",
)
TRACK_ASPECTS = ("language", "explicit", "audio", "credits", "isrc", "track_title", "track_artists")


@dataclass(frozen=True)
class TrackState:
    title: str
    artists: list[str]
    language: str | None
    explicit: bool | None
    audio: str | None  # QC status, None: no audio
    credits: str  # a named set, see _credits
    isrc: str  # none | valid | invalid | other_tenant


@dataclass(frozen=True)
class ReleaseState:
    title: str
    primary_artists: list[str]
    blank_details: list[str]
    upc: str  # none | valid | invalid | other_tenant
    artwork: str | None  # QC status, None: no cover
    release_in_days: int | None
    original_before: bool | None  # None: no original release date; False: after the release date
    copyright_year_offset: int  # years after the release date's year
    territories: list[str]
    stores: list[str]
    tracks: list[TrackState]


def _variant(broken: bool, valid: list[Any], invalid: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(invalid if broken else valid)


@st.composite
def track_states(draw: st.DrawFn, broken: frozenset[str]) -> TrackState:
    language = draw(_variant("language" in broken, ["en", "zxx", "de"], [None]))
    credit_sets = ["composer+lyricist", "free_text_composer+lyricist"] + (["composer"] if language == "zxx" else [])
    return TrackState(
        title=draw(_variant("track_title" in broken, ["Song One", "Aurora Vale"], ["Song (feat. Kito Mar)", "#hit"])),
        artists=draw(_variant("track_artists" in broken, [["Aurora Vale"]], [["Aurora Vale x Kito Mar"]])),
        language=language,
        explicit=draw(_variant("explicit" in broken, [True, False], [None])),
        audio=draw(_variant("audio" in broken, ["passed"], [None, "pending", "failed"])),
        credits=draw(
            _variant(
                "credits" in broken,
                credit_sets,
                ["none", "lyricist", "composer_without_legal_name+lyricist", "composer+lyricist_without_legal_name"]
                + (["composer"] if language != "zxx" else []),
            )
        ),
        isrc=draw(_variant("isrc" in broken, ["none", "valid", "other_tenant"], ["invalid"])),
    )


@st.composite
def release_states(draw: st.DrawFn) -> ReleaseState:
    broken = frozenset(draw(st.lists(st.sampled_from(RELEASE_ASPECTS + TRACK_ASPECTS), max_size=3, unique=True)))
    count = 0 if "no_tracks" in broken else draw(st.integers(1, 3))
    # A broken track aspect breaks one of the tracks; the others are drawn valid.
    culprit = draw(st.integers(0, max(count - 1, 0)))
    track_list = [draw(track_states(broken if i == culprit else frozenset())) for i in range(count)]
    return ReleaseState(
        title=draw(
            _variant(
                "title" in broken,
                ["Northern Lights", "Aurora Vale"],  # self-titled is fine
                ["Best of www.example.com", "Northern Lights (Clean)", "Aurora Vale Live"],
            )
        ),
        primary_artists=draw(
            _variant("artists" in broken, [["Aurora Vale"], ["Aurora Vale", "Kito Mar"]], [["Aurora Vale & Kito Mar"]])
        ),
        blank_details=draw(
            st.lists(st.sampled_from(["label", "genre", "language", "p_line", "c_line"]), min_size=1, unique=True)
            if "details_missing" in broken
            else st.just([])
        ),
        upc=draw(_variant("upc" in broken, ["none", "valid", "other_tenant"], ["invalid"])),
        artwork=draw(_variant("artwork" in broken, ["passed"], [None, "pending", "failed"])),
        release_in_days=draw(_variant("release_date" in broken, [14, 30, 400], [None, -30, 0, 13])),
        original_before=draw(_variant("original_release_date" in broken, [None, True], [False])),
        copyright_year_offset=draw(_variant("copyright_year" in broken, [0, -1], [1])),
        territories=draw(_variant("territories" in broken, [["WW"], ["DE", "AT"]], [[], ["WW", "DE"], ["XK"]])),
        stores=draw(_variant("stores" in broken, [["spotify"], ["spotify", "deezer"]], [[]])),
        tracks=track_list,
    )


class Builder:
    """Writes a generated state into the rows of one tenant, inside the caller's (rolled back) transaction."""

    def __init__(self, session: Session, principal: Principal, other: Principal) -> None:
        self.session, self.principal, self.other = session, principal, other
        self.files = 0

    def _file(self, purpose: str) -> str:
        self.files += 1
        digest = hashlib.sha256(f"{purpose}-{self.files}-{secrets.token_hex(4)}".encode()).hexdigest()
        file = File(
            id=new_id("fil"),
            account_id=self.principal.account_id,
            environment=self.principal.environment,
            sha256=digest,
            size_bytes=1,
            content_type="audio/wav" if purpose == "audio" else "image/jpeg",
            purpose=purpose,
            storage_key=f"test/{digest}",
        )
        self.session.add(file)
        return file.id

    def _person(self, legal_name: str | None) -> Person:
        person = Person(
            id=new_id("per"),
            account_id=self.principal.account_id,
            environment=self.principal.environment,
            name="Mara Lindqvist",
            legal_name=legal_name,
            email="mara@example.com",
        )
        self.session.add(person)
        return person

    def _credits(self, named: str) -> list[dict[str, Any]]:
        legal, nameless = self._person("Mara Sofia Lindqvist"), self._person(None)
        credit = {
            "composer": {"person_id": legal.id, "name": "Mara Sofia Lindqvist", "role": "composer"},
            "lyricist": {"person_id": legal.id, "name": "Mara Sofia Lindqvist", "role": "lyricist"},
            "free_text_composer": {"person_id": None, "name": "Jonas Berg", "role": "composer"},
            "composer_without_legal_name": {"person_id": nameless.id, "name": "Mara Lindqvist", "role": "composer"},
            "lyricist_without_legal_name": {"person_id": nameless.id, "name": "Mara Lindqvist", "role": "lyricist"},
        }
        return [] if named == "none" else [credit[part] for part in named.split("+")]

    def _foreign_track(self, isrc: str) -> None:
        """Another account's production track with the same ISRC: the same code in the other environment is no
        duplicate (in the same environment the platform refuses it outright: tests/server/test_identifiers.py)."""
        self.session.add(
            Track(
                id=new_id("trk"),
                account_id=self.other.account_id,
                environment=self.other.environment,
                title="Elsewhere",
                isrc=isrc,
            )
        )

    def build(self, state: ReleaseState) -> str:
        release = releases.create(
            self.session, self.principal, ReleaseCreate(title=state.title, primary_artists=tuple(state.primary_artists))
        )
        release.label, release.genre, release.language = "Nordlicht Records", "electronic", "en"
        release_date = None if state.release_in_days is None else today() + timedelta(days=state.release_in_days)
        year = (release_date or today()).year + state.copyright_year_offset
        release.p_line_year, release.p_line_owner = year, "Nordlicht Records"
        release.c_line_year, release.c_line_owner = year, "Aurora Vale"
        for name in state.blank_details:
            if name in ("p_line", "c_line"):
                setattr(release, f"{name}_year", None)
                setattr(release, f"{name}_owner", None)
            else:
                setattr(release, name, None)
        release.release_date = release_date
        if state.original_before is not None and release_date is not None:
            release.original_release_date = release_date + timedelta(days=-400 if state.original_before else 1)
        release.territories, release.stores = list(state.territories), list(state.stores)
        release.upc = {"none": None, "valid": VALID_UPC, "invalid": "4061707512345", "other_tenant": OTHER_VALID_UPC}[
            state.upc
        ]
        if state.upc == "other_tenant":
            other = releases.create(
                self.session, self.other, ReleaseCreate(title="Other", primary_artists=("Someone",))
            )
            other.upc = OTHER_VALID_UPC
        if state.artwork is not None:
            release.artwork_file_id, release.artwork_qc_status = self._file("artwork"), state.artwork
        for number, track_state in enumerate(state.tracks, start=1):
            track = Track(
                id=new_id("trk"),
                account_id=self.principal.account_id,
                environment=self.principal.environment,
                release_id=release.id,
                disc_number=1,
                track_number=number,
                title=track_state.title,
                primary_artists=list(track_state.artists),
                language=track_state.language,
                explicit=track_state.explicit,
                credits=self._credits(track_state.credits),
            )
            if track_state.audio is not None:
                track.audio_file_id, track.qc_status = self._file("audio"), track_state.audio
            if track_state.isrc in ("valid", "other_tenant"):
                track.isrc = VALID_ISRCS[number - 1]
                if track_state.isrc == "other_tenant":
                    self._foreign_track(track.isrc)
            elif track_state.isrc == "invalid":
                track.isrc = "DEA7B26"
            self.session.add(track)
        self.session.add(release)
        self.session.flush()
        return release.id


def _judged(session: Session, principal: Principal, release_id: str) -> tuple[dict[str, Any], list[Any] | None]:
    """The release's `steps` as its representation shows them, and submit's errors (None: it submitted)."""
    release = releases.get(session, principal, release_id)
    steps = represent(session, release)["steps"]
    try:
        submitted, _ = submission.submit(session, principal, release_id)
    except DomainError as problem:
        return steps, [(problem.status, problem.code, error.as_dict()) for error in problem.errors]
    assert submitted.status == "submitted"
    return steps, None


def test_all_steps_complete_if_and_only_if_submit_succeeds(make_tenant: TenantFactory) -> None:
    # The other account works in production: identifiers are unique per environment across the platform.
    principal = _principal(make_tenant())
    other = _principal(make_tenant(environment="production", production_access=True))
    outcomes: list[bool] = []

    @settings(max_examples=100, deadline=None, database=None)
    @given(release_states())
    def judged_alike(state: ReleaseState) -> None:
        with Session(db.engine()) as session:
            try:
                release_id = Builder(session, principal, other).build(state)
                steps, errors = _judged(session, principal, release_id)
            finally:
                session.rollback()  # every example starts from the same empty tenant
        complete = all(step["complete"] for step in steps.values())
        assert complete == (errors is None), (steps, errors)
        outcomes.append(complete)
        if errors is not None:
            assert {(status, code) for status, code, _ in errors} == {(422, "submission_checks_failed")}
            reported = [error for step in steps.values() for error in step["errors"]]
            assert sorted(map(str, reported)) == sorted(str(error) for _, _, error in errors)
            for step in steps.values():
                assert step["missing"] == list(dict.fromkeys(e["pointer"] for e in step["errors"]))

    judged_alike()
    # Both sides of the equivalence were exercised (the strategy draws unbroken states as often as broken ones).
    assert True in outcomes, "no example was complete"
    assert False in outcomes, "no example was incomplete"


def test_every_rule_a_step_reports_is_in_the_catalogue_and_the_spec() -> None:
    """The submitRelease description's table is the catalogue: same codes, same pointers."""
    description = raw_document()["paths"]["/api/v1/releases/{id}/submit"]["post"]["description"]
    rows: set[tuple[str, str]] = set()
    for line in description.splitlines():
        if not line.startswith("| `"):
            continue
        codes_cell, pointers_cell = (cell.strip() for cell in line.strip("|").split("|")[:2])
        codes = [part.strip("` ") for part in codes_cell.split("/")]
        pointers = [part.strip("` ") for part in pointers_cell.split(",")]
        rows |= {(code, pointer) for code in codes for pointer in pointers}
    catalogue = {(rule.code, rule.pointer) for rule in release_rules.RULES}
    assert rows == catalogue


def test_a_composer_credit_needs_a_legal_name_when_written(client: TestClient, tenant: Tenant) -> None:
    nameless = create_person(client, tenant, legal_name=None)
    named = create_person(client, tenant)
    credits = [{"person_id": named["id"], "role": "producer"}, {"person_id": nameless["id"], "role": "composer"}]
    refused = client.post(
        "/api/v1/tracks",
        json={"title": "Song", "primary_artists": ["Aurora Vale"], "credits": credits},
        headers=tenant.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_failed"
    assert [(e["code"], e["pointer"]) for e in refused.json()["errors"]] == [
        ("legal_name_missing", "/credits/1/person_id")
    ]
    # A producer needs no legal name; a free-text name is taken as the legal name.
    track = create_track(client, tenant, credits=[{"person_id": nameless["id"], "role": "producer"}])
    lyricist = [{"person_id": nameless["id"], "role": "lyricist"}]
    update = client.patch(f"/api/v1/tracks/{track['id']}", json={"credits": lyricist}, headers=tenant.headers)
    assert update.status_code == 422
    assert update.json()["errors"][0]["pointer"] == "/credits/0/person_id"
    free_text = [{"name": "Mara Sofia Lindqvist", "role": "composer"}]
    assert ok(client.patch(f"/api/v1/tracks/{track['id']}", json={"credits": free_text}, headers=tenant.headers))


def test_dates_only_valid_together_are_refused_when_either_is_written(client: TestClient, tenant: Tenant) -> None:
    release = complete_release(client, tenant)
    path = f"/api/v1/releases/{release['id']}"
    release_date = days_from_today(30)
    after = (release_date + timedelta(days=1)).isoformat()
    refused = client.patch(f"{path}/details", json={"original_release_date": after}, headers=tenant.headers)
    assert refused.status_code == 422
    assert [(e["code"], e["pointer"]) for e in refused.json()["errors"]] == [
        ("original_release_date_after_release_date", "/original_release_date")
    ]
    later_year = {"year": release_date.year + 1, "owner": "Nordlicht Records"}
    refused = client.patch(f"{path}/details", json={"p_line": later_year}, headers=tenant.headers)
    assert [(e["code"], e["pointer"]) for e in refused.json()["errors"]] == [
        ("copyright_year_after_release", "/p_line/year")
    ]
    # The release date moved before what the details hold: the written field is the one refused.
    before = (release_date - timedelta(days=10)).isoformat()
    ok(client.patch(f"{path}/details", json={"original_release_date": before}, headers=tenant.headers))
    earlier = (release_date - timedelta(days=11)).isoformat()
    refused = client.patch(f"{path}/distribution", json={"release_date": earlier}, headers=tenant.headers)
    assert refused.status_code == 422
    assert [(e["code"], e["pointer"]) for e in refused.json()["errors"]] == [
        ("original_release_date_after_release_date", "/release_date")
    ]
    unchanged = ok(client.get(path, headers=tenant.headers))
    assert unchanged["release_date"] == release_date.isoformat()
    assert all(step["complete"] for step in unchanged["steps"].values())


def test_an_unset_track_language_already_asks_for_the_lyricist(client: TestClient, tenant: Tenant) -> None:
    """The first submit reports the lyricist too (issue 19: it used to appear only after the language was set)."""
    release = complete_release(client, tenant)
    track_id = release["tracks"][0]["id"]
    person = create_person(client, tenant)
    composer = [{"person_id": person["id"], "role": "composer"}]
    ok(client.patch(f"/api/v1/tracks/{track_id}", json={"language": None, "credits": composer}, headers=tenant.headers))
    problem = client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers).json()
    assert {(e["code"], e["pointer"]) for e in problem["errors"]} == {
        ("required", "/tracks/0/language"),
        ("missing_lyricist", "/tracks/0/credits"),
    }
    steps = ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))["steps"]
    assert steps["tracks"]["missing"] == ["/tracks/0/language", "/tracks/0/credits"]
    # Declared instrumental: neither applies any more.
    ok(client.patch(f"/api/v1/tracks/{track_id}", json={"language": "zxx"}, headers=tenant.headers))
    assert ok(client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers))["status"] == "submitted"


def test_a_cover_that_failed_qc_leaves_the_artwork_step_incomplete(client: TestClient, tenant: Tenant) -> None:
    release = complete_release(client, tenant)
    principal = _principal(tenant)
    with db.session_scope() as session:
        row = releases.get(session, principal, release["id"])
        row.artwork_qc_status = "failed"
        session.add(row)
    steps = ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))["steps"]
    assert steps["artwork"] == {
        "complete": False,
        "missing": ["/artwork_qc/status"],
        "errors": [
            {
                "code": "artwork_qc_failed",
                "pointer": "/artwork_qc/status",
                "detail": "The cover art failed QC; see artwork_qc.",
            }
        ],
    }
    assert [name for name, step in steps.items() if not step["complete"]] == ["artwork"]


def test_a_submitted_release_keeps_its_steps_complete_after_the_lead_time_passed(
    client: TestClient, tenant: Tenant
) -> None:
    from server import clock

    release = complete_release(client, tenant)
    ok(client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers))
    with clock.shifted(timedelta(days=60)):  # the release date is behind us now
        steps = ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))["steps"]
    assert all(step["complete"] for step in steps.values()), steps
