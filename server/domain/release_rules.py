"""The release rule catalogue: every rule a release must pass to be submitted, defined once.

Each rule has a stable `code`, the JSON pointer (RFC 6901) of what it points at in the release as `getRelease`
returns it (a template: `{i}` a track's index, `{j}` a list entry's, `{k}` a credit's) and the wizard step it belongs
to. The release representation's `steps` and `submitRelease` both evaluate this catalogue and nothing else, so a
release whose steps are all complete submits, and submit reports every failing rule at once.

Rules of fields that are only valid together (`paired`: an original release date after the release date, a ℗/©
year after the release year) are also refused when one of the fields is written; a composer or lyricist credit of a
person without a `legal_name` is refused when the credits are written (`legal_name_problems`). The catalogue still
checks them at submit for data written before those checks existed.

Evaluation is pure over the release, its tracks and `Facts` (what the database knows beyond them: identifiers used
elsewhere, the credited persons), which `load_facts` reads for one release or a whole list page at once.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from sqlmodel import Session, col, select

from server import clock
from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.tracks import Track
from server.domain import identifiers, territories

Step = Literal["details", "tracks", "artwork", "distribution"]
STEPS: tuple[Step, ...] = ("details", "tracks", "artwork", "distribution")

# A release can be edited (and submitted) while it is in one of these states.
EDITABLE = frozenset({"draft", "action_needed"})
LEAD_TIME_DAYS = 14
# Credits stores and collecting societies pay by legal name.
LEGAL_NAME_ROLES = ("composer", "lyricist")
INSTRUMENTAL = "zxx"


@dataclass(frozen=True)
class Rule:
    code: str
    pointer: str  # template into the release: {i} track index, {j} list entry, {k} credit
    step: Step
    fails_when: str
    # For rules of fields only valid together: the top-level fields (pointers into the release) that take part, the
    # pointed one first. Writing any of them into a contradiction is refused (`written_conflicts`).
    paired: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One failing rule: where (a concrete pointer) and why."""

    rule: Rule
    pointer: str
    detail: str

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def step(self) -> Step:
        return self.rule.step


def _rule(code: str, pointer: str, step: Step, fails_when: str, paired: tuple[str, ...] = ()) -> Rule:
    return Rule(code, pointer, step, fails_when, paired)


_TITLE_CONTENT = (
    "it holds a URL, email address, @handle, #hashtag, phone number, store name, "
    '"Clean"/"Explicit", "feat."/"ft." or an artist\'s name'
)
_COMBINED = "one entry names several artists (`A & B`, `A x B`, `A feat. B`)"

