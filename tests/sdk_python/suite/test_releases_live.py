"""The release wizard through the SDK against the live server: a draft, each step, real audio and cover art uploaded
from disk, QC polled to its result, the submit checks as typed field errors, a valid submit, the status lock."""

import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
import soundfile
from og_records import ConflictError, OGRecords, UnprocessableEntityError, file_from
from og_records.models import (
    CopyrightLineInput,
    CreateTrackFilesBody,
    Metadata,
    PersonCreate,
    QcReport,
    Release,
    ReleaseCreate,
    ReleaseDetailsUpdate,
    ReleaseDistributionUpdate,
    ReleaseTracksUpdate,
    ReleaseTracksUpdateTracksItem,
    Track,
    TrackCreate,
    TrackCreditInput,
    TrackUpdate,
    UpdateReleaseArtworkBody,
    UploadTrackAudioBody,
)
from PIL import Image

T = TypeVar("T")


def write_wav(path: Path, *, seconds: float = 31.0, rate: int = 44_100, channels: int = 2) -> Path:
    """A real PCM WAV master: a sine chord, one tone per channel, well below full scale."""
    t = np.arange(int(seconds * rate)) / rate
    tone = np.stack([0.3 * np.sin(2 * np.pi * 440.0 * (1 + 0.25 * c) * t) for c in range(channels)], axis=1)
    soundfile.write(path, tone, rate, subtype="PCM_16", format="WAV")
    return path


def write_cover(path: Path, *, size: tuple[int, int] = (3000, 3000)) -> Path:
    """A real RGB cover (JPEG or PNG by the suffix); a smooth gradient keeps it small at 3000 px."""
    gradient = Image.linear_gradient("L").resize(size)
    Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM), gradient)).save(path)
    return path


