"""The QC analysers on real signals and hostile files (no HTTP): measurements, findings, never an exception."""

import io
import struct

import numpy as np
import pyloudnorm
import soundfile as sf
from PIL import Image

from server.media import audio_bytes, cover_bytes
from server.qc import audio, cover


def _codes(findings: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(f["code"]): f for f in findings}


def _wav(samples: np.ndarray, rate: int = 48_000, subtype: str = "PCM_24") -> io.BytesIO:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, subtype=subtype, format="WAV")
    buffer.seek(0)
    return buffer


def test_loudness_matches_pyloudnorm_on_the_whole_signal() -> None:
    rng = np.random.default_rng(7)
    rate = 48_000
    noise = rng.normal(0, 0.05, size=(rate * 35, 2))
    noise[rate * 10 : rate * 20] *= 4  # a loud passage: the gating matters
    report = audio.analyse(_wav(noise, rate))
    expected = pyloudnorm.Meter(rate).integrated_loudness(sf.read(_wav(noise, rate))[0])
    measured = _codes(report.findings)["loudness"]["measured_value"]
    assert isinstance(measured, float)
    assert abs(measured - expected) < 0.1
    assert report.duration_ms == 35_000


def test_a_hot_master_warns_about_true_peak_and_clipping_but_passes() -> None:
    rate = 44_100
    t = np.arange(rate * 31) / rate
    tone = np.clip(1.3 * np.sin(2 * np.pi * 997 * t), -1.0, 1.0)
    report = audio.analyse(_wav(np.stack([tone, tone], axis=1), rate, "PCM_16"))
    codes = _codes(report.findings)
    assert codes["true_peak"]["severity"] == "warning"
    assert isinstance(codes["true_peak"]["measured_value"], float)
    assert codes["true_peak"]["measured_value"] > -1.0
    assert codes["clipping"]["severity"] == "warning"
    assert all(f["severity"] != "error" for f in report.findings)


def test_long_silence_at_the_start_is_a_warning() -> None:
    data = audio_bytes(seconds=45, leading_silence=12)
    codes = _codes(audio.analyse(io.BytesIO(data)).findings)
    assert codes["leading_silence"]["measured_value"] == 12_000
    assert "trailing_silence" not in codes


def test_float_wav_is_refused_as_format() -> None:
    report = audio.analyse(io.BytesIO(audio_bytes(subtype="FLOAT")))
    codes = _codes(report.findings)
    assert codes["format"]["measured_value"] == "WAVE_FORMAT_IEEE_FLOAT"
    assert codes["bit_depth"]["severity"] == "error"


def test_a_file_that_is_not_audio_fails_cleanly() -> None:
    report = audio.analyse(io.BytesIO(cover_bytes(size=(10, 10))))
    assert [f["code"] for f in report.findings] == ["format"]
    assert report.findings[0]["measured_value"] == "image/jpeg"


def test_a_wav_header_with_garbage_after_it_never_raises() -> None:
    header = b"RIFF" + struct.pack("<I", 1000) + b"WAVEfmt " + struct.pack("<I", 16) + b"\x01\x00" + b"\xff" * 14
    data = header + b"data" + struct.pack("<I", 100) + b"\x00" * 100
    report = audio.analyse(io.BytesIO(data))
    assert any(f["severity"] == "error" for f in report.findings)


def test_a_decompression_bomb_fails_cover_qc_without_decoding() -> None:
    buffer = io.BytesIO()
    Image.new("1", (40_000, 40_000)).save(buffer, format="PNG")  # a few kB that decode to 1.6 gigapixels
    findings = cover.analyse(io.BytesIO(buffer.getvalue()), len(buffer.getvalue()))
    assert "too_large" in _codes(findings) or "corrupt" in _codes(findings)
    assert all(f["severity"] == "error" for f in findings)


def test_a_truncated_jpeg_is_corrupt() -> None:
    data = cover_bytes()
    findings = cover.analyse(io.BytesIO(data[: len(data) // 2]), len(data) // 2)
    assert [f["code"] for f in findings] == ["corrupt"]


def test_a_good_cover_has_no_findings() -> None:
    data = cover_bytes(fmt="PNG")
    assert cover.analyse(io.BytesIO(data), len(data)) == []