# The catalogue, in the order findings are reported (step by step, as the wizard runs).
RULES: tuple[Rule, ...] = (
    # details
    _rule("required", "/title", "details", "the title is empty"),
    _rule("required", "/primary_artists", "details", "no primary artist is named"),
    _rule("required", "/label", "details", "the label is not set"),
    _rule("required", "/genre", "details", "the genre is not set"),
    _rule("required", "/language", "details", "the release's language is not set (`zxx` for instrumental)"),
    _rule("required", "/p_line", "details", "the ℗ line is not set"),
    _rule("required", "/c_line", "details", "the © line is not set"),
    _rule("forbidden_title_content", "/title", "details", f"the title: {_TITLE_CONTENT}"),
    _rule("forbidden_title_content", "/version", "details", f"the version: {_TITLE_CONTENT}"),
    _rule("combined_artist_name", "/primary_artists/{j}", "details", _COMBINED),
    _rule("combined_artist_name", "/featured_artists/{j}", "details", _COMBINED),
    _rule("invalid_upc", "/upc", "details", "the UPC's GS1 check digit is wrong"),
    _rule("duplicate_upc", "/upc", "details", "another release uses the UPC"),
    _rule(
        "original_release_date_after_release_date",
        "/original_release_date",
        "details",
        "the original release date is after the release date",
        paired=("/original_release_date", "/release_date"),
    ),
    _rule(
        "copyright_year_after_release",
        "/p_line/year",
        "details",
        "the ℗ year is after the release date's year",
        paired=("/p_line", "/release_date"),
    ),
    _rule(
        "copyright_year_after_release",
        "/c_line/year",
        "details",
        "the © year is after the release date's year",
        paired=("/c_line", "/release_date"),
    ),
    # tracks
    _rule("no_tracks", "/tracks", "tracks", "the release has no tracks"),
    _rule("required", "/tracks/{i}/language", "tracks", "a track's language is not set (`zxx` for instrumental)"),
    _rule("required", "/tracks/{i}/explicit", "tracks", "a track does not declare whether it is explicit"),
    _rule("audio_missing", "/tracks/{i}/audio", "tracks", "a track has no audio"),
    _rule("audio_qc_pending", "/tracks/{i}/qc_status", "tracks", "a track's audio QC has not finished"),
    _rule("audio_qc_failed", "/tracks/{i}/qc_status", "tracks", "a track's audio failed QC"),
    _rule("invalid_isrc", "/tracks/{i}/isrc", "tracks", "the ISRC is malformed"),
    _rule("duplicate_isrc", "/tracks/{i}/isrc", "tracks", "another track (here or elsewhere) uses the ISRC"),
    _rule("forbidden_title_content", "/tracks/{i}/title", "tracks", f"a track title: {_TITLE_CONTENT}"),
    _rule("forbidden_title_content", "/tracks/{i}/version", "tracks", f"a track version: {_TITLE_CONTENT}"),
    _rule("combined_artist_name", "/tracks/{i}/primary_artists/{j}", "tracks", _COMBINED),
    _rule("combined_artist_name", "/tracks/{i}/featured_artists/{j}", "tracks", _COMBINED),
    _rule("missing_composer", "/tracks/{i}/credits", "tracks", "a track has no composer credit"),
    _rule(
        "missing_lyricist",
        "/tracks/{i}/credits",
        "tracks",
        "a track that is not declared instrumental (`language` other than `zxx`, or not set yet) has no lyricist "
        "credit",
    ),
    _rule(
        "legal_name_missing",
        "/tracks/{i}/credits/{k}",
        "tracks",
        "a credited composer or lyricist person has no `legal_name`",
    ),
    # artwork
    _rule("artwork_missing", "/artwork", "artwork", "no cover art was uploaded"),
    _rule("artwork_qc_pending", "/artwork_qc/status", "artwork", "the cover art's QC has not finished"),
    _rule("artwork_qc_failed", "/artwork_qc/status", "artwork", "the cover art failed QC"),
    # distribution
    _rule("required", "/release_date", "distribution", "the release date is not set"),
    _rule("required", "/territories", "distribution", "no territory is chosen"),
    _rule("required", "/stores", "distribution", "no store is chosen"),
    _rule(
        "release_date_too_soon",
        "/release_date",
        "distribution",
        f"the release date is less than {LEAD_TIME_DAYS} days after today (UTC)",
    ),
    _rule(
        "invalid_territory",
        "/territories/{j}",
        "distribution",
        "a code is not a current ISO 3166-1 code, or `WW` is combined with countries",
    ),
)

_BY_KEY: dict[tuple[str, str], Rule] = {(rule.code, rule.pointer): rule for rule in RULES}
assert len(_BY_KEY) == len(RULES), "a (code, pointer) pair names one rule"


def _found(code: str, template: str, detail: str, **indexes: int) -> Finding:
    # A KeyError here is a rule evaluated below that the catalogue does not list: the catalogue is the contract.
    return Finding(_BY_KEY[(code, template)], template.format(**indexes), detail)


@dataclass(frozen=True)
class Facts:
    """What the rules need beyond the release and its tracks, read from the database by `load_facts`."""

    # Ids of the tenant's releases using each UPC, and of its tracks using each ISRC, among those this release uses.
    upc_holders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    isrc_holders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    persons: Mapping[str, Person] = field(default_factory=dict)  # the credited persons by id


