"""Running QC in the background: pending jobs live in the database, any process can run them.

A job is a track whose `qc_status` is `pending` (audio) or a release whose `artwork_qc_status` is (cover). The
analysis runs outside any transaction; its result is written with a compare-and-set on the file id and the pending
status, so a job finished twice (two workers, or a restart mid-way) is applied once and emits one event, and a result
for a file that was replaced meanwhile is dropped. Nothing is lost on restart: the job is still `pending`.

`run_pending()` is the whole interface: the in-process `QcWorker` thread (started with the app) calls it, and so
can a separate worker process.
"""

import logging
import threading
from typing import Any

from sqlalchemy import exists, update
from sqlalchemy import select as sa_select  # more columns than sqlmodel's select types
from sqlmodel import col, select

from server import clock
from server import state as app_state
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.artwork import ArtworkDerivative
from server.db.models.files import File
from server.db.models.releases import Release
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain import account_clock
from server.principal import Principal
from server.qc.findings import finding, verdict
from server.representations.releases import represent as represent_release
from server.representations.tracks import represent_qc
from server.services import artwork, events, releases
from server.storage import store

log = logging.getLogger("og.qc")

STAGING_MAX_AGE_SECONDS = 6 * 3600


def _system_principal(account_id: str, environment: str) -> Principal:
    return Principal(account_id, environment, frozenset(), "system:qc", "system")


def _missing(file_id: str) -> list[dict[str, Any]]:
    return [finding("corrupt", "error", f"The stored file {file_id} could not be read; upload it again.")]


def _analyse_audio(file_id: str, key: str) -> tuple[list[dict[str, Any]], int | None]:
    if not store().exists(key):
        return _missing(file_id), None
    from server.qc import audio  # noqa: PLC0415 - scipy takes seconds to import; only the worker needs it

    with store().open(key) as handle:
        report = audio.analyse(handle)
    return report.findings, report.duration_ms


