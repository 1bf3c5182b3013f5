"""Disk full during an upload (issue 23 #7): a clean 503 storage_full with Retry-After, nothing left behind."""

import errno
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.config import Settings
from server.db.engine import session_scope
from server.db.models.files import File
from server.storage import StagedFile
from tests.conftest import Tenant
from tests.server.releases_helpers import create_track, master_wav, upload_audio


def test_an_upload_on_a_full_disk_is_503_storage_full(
    client: TestClient, tenant: Tenant, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = {"bytes": 0}
    original = StagedFile.write

    def write_until_full(self: StagedFile, chunk: bytes) -> None:
        if written["bytes"] + len(chunk) > 4096:
            raise OSError(errno.ENOSPC, "No space left on device")
        written["bytes"] += len(chunk)
        original(self, chunk)

    monkeypatch.setattr(StagedFile, "write", write_until_full)
    # The file part is written while the body streams in, before the handler runs: any release id does.
    metadata: dict[str, Any] = {"release_id": "rel_01jc3m8a4s6t3v0q7k2x9bz5hd", "title": "Too Big"}
    files = {
        "metadata": (None, json.dumps(metadata).encode(), "application/json"),
        "audio": ("a.wav", b"RIFF" + b"\0" * 200_000, "audio/wav"),
    }
    response = client.post("/api/v1/tracks", files=files, headers=tenant.headers)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "storage_full"
    assert int(response.headers["retry-after"]) > 0
    staging = Path(settings.data_dir) / "files" / "tmp"
    assert not list(staging.glob("upload-*")), "a staged part was left behind"


@pytest.mark.parametrize("step", ["rename", "directory"])
def test_a_disk_full_while_an_upload_is_moved_into_place_is_503_storage_full_and_stores_nothing(
    client: TestClient, tenant: Tenant, settings: Settings, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """The upload was received whole; moving it to its content address (a new directory, a rename: a new
    directory entry) then fails with ENOSPC. No file row, no half-stored file, no staged part left behind."""
    track = create_track(client, tenant)
    data = master_wav() + secrets.token_bytes(16)  # bytes no other test stored
    digest = hashlib.sha256(data).hexdigest()
    root = Path(settings.data_dir) / "files"
    full = OSError(errno.ENOSPC, "No space left on device")
    if step == "rename":
        original_replace = os.replace

        def replace(source: Any, target: Any) -> None:
            if Path(source).parent == root / "tmp":
                raise full
            original_replace(source, target)

        monkeypatch.setattr(os, "replace", replace)
    else:
        original_mkdir = Path.mkdir

        def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
            if self == root / "sha256" / digest[:2]:
                raise full
            original_mkdir(self, *args, **kwargs)

        monkeypatch.setattr(Path, "mkdir", mkdir)
        shutil.rmtree(root / "sha256" / digest[:2], ignore_errors=True)

    response = upload_audio(client, tenant, track["id"], data)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "storage_full"
    assert int(response.headers["retry-after"]) > 0
    assert not (root / "sha256" / digest[:2] / digest).exists(), "a file was stored"
    assert not list((root / "tmp").glob("upload-*")), "a staged part was left behind"
    with session_scope() as session:
        assert session.exec(select(File).where(col(File.sha256) == digest)).first() is None, "a file row was kept"
    after = client.get(f"/api/v1/tracks/{track['id']}", headers=tenant.headers)
    assert after.status_code == 200
    assert after.json()["audio"] is None

    monkeypatch.undo()  # space again: the same upload is stored
    retried = upload_audio(client, tenant, track["id"], data)
    assert retried.status_code == 200, retried.text
    assert (root / "sha256" / digest[:2] / digest).read_bytes() == data