def load_facts(session: Session, releases: Sequence[tuple[Release, Sequence[Track]]]) -> dict[str, Facts]:
    """The facts of each release (by id), in at most three queries for any number of releases (a list page)."""
    upcs = {release.upc for release, _ in releases if release.upc}
    isrcs = {track.isrc for _, tracks in releases for track in tracks if track.isrc}
    person_ids = {c["person_id"] for _, tracks in releases for t in tracks for c in t.credits if c.get("person_id")}
    # Keyed by tenant and number: UPCs and ISRCs are unique per account and environment.
    upc_holders: dict[tuple[str, str, str], set[str]] = {}
    if upcs:
        rows = session.exec(
            select(Release.id, Release.account_id, Release.environment, Release.upc).where(col(Release.upc).in_(upcs))
        ).all()
        for release_id, account_id, environment, upc in rows:
            upc_holders.setdefault((account_id, environment, str(upc)), set()).add(release_id)
    isrc_holders: dict[tuple[str, str, str], set[str]] = {}
    if isrcs:
        rows = session.exec(
            select(Track.id, Track.account_id, Track.environment, Track.isrc).where(col(Track.isrc).in_(isrcs))
        ).all()
        for track_id, account_id, environment, isrc in rows:
            isrc_holders.setdefault((account_id, environment, str(isrc)), set()).add(track_id)
    persons: dict[str, Person] = {}
    if person_ids:
        persons = {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(person_ids))).all()}
    facts = {}
    for release, tracks in releases:
        tenant = (release.account_id, release.environment)
        facts[release.id] = Facts(
            upc_holders={release.upc: frozenset(upc_holders.get((*tenant, release.upc), ()))} if release.upc else {},
            isrc_holders={
                t.isrc: frozenset(isrc_holders.get((t.account_id, t.environment, t.isrc), ())) for t in tracks if t.isrc
            },
            persons={
                c["person_id"]: persons[c["person_id"]]
                for t in tracks
                for c in t.credits
                if c.get("person_id") in persons
            },
        )
    return facts


def as_of(release: Release) -> date:
    """The day time-relative rules are judged on: today (UTC, the server's clock) while the release can be
    submitted; once it is locked, the day it was submitted (its steps stay as they were when it passed)."""
    if release.status not in EDITABLE and release.submitted_at is not None:
        return release.submitted_at.date()
    return clock.now().date()


def evaluate(release: Release, tracks: Sequence[Track], facts: Facts, *, today: date) -> list[Finding]:
    """Every failing rule of the catalogue, in catalogue step order."""
    found: list[Finding] = []
    found += _detail_findings(release, facts)
    found += _date_findings(release, today)
    found += _track_findings(release, tracks, facts)
    found += _artwork_findings(release)
    found += _distribution_findings(release)
    order = {step: n for n, step in enumerate(STEPS)}
    return sorted(found, key=lambda finding: order[finding.step])  # stable: within a step, as evaluated


def findings(
    session: Session, release: Release, tracks: Sequence[Track], *, facts: Facts | None = None
) -> list[Finding]:
    """`evaluate` with the facts read now (unless a list page loaded them) and the release's `as_of` day."""
    if facts is None:
        facts = load_facts(session, [(release, tracks)])[release.id]
    return evaluate(release, tracks, facts, today=as_of(release))


def steps(found: Iterable[Finding]) -> dict[str, Any]:
    """The release representation's `steps`: per step, complete when no rule of it fails; `missing` the pointers
    of its failing rules (each once), `errors` the failures as submit reports them."""
    by_step: dict[Step, list[Finding]] = {step: [] for step in STEPS}
    for finding in found:
        by_step[finding.step].append(finding)
    return {
        step: {
            "complete": not failing,
            "missing": list(dict.fromkeys(f.pointer for f in failing)),
            "errors": [{"code": f.code, "pointer": f.pointer, "detail": f.detail} for f in failing],
        }
        for step, failing in by_step.items()
    }


def _empty(value: object) -> bool:
    return value is None or value in ("", [])


def _detail_findings(release: Release, facts: Facts) -> list[Finding]:
    found = [
        _found("required", pointer, f"{pointer[1:]} is required for delivery.")
        for pointer, value in (
            ("/title", release.title),
            ("/primary_artists", release.primary_artists),
            ("/label", release.label),
            ("/genre", release.genre),
            ("/language", release.language),
            ("/p_line", release.p_line_year),
            ("/c_line", release.c_line_year),
        )
        if _empty(value)
    ]
    artists = release.primary_artists + release.featured_artists
    found += _title_findings("/title", release.title, artists)
    found += _title_findings("/version", release.version, artists)
    found += _artist_findings("/primary_artists/{j}", release.primary_artists)
    found += _artist_findings("/featured_artists/{j}", release.featured_artists)
    if release.upc is not None:
        if not identifiers.is_valid_upc(release.upc):
            found.append(_found("invalid_upc", "/upc", f"{release.upc} has a wrong GS1 check digit."))
        elif facts.upc_holders.get(release.upc, frozenset()) - {release.id}:
            found.append(_found("duplicate_upc", "/upc", f"Another release uses the UPC {release.upc}."))
    return found


