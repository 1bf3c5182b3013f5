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


RATE = 44_100


def _tone(seconds: float = 31.0, amplitude: float = 0.3, frequency: float = 997.0) -> np.ndarray:
    return np.asarray(amplitude * np.sin(2 * np.pi * frequency * np.arange(int(seconds * RATE)) / RATE))


def _stereo(left: np.ndarray, right: np.ndarray) -> io.BytesIO:
    return _wav(np.stack([left, right], axis=1), RATE, "PCM_16")


def _verdict(findings: list[dict[str, object]]) -> str:
    if any(f["severity"] == "error" for f in findings):
        return "fail"
    return "warn" if any(f["severity"] == "warning" for f in findings) else "pass"


def _severities(findings: list[dict[str, object]]) -> dict[str, object]:
    return {str(f["code"]): f["severity"] for f in findings}


def test_a_clean_master_passes_with_only_its_loudness() -> None:
    report = audio.analyse(_stereo(_tone(), _tone(frequency=550.0)))
    assert _verdict(report.findings) == "pass"
    assert _severities(report.findings) == {"loudness": "info"}


def test_a_fully_silent_master_fails_as_digital_silence() -> None:
    report = audio.analyse(_stereo(np.zeros(RATE * 31), np.zeros(RATE * 31)))
    assert _verdict(report.findings) == "fail"
    codes = _codes(report.findings)
    assert codes["digital_silence"]["severity"] == "error"
    # the whole track is silence: not a "silence at the start/end" warning, nor a mono file
    assert not {"leading_silence", "trailing_silence", "dual_mono", "near_silent"} & codes.keys()


def test_a_near_silent_master_fails_with_its_loudness_and_the_floor() -> None:
    hiss = np.random.default_rng(3).normal(0, 10 ** (-66 / 20), size=(RATE * 31, 2))  # tape hiss at -66 dBFS RMS
    report = audio.analyse(_wav(hiss, RATE, "PCM_24"))
    codes = _codes(report.findings)
    assert _verdict(report.findings) == "fail"
    assert codes["near_silent"]["severity"] == "error"
    assert codes["near_silent"]["threshold"] == audio.NEAR_SILENT_LUFS
    measured = codes["near_silent"]["measured_value"]
    assert isinstance(measured, float)
    assert measured < audio.NEAR_SILENT_LUFS
    assert f"{measured} LUFS" in str(codes["near_silent"]["message"])
    assert "too_quiet" not in codes  # the failure already says how quiet it is


def test_a_quiet_but_real_master_only_warns() -> None:
    report = audio.analyse(_stereo(_tone(amplitude=0.02), _tone(amplitude=0.02, frequency=550.0)))  # about -35 LUFS
    codes = _codes(report.findings)
    assert _verdict(report.findings) == "warn"
    assert codes["too_quiet"]["threshold"] == audio.QUIET_LUFS
    assert "near_silent" not in codes


def test_a_heavily_clipped_master_fails_as_sustained_clipping() -> None:
    # the master: hard-clipped throughout, true peak above 0 dBTP, integrated loudness above 0 LUFS
    crushed = np.clip(_tone(amplitude=2.0), -1.0, 1.0)
    report = audio.analyse(_stereo(crushed, np.roll(crushed, 7)))
    codes = _codes(report.findings)
    assert _verdict(report.findings) == "fail"
    clipped = codes["sustained_clipping"]
    assert (clipped["severity"], clipped["threshold"], clipped["unit"]) == ("error", audio.CLIP_FAIL_PERCENT, "%")
    assert isinstance(clipped["measured_value"], float)
    assert clipped["measured_value"] > 10  # a third of every cycle sits at full scale
    assert "clipping" not in codes
    assert codes["true_peak"]["severity"] == "warning"
    assert codes["too_loud"]["severity"] == "warning"
    assert codes["too_loud"]["threshold"] == audio.LOUD_LUFS


def test_occasional_overs_only_warn() -> None:
    left, right = _tone(), _tone(frequency=550.0)
    for start in range(RATE, RATE * 30, RATE * 3):  # ten overs of four full-scale samples, one every 3 s
        left[start : start + 4] = 1.0
    report = audio.analyse(_stereo(left, right))
    codes = _codes(report.findings)
    assert _verdict(report.findings) == "warn"
    assert (codes["clipping"]["severity"], codes["clipping"]["measured_value"]) == ("warning", 10)
    assert "sustained_clipping" not in codes
    assert codes["true_peak"]["severity"] == "warning"


def test_clipping_just_over_the_share_fails_and_just_under_warns() -> None:
    frames = RATE * 31
    limit = audio.CLIP_FAIL_PERCENT / 100 * frames * 2  # samples in clipped runs, both channels counted
    for runs, expected in ((int(limit / 4 * 1.1), "sustained_clipping"), (int(limit / 4 * 0.9), "clipping")):
        left = _tone()
        starts = np.linspace(RATE, frames - RATE, runs).astype(int)
        left[(starts[:, None] + np.arange(4)).ravel()] = 1.0  # runs of four full-scale samples
        assert expected in _codes(audio.analyse(_stereo(left, _tone(frequency=550.0))).findings)


def test_a_clipped_run_that_ends_the_file_is_counted() -> None:
    left = _tone()
    left[-5:] = 1.0
    codes = _codes(audio.analyse(_stereo(left, _tone(frequency=550.0))).findings)
    assert codes["clipping"]["measured_value"] == 1


def test_identical_channels_warn_as_dual_mono() -> None:
    tone = _tone()
    codes = _codes(audio.analyse(_stereo(tone, tone)).findings)
    assert codes["dual_mono"]["severity"] == "warning"
    assert codes["dual_mono"]["measured_value"] is None  # identical: no difference to measure
    assert codes["dual_mono"]["unit"] == "dBFS"


def test_channels_that_differ_are_not_dual_mono() -> None:
    tone = _tone()
    late = tone.copy()
    late[RATE * 20] += 0.01  # one sample 20 s in, several blocks after the start
    assert "dual_mono" not in _codes(audio.analyse(_stereo(tone, late)).findings)


def test_long_silence_at_the_start_is_a_warning() -> None:
    data = audio_bytes(seconds=45, leading_silence=12)
    codes = _codes(audio.analyse(io.BytesIO(data)).findings)
    assert codes["leading_silence"]["measured_value"] == 12_000
    assert codes["leading_silence"]["severity"] == "warning"
    assert "trailing_silence" not in codes
    assert _verdict(audio.analyse(io.BytesIO(data)).findings) == "warn"


def test_long_silence_at_the_end_is_a_warning_and_a_short_one_is_not() -> None:
    for silent_seconds, warned in ((11, True), (9, False)):
        left, right = _tone(seconds=20), _tone(seconds=20, frequency=550.0)
        left[-silent_seconds * RATE :] = right[-silent_seconds * RATE :] = 0.0
        codes = _codes(audio.analyse(_stereo(left, right)).findings)
        assert "leading_silence" not in codes
        assert ("trailing_silence" in codes) is warned
        if warned:
            assert codes["trailing_silence"]["measured_value"] in range(10_990, 11_010)
            assert codes["trailing_silence"]["threshold"] == audio.MAX_SILENCE_MS


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