def wait_for(read: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 60.0) -> T:
    """Polls `read` until `done` holds (QC runs in the background, seconds after the upload)."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value):
        assert time.monotonic() < deadline, f"still not done after {timeout} s: {value}"
        time.sleep(0.25)
        value = read()
    return value


def audio_report(client: OGRecords, track_id: str) -> QcReport:
    def finished(report: QcReport | None) -> bool:
        return report is not None and report.status != "pending"

    report = wait_for(lambda: client.tracks.get_qc_status(track_id).audio, finished)
    assert report is not None
    return report


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    return {
        "master": write_wav(folder / "master.wav"),
        "short_mono": write_wav(folder / "demo.wav", seconds=5.0, rate=22_050, channels=1),
        "cover_jpeg": write_cover(folder / "cover.jpg"),
        "cover_png": write_cover(folder / "cover.png"),
        "wide_png": write_cover(folder / "banner.png", size=(3000, 1500)),
    }


def _draft(client: OGRecords, title: str = "Northern Lights") -> Release:
    return client.releases.create(body=ReleaseCreate(title=title, primary_artists=["Aurora Vale"]))


def test_the_wizard_end_to_end_then_the_release_is_locked(own_key_client: OGRecords, media: dict[str, Path]) -> None:
    client = own_key_client
    writer = client.persons.create(
        body=PersonCreate(
            name="Mara Lindqvist", legal_name="Mara Sofia Lindqvist", email=f"mara-{uuid.uuid4().hex[:8]}@example.com"
        )
    )
    credits = [
        TrackCreditInput(person_id=writer.id, role="composer"),
        TrackCreditInput(person_id=writer.id, role="lyricist"),
    ]

    # Step 1: a draft, which tells what each later step still misses.
    release = _draft(client)
    assert release.id.startswith("rel_")
    assert release.status == "draft"
    assert not release.steps.details.complete
    assert "/genre" in release.steps.details.missing
    assert release.steps.tracks.missing == ["/tracks"]

    # Submitting now fails every check at once, each a typed field error pointing into the release.
    with pytest.raises(UnprocessableEntityError) as early:
        client.releases.submit(release.id)
    assert early.value.status == 422
    assert early.value.code == "submission_checks_failed"
    failed = {(error.code, error.pointer) for error in early.value.errors}
    assert {("required", "/label"), ("no_tracks", "/tracks"), ("artwork_missing", "/artwork")} <= failed
    assert all(error.detail for error in early.value.errors)
    assert client.releases.get(release.id).status == "draft", "a failed submit changes nothing"

    # Step 2: details.
    detailed = client.releases.update_details(
        release.id,
        body=ReleaseDetailsUpdate(
            label="Nordlicht Records",
            genre="electronic",
            language="en",
            p_line=CopyrightLineInput(year=2026, owner="Nordlicht Records"),
            c_line=CopyrightLineInput(year=2026, owner="Aurora Vale"),
        ),
    )
    assert detailed.steps.details.complete
    assert detailed.p_line is not None
    assert detailed.p_line.owner == "Nordlicht Records"

    # Step 3: tracks. One created with its audio in the same request (streamed from a path), one created bare and
    # given its audio afterwards from an open file object.
    first = client.tracks.create(
        body=CreateTrackFilesBody(
            metadata=TrackCreate(
                title="Aurora",
                primary_artists=["Aurora Vale"],
                release_id=release.id,
                explicit=False,
                language="en",
                credits=credits,
            ),
            audio=file_from(media["master"]),
        )
    )
    assert isinstance(first, Track)
    assert first.qc_status in {"pending", "passed"}
    assert first.audio is not None
    second = client.tracks.create(
        body=TrackCreate(
            title="Borealis", primary_artists=["Aurora Vale"], release_id=release.id, language="en", credits=credits
        )
    )
    assert (first.track_number, second.track_number) == (1, 2)
    assert second.audio is None
    with media["master"].open("rb") as handle:
        uploaded = client.tracks.upload_audio(second.id, body=UploadTrackAudioBody(audio=file_from(handle)))
    assert uploaded.audio is not None
    assert uploaded.audio.size_bytes == media["master"].stat().st_size
    edited = client.tracks.update(
        second.id, body=TrackUpdate(explicit=True, metadata=Metadata.from_dict({"mix": "radio"}))
    )
    assert (edited.explicit, edited.metadata.to_dict()) == (True, {"mix": "radio"})
    assert client.tracks.get(second.id).explicit is True

    reordered = client.releases.update_tracks(
        release.id,
        body=ReleaseTracksUpdate(
            tracks=[
                ReleaseTracksUpdateTracksItem(track_id=second.id, track_number=1),
                ReleaseTracksUpdateTracksItem(track_id=first.id, track_number=2),
            ]
        ),
    )
    assert [track.id for track in reordered.tracks] == [second.id, first.id]
    assert reordered.explicit is True, "derived from the tracks"
    assert [track.id for track in client.tracks.list(release_id=release.id)] == [second.id, first.id]

    # Step 4: cover art, streamed from a path.
    covered = client.releases.update_artwork(
        release.id, body=UpdateReleaseArtworkBody(artwork=file_from(media["cover_jpeg"]))
    )
    assert covered.artwork is not None
    assert covered.artwork_qc is not None
    assert covered.artwork_qc.status in {"pending", "passed"}

    # Step 5: distribution.
    release_date = date.today() + timedelta(days=30)
    distributed = client.releases.update_distribution(
        release.id,
        body=ReleaseDistributionUpdate(
            release_date=release_date, territories=["WW"], stores=["spotify", "apple_music"], price_tier="front"
        ),
    )
    assert distributed.release_date == release_date
    assert distributed.territories == ["WW"]

    # QC runs in the background: poll each track's QC status until it has a result.
    for track in (first, second):
        report = audio_report(client, track.id)
        assert report.status == "passed", report.findings
    qc = wait_for(
        lambda: client.tracks.get_qc_status(first.id),
        lambda status: status.cover is not None and status.cover.status != "pending",
    )
    assert qc.release_id == release.id
    assert qc.cover is not None
    assert qc.cover.status == "passed", qc.cover.findings

    ready = client.releases.get(release.id)
    assert all(step.complete for step in (ready.steps.details, ready.steps.tracks, ready.steps.artwork)), ready.steps
    assert ready.steps.distribution.complete
    assert ready.duration_ms == 2 * 31_000

    submitted = client.releases.submit(release.id)
    assert submitted.status == "submitted"
    assert submitted.submitted_at is not None
    assert submitted.upc is not None
    assert len(submitted.upc) == 13
    assert all(track.isrc for track in submitted.tracks), "blank ISRCs are assigned at submit"
    assert client.releases.submit(release.id).to_dict() == submitted.to_dict(), "a repeated submit changes nothing"

    # Submitted: the wizard steps are locked with a typed 409 naming the state; metadata stays editable.
    with pytest.raises(ConflictError) as locked:
        client.releases.update_details(release.id, body=ReleaseDetailsUpdate(title="Other"))
    assert (locked.value.status, locked.value.code, locked.value.current_state) == (409, "invalid_state", "submitted")
    with pytest.raises(ConflictError) as track_locked:
        client.tracks.update(first.id, body=TrackUpdate(title="Other"))
    assert track_locked.value.current_state == "submitted"
    with pytest.raises(ConflictError):
        client.tracks.upload_audio(first.id, body=UploadTrackAudioBody(audio=file_from(media["master"])))
    relabelled = client.releases.update_details(
        release.id, body=ReleaseDetailsUpdate(metadata=Metadata.from_dict({"crm": "B-2"}))
    )
    assert relabelled.metadata.to_dict() == {"crm": "B-2"}


def test_failed_qc_is_reported_with_findings_and_blocks_the_submit(
    own_key_client: OGRecords, media: dict[str, Path]
) -> None:
    client = own_key_client
    release = _draft(client, "Demo Tape")
    track = client.tracks.create(
        body=TrackCreate(title="Demo", primary_artists=["Aurora Vale"], release_id=release.id, language="zxx")
    )
    client.tracks.upload_audio(track.id, body=UploadTrackAudioBody(audio=file_from(media["short_mono"])))
    client.releases.update_artwork(release.id, body=UpdateReleaseArtworkBody(artwork=file_from(media["wide_png"])))

    report = audio_report(client, track.id)
    assert report.status == "failed"
    codes = {finding.code for finding in report.findings if finding.severity == "error"}
    assert {"duration", "sample_rate", "channels"} <= codes
    cover = wait_for(
        lambda: client.tracks.get_qc_status(track.id).cover,
        lambda found: found is not None and found.status != "pending",
    )
    assert cover is not None
    assert cover.status == "failed"
    assert "not_square" in {finding.code for finding in cover.findings}

    with pytest.raises(UnprocessableEntityError) as refused:
        client.releases.submit(release.id)
    failed = {(error.code, error.pointer) for error in refused.value.errors}
    assert {("audio_qc_failed", "/tracks/0/qc_status"), ("artwork_qc_failed", "/artwork_qc/status")} <= failed

    # A new, good cover (PNG this time) restarts cover QC, which then passes.
    client.releases.update_artwork(release.id, body=UpdateReleaseArtworkBody(artwork=file_from(media["cover_png"])))
    fixed = wait_for(
        lambda: client.releases.get(release.id).artwork_qc,
        lambda found: found is not None and found.status != "pending",
    )
    assert fixed is not None
    assert fixed.status == "passed", fixed.findings


def test_releases_and_tracks_are_listed_across_pages(own_key_client: OGRecords) -> None:
    client = own_key_client
    drafts = [_draft(client, f"Page {number}") for number in range(3)]
    releases = [draft.id for draft in drafts]
    since = drafts[0].created_at  # second precision: earlier tests' releases of that second are listed too

    page = client.releases.list(limit=2, created_gte=since)
    assert len(page.data) == 2
    assert page.has_next_page()
    pages = list(page.iter_pages())
    assert len(pages) >= 2
    assert all(len(one.data) <= 2 for one in pages)
    walked = [release.id for release in client.releases.list(limit=2, created_gte=since)]
    assert walked == [release.id for one in pages for release in one.data]
    assert len(walked) == len(set(walked)), "no release is listed twice across pages"
    assert [rid for rid in walked if rid in releases] == releases[::-1], "newest first"
    assert page.next_page().data[0].id == walked[2]
    assert all(release.status == "draft" for release in client.releases.list(status="draft", created_gte=since))
    assert not client.releases.list(status="live", created_gte=since).data

    tracks = [
        client.tracks.create(
            body=TrackCreate(title=f"Song {number}", primary_artists=["Aurora Vale"], release_id=releases[0])
        ).id
        for number in range(3)
    ]
    on_release = client.tracks.list(limit=2, release_id=releases[0])
    assert len(on_release.data) == 2
    assert on_release.has_next_page()
    assert [track.id for track in on_release] == tracks, "a release's tracks in tracklist order, across pages"
    newest_first = [track.id for track in client.tracks.list(limit=2, created_gte=since)]
    assert [tid for tid in newest_first if tid in tracks] == tracks[::-1]