def _date_findings(release: Release, today: date) -> list[Finding]:
    """The release date's rules: the lead time (distribution) and the dates that must not be after it (details)."""
    found: list[Finding] = []
    if release.release_date is None:
        return found
    if release.release_date < today + timedelta(days=LEAD_TIME_DAYS):
        found.append(
            _found(
                "release_date_too_soon",
                "/release_date",
                f"The release date must be at least {LEAD_TIME_DAYS} days after today ({today.isoformat()}, UTC).",
            )
        )
    found += pair_findings(release)
    return found


def pair_findings(release: Release) -> list[Finding]:
    """The rules of fields only valid together (the `paired` rules) that the release breaks."""
    found: list[Finding] = []
    if release.release_date is None:
        return found
    if release.original_release_date is not None and release.original_release_date > release.release_date:
        found.append(
            _found(
                "original_release_date_after_release_date",
                "/original_release_date",
                f"The original release date {release.original_release_date.isoformat()} is after the release date "
                f"{release.release_date.isoformat()}.",
            )
        )
    for line, sign in (("p_line", "℗"), ("c_line", "©")):
        year = getattr(release, f"{line}_year")
        if year is not None and year > release.release_date.year:
            found.append(
                _found(
                    "copyright_year_after_release",
                    f"/{line}/year",
                    f"The {sign} year {year} is after the release date's year {release.release_date.year}.",
                )
            )
    return found


def written_conflicts(release: Release, written: Iterable[str]) -> list[Finding]:
    """The paired rules a write of `written` (top-level pointers of the fields just written, e.g. `/release_date`)
    breaks, each pointing at a written field: the release as it would be stored, checked before it is."""
    fields = set(written)
    conflicts = []
    for finding in pair_findings(release):
        involved = [pointer for pointer in finding.rule.paired if pointer in fields]
        if not involved:
            continue  # an older contradiction the write did not touch: submit reports it
        # Only the other field was written: point at it.
        written_field = involved[0] if involved[0] != finding.rule.paired[0] else finding.pointer
        conflicts.append(replace(finding, pointer=written_field))
    return conflicts


def _artwork_findings(release: Release) -> list[Finding]:
    if release.artwork_file_id is None:
        return [_found("artwork_missing", "/artwork", "No cover art was uploaded.")]
    if release.artwork_qc_status == "pending":
        return [_found("artwork_qc_pending", "/artwork_qc/status", "The cover art's QC has not finished yet.")]
    if release.artwork_qc_status == "failed":
        return [_found("artwork_qc_failed", "/artwork_qc/status", "The cover art failed QC; see artwork_qc.")]
    return []


def _distribution_findings(release: Release) -> list[Finding]:
    found = [
        _found("required", pointer, f"{pointer[1:]} is required for delivery.")
        for pointer, value in (
            ("/release_date", release.release_date),
            ("/territories", release.territories),
            ("/stores", release.stores),
        )
        if _empty(value)
    ]
    found += [
        _found("invalid_territory", "/territories/{j}", reason, j=index)
        for index, reason in territories.invalid_entries(release.territories)
    ]
    return found


def _track_findings(release: Release, tracks: Sequence[Track], facts: Facts) -> list[Finding]:
    if not tracks:
        return [_found("no_tracks", "/tracks", "The release has no tracks.")]
    found: list[Finding] = []
    release_artists = release.primary_artists + release.featured_artists
    for i, track in enumerate(tracks):
        found += _one_track_findings(i, track, release_artists, facts)
    return found


