"""Audio QC's streamed, vectorised measurements against a straightforward whole-file reference (issue 22).

The fast path decodes each block once into float32 and measures it in one pass: the true peak as float32 matrix
products, the K-weighting as one 4th-order filter, the peak and silence search on interleaved samples. The reference
below decodes the whole file into float64 and measures each quantity the obvious way: BS.1770 K-weighting as
pyloudnorm's two biquads, 400 ms gating blocks every 100 ms, the 4x interpolation with scipy's `upfirdn`, clipped runs
and silence frame by frame. Tolerances (the QC rounds what it reports to 0.1 dB / 0.1 LU):

- frames, first and last sound, clipped runs and samples, dual mono, sample peak: identical;
- channel difference: 1e-7 (a float32 difference of two 24-bit samples may round in its last bit);
- true peak: 1e-5 relative (float32 products against float64 interpolation);
- integrated loudness: 1e-4 LU.
"""

import io
import math

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy import signal

from server.qc import audio


def _reference(data: np.ndarray, rate: int) -> dict[str, object]:
    frames, channels = data.shape
    magnitude = np.abs(data)
    frame_peaks = magnitude.max(axis=1)
    loud = np.flatnonzero(frame_peaks > audio.SILENCE_LEVEL)
    runs, clipped = 0, 0
    for ch in range(channels):
        run = 0
        for value in [*(magnitude[:, ch] >= audio.CLIP_LEVEL).tolist(), False]:
            if value:
                run += 1
                continue
            if run >= audio.CLIP_RUN:
                runs, clipped = runs + 1, clipped + run
            run = 0
    difference = float(np.max(np.abs(data[:, 0] - data[:, 1]))) if channels == 2 else math.inf
    oversampled = signal.upfirdn(audio._INTERPOLATOR, data, up=audio.OVERSAMPLE, axis=0)[: audio.OVERSAMPLE * frames]
    return {
        "frames": frames,
        "first_sound": int(loud[0]) if loud.size else None,
        "last_sound": int(loud[-1]) if loud.size else None,
        "peak": float(magnitude.max()),
        "true_peak": max(float(np.abs(oversampled).max()), float(magnitude.max())),
        "clipped_runs": runs,
        "clipped_samples": clipped,
        "dual_mono": difference <= audio.DUAL_MONO_TOLERANCE,
        "channel_difference": difference,
        "loudness": _reference_loudness(data, rate),
    }


def _reference_loudness(data: np.ndarray, rate: int) -> float | None:
    """ITU-R BS.1770-4 integrated loudness: K-weighting, 400 ms blocks with 75 % overlap, -70 LUFS and -10 LU gates."""
    weighted = data
    for f in pyloudnorm.Meter(rate)._filters.values():
        weighted = signal.lfilter(f.b, f.a, weighted, axis=0) * f.passband_gain
    block, hop = 4 * int(rate * 0.1), int(rate * 0.1)
    starts = range(0, weighted.shape[0] - block + 1, hop)
    z = np.array([np.mean(np.square(weighted[s : s + block]), axis=0) for s in starts])
    if not len(z):
        return None
    gains = np.array(audio._CHANNEL_GAINS[: data.shape[1]])
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(z @ gains)
    absolute = loudness >= -70.0
    if not absolute.any():
        return None
    relative = -0.691 + 10 * math.log10(float(z[absolute].mean(axis=0) @ gains)) - 10.0
    gated = absolute & (loudness > relative)
    if not gated.any():
        return None
    return -0.691 + 10 * math.log10(float(z[gated].mean(axis=0) @ gains))


def _signals() -> dict[str, tuple[np.ndarray, int, str]]:
    rng = np.random.default_rng(22)
    rate = 48_000
    t = np.arange(rate * 33 + 1_237) / rate  # not a whole number of blocks, rows or 100 ms segments
    tone = 0.5 * np.sin(2 * np.pi * 997 * t)
    music = rng.normal(0, 0.08, (t.size, 2))
    music[rate * 4 : rate * 9] *= 4  # a loud passage: gating and the block-to-block true peak matter
    music[rate * 20 : rate * 21] *= 0.01
    clipped = np.clip(2.5 * np.stack([tone, -tone], axis=1), -1.0, 1.0)
    quiet = np.zeros((t.size, 2))
    quiet[rate * 15 : rate * 20] = np.stack([tone, tone * 0.7], axis=1)[: rate * 5]
    return {
        "silence": (np.zeros((rate * 31, 2)), rate, "PCM_24"),
        "tone": (np.stack([tone, 0.9 * tone], axis=1), rate, "PCM_24"),
        "music": (np.clip(music, -1.0, 1.0), rate, "PCM_24"),
        "clipped": (clipped, rate, "PCM_24"),
        "dual_mono": (np.stack([tone, tone], axis=1), 44_100, "PCM_16"),
        "near_silence": (np.stack([tone, 0.8 * tone], axis=1) * 10 ** (-45 / 20), 96_000, "PCM_24"),
        "sound_in_the_middle": (quiet, 44_100, "PCM_24"),
    }


@pytest.mark.parametrize("name", list(_signals()))
def test_the_streamed_measurements_match_the_whole_file_reference(name: str) -> None:
    samples, rate, subtype = _signals()[name]
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, subtype=subtype, format="WAV")
    buffer.seek(0)
    decoded = sf.read(io.BytesIO(buffer.getvalue()), dtype="float64", always_2d=True)[0]
    expected = _reference(decoded, rate)
    with sf.SoundFile(buffer) as sound:
        meter = audio.measure(sound)
    measured = {
        "frames": meter.frames,
        "first_sound": meter.first_sound,
        "last_sound": meter.last_sound,
        "peak": meter.peak,
        "clipped_runs": meter.clipped_runs,
        "clipped_samples": meter.clipped_samples,
        "dual_mono": meter.dual_mono,
    }
    assert measured == {key: expected[key] for key in measured}
    if meter.dual_mono or name == "dual_mono":  # the fast path stops comparing once the channels differ
        assert meter.channel_difference == pytest.approx(expected["channel_difference"], abs=1e-7)
    assert meter.true_peak == pytest.approx(expected["true_peak"], rel=1e-5)
    loudness, reference = meter.integrated_loudness(), expected["loudness"]
    if reference is None:
        assert loudness is None
    else:
        assert loudness == pytest.approx(reference, abs=1e-4)


def test_the_reference_itself_agrees_with_pyloudnorm() -> None:
    samples, rate, _ = _signals()["music"]
    assert _reference_loudness(samples, rate) == pytest.approx(
        pyloudnorm.Meter(rate).integrated_loudness(samples), abs=0.05
    )
