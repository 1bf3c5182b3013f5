"""The file store: where uploaded bytes live, content-addressed by SHA-256.

Uploads are streamed into a staging file while their digest is computed (never held whole in memory), then
committed under their digest. The interface is small on purpose so an object store (S3, GCS) can replace the local
directory: `stage()` → write chunks → `commit()`; `open()` to read back.
"""

import contextlib
import errno
import hashlib
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from server import state as app_state
from server.config import Settings

SNIFF_BYTES = 64  # enough leading bytes to recognise every format we accept (RIFF/WAVE, fLaC, JPEG, PNG)


# Seconds a client should wait after a `503 storage_full`: room is made by an operator, not in a moment.
FULL_RETRY_AFTER_SECONDS = 60


def is_full(exc: OSError) -> bool:
    """Whether a failed file operation says the store has no space left (disk or inodes full, quota reached)."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


@dataclass
class StagedFile:
    """An upload being received: bytes go to `path`, the digest and size are kept as they arrive."""

    path: Path
    size: int = 0
    head: bytes = b""
    _digest: "hashlib._Hash" = field(default_factory=hashlib.sha256, repr=False)
    _handle: BinaryIO | None = field(default=None, repr=False)

    def write(self, chunk: bytes) -> None:
        if self._handle is None:
            self._handle = self.path.open("wb")
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        self._handle.write(chunk)
        self._digest.update(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        if self._handle is None:
            self._handle = self.path.open("wb")
        self._handle.close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def discard(self) -> None:
        if self._handle is not None and not self._handle.closed:
            with contextlib.suppress(OSError):  # flushing what is buffered fails on a full disk; the file goes anyway
                self._handle.close()
        self.path.unlink(missing_ok=True)


class FileStore(Protocol):
    def stage(self) -> StagedFile: ...

    def commit(self, staged: StagedFile) -> str:
        """Moves a closed staged file to its content address; returns the storage key. Should that fail (an
        `OSError`, `is_full` on a full disk), the staged file is removed and nothing is stored under the key."""
        ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def sweep_staging(self, older_than_seconds: float) -> int:
        """Removes staged files abandoned by requests that never finished; returns how many."""
        ...


class LocalFileStore:
    """Files under a local directory: `sha256/ab/<digest>`, staging in `tmp/`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / "tmp"
        self.staging.mkdir(parents=True, exist_ok=True)

    def stage(self) -> StagedFile:
        return StagedFile(self.staging / f"upload-{secrets.token_hex(12)}")

    def commit(self, staged: StagedFile) -> str:
        digest = staged.sha256
        key = f"sha256/{digest[:2]}/{digest}"
        target = self.root / key
        try:
            # Both can need space on a full disk: a new directory, and a new entry in one (ENOSPC). The rename is
            # atomic: the target holds all the bytes or does not exist.
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.replace(staged.path, target)
        finally:
            # Stored, already there (same bytes, by anyone: one copy is kept), or failed: the staged file goes.
            staged.path.unlink(missing_ok=True)
        return key

    def open(self, key: str) -> BinaryIO:
        return (self.root / key).open("rb")

    def exists(self, key: str) -> bool:
        return (self.root / key).is_file()

    def sweep_staging(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.staging.glob("upload-*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


_configured: list[FileStore] = []  # the process default (outside any app)


def for_settings(settings: Settings) -> FileStore:
    return LocalFileStore(settings.data_dir / "files")


def configure(settings: Settings) -> FileStore:
    """Set the process default store: what code outside any app uses."""
    store = for_settings(settings)
    _configured[:] = [store]
    return store


def store() -> FileStore:
    """The file store of the app handling this request or running this work (server/state.py), else the process's."""
    current = app_state.current()
    if current is not None:
        return current.store
    if not _configured:
        raise RuntimeError("server.storage.configure() was not called")
    return _configured[0]