def _audio_job(track_id: str, file_id: str, key: str, memo: dict[str, Any]) -> None:
    if file_id not in memo:  # one file on several tracks (the same master) is analysed once per round
        memo[file_id] = _analyse_audio(file_id, key)
    findings, duration = memo[file_id]
    with session_scope() as session:
        now = utcnow()
        result = session.exec(
            update(Track)
            .where(col(Track.id) == track_id, col(Track.audio_file_id) == file_id, col(Track.qc_status) == "pending")
            .values(
                qc_status=verdict(findings),
                qc_findings=findings,
                qc_completed_at=now,
                duration_ms=duration,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            return
        track = session.get(Track, track_id, populate_existing=True)
        assert track is not None
        _emit_audio_events(session, track)


def _emit_audio_events(session: Any, track: Track) -> None:
    principal = _system_principal(track.account_id, track.environment)
    events.emit(session, principal, "track.qc_completed", represent_qc(session, track))
    release = session.get(Release, track.release_id) if track.release_id else None
    if release is not None:
        before_type = release.release_type
        releases.refresh_derived(session, release)
        if release.release_type != before_type:
            document = represent_release(session, release)
            events.emit(
                session, principal, "release.updated", document, previous_attributes={"release_type": before_type}
            )


def _analyse_cover(file_id: str, key: str, size: int) -> list[dict[str, Any]]:
    if not store().exists(key):
        return _missing(file_id)
    from server.qc import cover  # noqa: PLC0415

    with store().open(key) as handle:
        return cover.analyse(handle, size)


def _cover_job(release_id: str, file_id: str, key: str, size: int, memo: dict[str, Any]) -> None:
    if file_id not in memo:
        findings = _analyse_cover(file_id, key, size)
        # Web-sized derivatives for smart-link pages, made once, before the verdict is written: when
        # `release.artwork_qc_completed` announces a passed cover, its `artwork_url` already works.
        memo[file_id] = (findings, artwork.make(key) if verdict(findings) == "passed" else [])
    findings, derivatives = memo[file_id]
    with session_scope() as session:
        now = utcnow()
        result = session.exec(
            update(Release)
            .where(
                col(Release.id) == release_id,
                col(Release.artwork_file_id) == file_id,
                col(Release.artwork_qc_status) == "pending",
            )
            .values(artwork_qc_status=verdict(findings), artwork_qc_findings=findings, artwork_qc_completed_at=now)
        )
        if result.rowcount != 1:
            return
        release = session.get(Release, release_id, populate_existing=True)
        assert release is not None
        cover = session.get(File, file_id)
        if derivatives and cover is not None:
            artwork.record(session, release, cover.sha256, derivatives)
        principal = _system_principal(release.account_id, release.environment)
        events.emit(session, principal, "release.artwork_qc_completed", represent_release(session, release))


def run_pending(limit: int = 20) -> int:
    """Runs up to `limit` pending QC jobs (audio first, oldest first); returns how many it ran."""
    with session_scope() as session:
        # Each job runs on its account's clock: a sandbox account's test clock stamps the verdict and its events.
        audio_jobs = session.execute(
            sa_select(
                col(Track.id),
                col(File.id),
                col(File.storage_key),
                col(Track.environment),
                col(Account.sandbox_clock_offset_seconds),
            )
            .join(File, col(File.id) == col(Track.audio_file_id))
            .join(Account, col(Account.id) == col(Track.account_id))
            .where(col(Track.qc_status) == "pending")
            .order_by(col(Track.updated_at))
            .limit(limit)
        ).all()
        cover_jobs = session.execute(
            sa_select(
                col(Release.id),
                col(File.id),
                col(File.storage_key),
                col(File.size_bytes),
                col(Release.environment),
                col(Account.sandbox_clock_offset_seconds),
            )
            .join(File, col(File.id) == col(Release.artwork_file_id))
            .join(Account, col(Account.id) == col(Release.account_id))
            .where(col(Release.artwork_qc_status) == "pending")
            .order_by(col(Release.updated_at))
            .limit(limit)
        ).all()
        derivative_jobs = session.exec(
            select(Release.id, File.id, File.storage_key)
            .join(File, col(File.id) == col(Release.artwork_file_id))
            .where(
                col(Release.artwork_qc_status) == "passed",
                ~exists().where(col(ArtworkDerivative.source_sha256) == col(File.sha256)),
                col(File.id).notin_(_derivatives_failed or {""}),
            )
            .limit(limit)
        ).all()
    memo: dict[str, Any] = {}
    for track_id, file_id, key, environment, offset in audio_jobs:
        with clock.for_account(account_clock.offset_seconds(environment, offset)):
            _guarded(_audio_job, track_id, file_id, key, memo)
    for release_id, file_id, key, size, environment, offset in cover_jobs:
        with clock.for_account(account_clock.offset_seconds(environment, offset)):
            _guarded(_cover_job, release_id, file_id, key, size, memo)
    for release_id, file_id, key in derivative_jobs:
        _guarded(_derivatives_job, release_id, file_id, key, memo)
    return len(audio_jobs) + len(cover_jobs) + len(derivative_jobs)


# Covers whose derivatives could not be made in this process: not tried again until it restarts, so one odd file
# cannot keep the worker busy.
_derivatives_failed: set[str] = set()


def _derivatives_job(release_id: str, file_id: str, key: str, memo: dict[str, Any]) -> None:
    """Catch-up for covers that passed QC before derivatives existed (or whose derivatives were lost): the same
    work `_cover_job` does on a pass, for a verdict that is already written."""
    try:
        derivatives = memo[file_id][1] if file_id in memo else artwork.make(key)
    except Exception:
        _derivatives_failed.add(file_id)
        raise
    if not derivatives:
        _derivatives_failed.add(file_id)
        return
    with session_scope() as session:
        release = session.get(Release, release_id)
        cover = session.get(File, file_id)
        if release is None or cover is None or release.artwork_file_id != file_id:
            return
        artwork.record(session, release, cover.sha256, derivatives)


def _guarded(job: Any, *args: Any) -> None:
    try:
        job(*args)
    except Exception:  # one broken job must not stop the others; it stays pending and is retried
        log.exception("QC job %s%r failed", job.__name__, args[:-1])


class QcWorker:
    """A daemon thread that runs pending QC jobs when woken (after an upload) and every `interval` seconds."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        # With the state of the app that starts it (its database and file store), nothing else of the caller's context.
        self._thread = threading.Thread(target=app_state.bound(self._run), name="og-qc-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        swept_at = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                for _ in range(100):  # bounded: a job that keeps failing stays pending for the next round
                    if self._stop.is_set() or not run_pending():
                        break
                now = utcnow().timestamp()
                if now - swept_at > 3600:
                    store().sweep_staging(STAGING_MAX_AGE_SECONDS)
                    swept_at = now
            except Exception:
                log.exception("QC worker iteration failed")
            self._wake.wait(self.interval)


_worker: list[QcWorker] = []  # started outside any app; an app's own are in its state (server/state.py)


def _in_process() -> list[QcWorker]:
    current = app_state.current()
    return _worker if current is None else current.workers.setdefault("qc", [])


def start_in_process(interval: float = 5.0) -> QcWorker:
    """Start a QC thread for the current app (or, outside any app, for the process)."""
    qc_worker = QcWorker(interval)
    qc_worker.start()
    _in_process().append(qc_worker)
    return qc_worker


def stop_in_process() -> None:
    workers = _in_process()
    while workers:
        workers.pop().stop()


def wake() -> None:
    """Tells the current app's in-process worker (if it runs one) that a job is waiting."""
    for qc_worker in _in_process():
        qc_worker.wake()


# Findings per stored file (content-addressed: the same bytes, the same key). Mock data attaches the same generated
# master and cover to every new sandbox account; analysing them once per process keeps account creation fast.
_inline_memo: dict[str, Any] = {}


def complete_inline(session: Any, *, tracks: list[Track], releases: list[Release]) -> None:
    """Run QC now, in the caller's transaction, for files the caller just attached (mock data: the rows are not
    committed yet, so the background worker cannot see them). The same analysis and verdicts as `run_pending`;
    no events — the caller is writing history, not news."""
    now = utcnow()
    for track in tracks:
        file = session.get(File, track.audio_file_id) if track.audio_file_id else None
        if file is None or track.qc_status != "pending":
            continue
        key = "audio:" + file.storage_key
        if key not in _inline_memo:
            _inline_memo[key] = _audio_done_before(session, file.storage_key) or _analyse_audio(
                file.id, file.storage_key
            )
        findings, duration = _inline_memo[key]
        track.qc_status, track.qc_findings, track.qc_completed_at = verdict(findings), findings, now
        track.duration_ms, track.updated_at = duration, now
        session.add(track)
    for release in releases:
        file = session.get(File, release.artwork_file_id) if release.artwork_file_id else None
        if file is None or release.artwork_qc_status != "pending":
            continue
        key = "cover:" + file.storage_key
        if key not in _inline_memo:
            earlier = _cover_done_before(session, file.storage_key)
            _inline_memo[key] = (
                earlier if earlier is not None else _analyse_cover(file.id, file.storage_key, file.size_bytes)
            )
        findings = _inline_memo[key]
        release.artwork_qc_status, release.artwork_qc_findings = verdict(findings), findings
        release.artwork_qc_completed_at = now
        session.add(release)
    session.flush()


def _audio_done_before(session: Any, storage_key: str) -> tuple[list[dict[str, Any]], int | None] | None:
    """The findings of an earlier analysis of the same bytes (content-addressed key), by any process."""
    row = session.exec(
        select(Track.qc_findings, Track.duration_ms)
        .join(File, col(File.id) == col(Track.audio_file_id))
        .where(col(File.storage_key) == storage_key, col(Track.qc_completed_at).is_not(None))
        .limit(1)
    ).first()
    return (list(row[0] or []), row[1]) if row is not None else None


def _cover_done_before(session: Any, storage_key: str) -> list[dict[str, Any]] | None:
    row = session.exec(
        select(Release.artwork_qc_findings)
        .join(File, col(File.id) == col(Release.artwork_file_id))
        .where(col(File.storage_key) == storage_key, col(Release.artwork_qc_completed_at).is_not(None))
        .limit(1)
    ).first()
    return list(row or []) if row is not None else None
