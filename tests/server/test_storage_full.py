"""Disk full during an upload (issue 23 #7): a clean 503 storage_full with Retry-After, nothing left behind."""

import errno
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.config import Settings
from server.storage import StagedFile
from tests.conftest import Tenant


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
