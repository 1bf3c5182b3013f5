"""Uploads stream a path or a file object as multipart, and survive a retry."""

import io
from pathlib import Path

import httpx
import pytest
from og_records import InternalServerError, OGRecords, file_from
from og_records.models import UploadTrackAudioBody


def _capture() -> tuple[list[bytes], httpx.MockTransport]:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        if len(bodies) == 1:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"status": 503, "code": "x"})
        return httpx.Response(500, json={"status": 500, "code": "stop"})

    return bodies, httpx.MockTransport(handler)


def test_a_path_is_streamed_and_resent_whole_on_retry(tmp_path: Path) -> None:
    audio = tmp_path / "master.wav"
    audio.write_bytes(b"RIFF" + bytes(range(256)) * 512)
    upload = file_from(audio)
    assert upload.file_name == "master.wav"
    assert upload.mime_type in {"audio/wav", "audio/x-wav"}
    bodies, transport = _capture()
    with (
        OGRecords(
            api_key="og_test_a",
            base_url="https://api.test",
            http_client=httpx.Client(transport=transport),
            max_retries=1,
        ) as client,
        pytest.raises(InternalServerError),
    ):  # the mock's final answer is a 500: the bodies are the point
        client.tracks.upload_audio("trk_x", body=UploadTrackAudioBody(audio=upload))
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]
    assert audio.read_bytes() in bodies[0]
    assert b'filename="master.wav"' in bodies[0]


def test_a_file_object_is_accepted() -> None:
    upload = file_from(io.BytesIO(b"\x89PNG fake"), filename="cover.png")
    assert upload.mime_type == "image/png"
    bodies, transport = _capture()
    with (
        OGRecords(
            api_key="og_test_a",
            base_url="https://api.test",
            http_client=httpx.Client(transport=transport),
            max_retries=0,
        ) as client,
        pytest.raises(InternalServerError),
    ):  # the mock's final answer is a 500: the bodies are the point
        client.tracks.upload_audio("trk_x", body=UploadTrackAudioBody(audio=upload))
    assert b"\x89PNG fake" in bodies[0]