def _one_track_findings(i: int, track: Track, release_artists: list[str], facts: Facts) -> list[Finding]:
    found = []
    if track.language is None:
        found.append(_found("required", "/tracks/{i}/language", "The track's language is required (zxx: none).", i=i))
    if track.explicit is None:
        found.append(_found("required", "/tracks/{i}/explicit", "Declare whether the track is explicit.", i=i))
    if track.audio_file_id is None:
        found.append(_found("audio_missing", "/tracks/{i}/audio", "The track has no audio.", i=i))
    elif track.qc_status == "pending":
        found.append(_found("audio_qc_pending", "/tracks/{i}/qc_status", "The track's audio QC has not finished.", i=i))
    elif track.qc_status == "failed":
        found.append(_found("audio_qc_failed", "/tracks/{i}/qc_status", "The track's audio failed QC.", i=i))
    if track.isrc is not None:
        if not identifiers.is_valid_isrc(track.isrc):
            found.append(_found("invalid_isrc", "/tracks/{i}/isrc", f"{track.isrc} is not a well-formed ISRC.", i=i))
        elif facts.isrc_holders.get(track.isrc, frozenset()) - {track.id}:
            detail = f"Another track uses the ISRC {track.isrc}."
            found.append(_found("duplicate_isrc", "/tracks/{i}/isrc", detail, i=i))
    artists = release_artists + track.primary_artists + track.featured_artists
    found += _title_findings("/tracks/{i}/title", track.title, artists, i=i)
    found += _title_findings("/tracks/{i}/version", track.version, artists, i=i)
    found += _artist_findings("/tracks/{i}/primary_artists/{j}", track.primary_artists, i=i)
    found += _artist_findings("/tracks/{i}/featured_artists/{j}", track.featured_artists, i=i)
    roles = {credit["role"] for credit in track.credits}
    if "composer" not in roles:
        found.append(_found("missing_composer", "/tracks/{i}/credits", "The track needs a composer credit.", i=i))
    # Unset language counts as "has lyrics" so the lyricist shows up on the first report, not after the language is
    # set (declaring the track instrumental, `zxx`, clears it).
    if track.language != INSTRUMENTAL and "lyricist" not in roles:
        found.append(
            _found(
                "missing_lyricist",
                "/tracks/{i}/credits",
                "A track with lyrics needs a lyricist credit (declare an instrumental with language zxx).",
                i=i,
            )
        )
    for k, detail in legal_name_problems(track.credits, facts.persons):
        found.append(_found("legal_name_missing", "/tracks/{i}/credits/{k}", detail, i=i, k=k))
    return found


def legal_name_problems(credits: Sequence[Mapping[str, Any]], persons: Mapping[str, Person]) -> list[tuple[int, str]]:
    """(index, detail) of each composer or lyricist credit naming a person without a `legal_name` (free-text credit
    names are taken as legal names)."""
    problems = []
    for k, credit in enumerate(credits):
        person = persons.get(credit.get("person_id") or "")
        if credit["role"] in LEGAL_NAME_ROLES and person is not None and not person.legal_name:
            problems.append((k, f"{person.name} is credited as {credit['role']} but has no legal_name."))
    return problems


_STORE_NAMES = (
    "spotify",
    "apple music",
    "itunes",
    "amazon",
    "youtube",
    "deezer",
    "tidal",
    "tiktok",
    "instagram",
    "facebook",
    "soundcloud",
    "pandora",
    "audiomack",
    "anghami",
    "boomplay",
    "jiosaavn",
    "napster",
)
_TITLE_PATTERNS = (
    (re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(com|net|org|io|de|fm|me|ly)\b", re.IGNORECASE), "a URL"),
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b"), "an email address"),
    (re.compile(r"(^|\s)@\w+"), "an @handle"),
    (re.compile(r"(^|\s)#\w+"), "a #hashtag"),
    (re.compile(r"\+?\d[\d\s().-]{7,}\d"), "a phone number"),
    (re.compile(r"\b(" + "|".join(_STORE_NAMES) + r")\b", re.IGNORECASE), "a store name"),
    (re.compile(r"\b(clean|explicit)\b", re.IGNORECASE), '"Clean" or "Explicit"'),
    (re.compile(r"(\bfeat\.|\bft\.|\bfeaturing\b|\bfeat\b)", re.IGNORECASE), '"feat." (use featured_artists)'),
)
_COMBINED_ARTIST = re.compile(r"\s(&|x|X|feat\.?|ft\.?|featuring|vs\.?)\s|,\s|;|\s/\s")


def _title_findings(template: str, title: str | None, artists: list[str], **indexes: int) -> list[Finding]:
    """At most one finding per title: the first thing wrong with it."""
    if not title:
        return []
    for pattern, what in _TITLE_PATTERNS:
        if pattern.search(title):
            return [_found("forbidden_title_content", template, f"The title contains {what}.", **indexes)]
    lowered = title.casefold()
    for artist in artists:
        name = artist.casefold()
        # A self-titled release is fine; the artist's name inside a longer title is not.
        if name and name != lowered and re.search(r"\b" + re.escape(name) + r"\b", lowered):
            detail = f"The title contains the artist name '{artist}'."
            return [_found("forbidden_title_content", template, detail, **indexes)]
    return []


def _artist_findings(template: str, names: list[str], **indexes: int) -> list[Finding]:
    return [
        _found(
            "combined_artist_name", template, f"'{name}' names several artists; list each separately.", j=j, **indexes
        )
        for j, name in enumerate(names)
        if _COMBINED_ARTIST.search(name)
    ]
