"""Audio QC: real signal analysis of a master, streamed in blocks so memory stays flat for any length.

Decoding is libsndfile's (via soundfile), once, into one reused float32 block; every measurement is taken in the same
pass over each block. Loudness follows ITU-R BS.1770-4 with pyloudnorm's K-weighting filters, applied block by block
with carried filter state and 100 ms energy sums, so a 10-minute 96 kHz file costs the same memory as a 10-second
one. True peak is measured on a 4x oversampled signal (BS.1770 Annex 2), computed as small matrix products. Anything
the file does wrong becomes a finding; nothing it contains can raise out of `analyse`. The CPU budget (issue 22): at
most 4x what libsndfile needs to decode the same file (`benchmarks/releases_qc.py` measures both).
"""

import math
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyloudnorm
import soundfile as sf
from scipy import signal

from server.qc import sniff
from server.qc.findings import finding, ordered

BLOCK_FRAMES = 65536
MIN_SAMPLE_RATE = 44_100
BIT_DEPTHS = {"PCM_16": 16, "PCM_24": 24}
MIN_DURATION_MS = 30_000
# The store-requirement thresholds; docs/guides/uploads.md and the QcFinding schema describe each rule.
MAX_SILENCE_MS = 10_000  # leading/trailing silence longer than this warns
SILENCE_LEVEL = 10 ** (-60 / 20)  # -60 dBFS: quieter than this counts as silence
NEAR_SILENT_LUFS = -50.0  # integrated loudness below this (or none measurable at all) fails: a near-silent master
QUIET_LUFS = -30.0  # below this warns: the track plays far quieter than the rest of a playlist
LOUD_LUFS = -5.0  # above this warns: a master this loud is crushed by limiting or clipping
CLIP_LEVEL = 1.0 - 2.0 / 32768  # full scale, within 2 LSB of a 16-bit file
CLIP_RUN = 3  # consecutive full-scale samples that count as a clipped run
CLIP_FAIL_PERCENT = 0.1  # this share of all samples in clipped runs, or more, is sustained clipping: it fails
TRUE_PEAK_LIMIT_DBTP = -1.0
DUAL_MONO_TOLERANCE = 2.0 / 32768  # channels never further apart than 2 LSB of 16-bit audio carry one signal
OVERSAMPLE = 4
# The interpolation filter for true peak: 48 taps (12 per phase, as in BS.1770-4 Annex 2), passing up to the
# original Nyquist frequency, scaled by 4 so each phase has unity gain.
_INTERPOLATOR = signal.firwin(48, 1 / OVERSAMPLE, window=("kaiser", 8.0)) * OVERSAMPLE
_TAPS_PER_PHASE = len(_INTERPOLATOR) // OVERSAMPLE
# Row j, column p: the tap of phase p applied to the sample j places into the window (oldest first).
_PHASE_MATRIX = np.array(
    [
        [_INTERPOLATOR[OVERSAMPLE * (_TAPS_PER_PHASE - 1 - j) + p] for p in range(OVERSAMPLE)]
        for j in range(_TAPS_PER_PHASE)
    ]
)
_PHASE_MATRIX_32 = _PHASE_MATRIX.astype(np.float32)
# The interpolator as one banded matrix for _ROWS consecutive frames: _TOEPLITZ[i + j, 4 * i + p] is the tap of phase
# p for window sample j of frame i, so a row of _ROWS + 11 samples times it gives the row's 4 * _ROWS outputs.
_ROWS = 16
_TOEPLITZ = np.zeros((_ROWS + _TAPS_PER_PHASE - 1, OVERSAMPLE * _ROWS), dtype=np.float32)
for _frame in range(_ROWS):
    _TOEPLITZ[_frame : _frame + _TAPS_PER_PHASE, OVERSAMPLE * _frame : OVERSAMPLE * (_frame + 1)] = _PHASE_MATRIX
# Rows per matrix product: 128 x 64 x 27 multiply-adds stays under OpenBLAS's 262,144 (M*N*K), below which a GEMM
# runs on the calling thread; a larger product wakes BLAS threads that spin, which on two cores cost 10x the CPU.
_GEMM_ROWS = 128
_CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # BS.1770 channel weights (L, R, C, Ls, Rs)

FloatArray = npt.NDArray[np.floating[Any]]

_WAVE_FORMATS = {1: "WAVE_FORMAT_PCM", 3: "WAVE_FORMAT_IEEE_FLOAT", 0xFFFE: "WAVE_FORMAT_EXTENSIBLE"}


@dataclass(frozen=True)
class AudioReport:
    findings: list[dict[str, Any]]
    duration_ms: int | None


def analyse(fileobj: BinaryIO) -> AudioReport:
    """Every QC finding for the audio in `fileobj` (seekable, positioned anywhere)."""
    try:
        return _analyse(fileobj)
    except Exception as exc:  # a hostile file must fail QC, never the worker
        return AudioReport([finding("corrupt", "error", f"The file could not be analysed: {exc}.")], None)


def _analyse(fileobj: BinaryIO) -> AudioReport:
    fileobj.seek(0)
    head = fileobj.read(64)
    fileobj.seek(0)
    kind = sniff.content_type(head)
    if kind not in sniff.AUDIO_TYPES:
        message = f"The file is {kind}; upload FLAC or WAV PCM."
        return AudioReport([finding("format", "error", message, kind, "audio/flac, audio/wav", None)], None)
    findings: list[dict[str, Any]] = []
    if kind == "audio/wav":
        tag, declared, present = _wave_chunks(fileobj)
        if tag is None or declared is None:
            return AudioReport(
                [finding("corrupt", "error", "The WAV file has no readable 'fmt ' or 'data' chunk.")], None
            )
        if declared != 0xFFFFFFFF and declared > present:  # 0xFFFFFFFF: a streamed or RF64 file, size unknown
            message = f"The file is truncated: its header declares {declared} bytes of audio, it holds {present}."
            return AudioReport([finding("corrupt", "error", message, present, declared, "bytes")], None)
        if tag != 1:
            name = _WAVE_FORMATS.get(tag, f"0x{tag:04X}")
            findings.append(
                finding(
                    "format", "error", f"The WAV file uses {name}; use plain WAVE_FORMAT_PCM.", name, "WAVE_FORMAT_PCM"
                )
            )
        fileobj.seek(0)
    try:
        sound = sf.SoundFile(fileobj)
    except Exception as exc:
        findings.append(finding("corrupt", "error", f"The audio cannot be decoded: {exc}."))
        return AudioReport(ordered(findings), None)
    with sound:
        findings += _format_findings(sound)
        findings += _signal_findings(sound)
        duration_ms = sound.frames * 1000 // sound.samplerate if sound.samplerate else None
    return AudioReport(ordered(findings), duration_ms)


def _wave_chunks(fileobj: BinaryIO) -> tuple[int | None, int | None, int]:
    """(format tag, declared data bytes, data bytes present) from the RIFF chunks of a WAV file."""
    fileobj.seek(0, 2)
    file_size = fileobj.tell()
    fileobj.seek(12)
    tag: int | None = None
    for _ in range(64):  # a WAV file has a handful of chunks; a crafted one may claim thousands
        header = fileobj.read(8)
        if len(header) < 8:
            break
        chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
        if chunk_id == b"fmt ":
            raw = fileobj.read(2)
            tag = int(struct.unpack("<H", raw)[0]) if len(raw) == 2 else None
            fileobj.seek(size - len(raw) + (size & 1), 1)
        elif chunk_id == b"data":
            return tag, size, file_size - fileobj.tell()
        else:
            fileobj.seek(size + (size & 1), 1)
    return tag, None, 0


def _format_findings(sound: sf.SoundFile) -> list[dict[str, Any]]:
    findings = []
    if sound.samplerate < MIN_SAMPLE_RATE:
        findings.append(
            finding(
                "sample_rate",
                "error",
                f"The sample rate is {sound.samplerate} Hz; stores need at least {MIN_SAMPLE_RATE} Hz.",
                sound.samplerate,
                MIN_SAMPLE_RATE,
                "Hz",
            )
        )
    if sound.subtype not in BIT_DEPTHS:
        measured = sound.subtype_info
        findings.append(
            finding(
                "bit_depth",
                "error",
                f"The sample format is {measured}; use 16 or 24 bit PCM.",
                measured,
                "16, 24",
                "bit",
            )
        )
    if sound.channels != 2:
        findings.append(
            finding(
                "channels",
                "error",
                f"The file has {sound.channels} channel(s); stores need stereo.",
                sound.channels,
                2,
                None,
            )
        )
    return findings


class _Meter:
    """Running measurements over consecutive blocks of one file, in one pass over each decoded block.

    The cheap measurements (sample peak, silence, dual mono, clipping) are whole-block reductions on the decoded
    float32 block; the two costly ones run on a planar (channel-major) copy of it: the 4x true-peak interpolation as
    small float32 matrix products and the K-weighting as second-order sections in float64.
    """

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = rate
        self.channels = channels
        self.frames = 0
        self.first_sound: int | None = None
        self.last_sound: int | None = None
        self.peak = 0.0
        self.true_peak = 0.0
        self.clipped_runs = 0
        self.clipped_samples = 0
        # Stereo whose channels have not differed yet; once a block differs the comparison stops for good.
        self.dual_mono = channels == 2
        self.channel_difference = 0.0
        self._run_carry = np.zeros(channels, dtype=np.int64)
        # The last 11 samples of each channel, oldest first: the interpolator's history across blocks.
        self._tail: FloatArray = np.zeros((channels, _TAPS_PER_PHASE - 1), dtype=np.float32)
        # BS.1770 K-weighting: pyloudnorm's two biquads (shelf, then high-pass) and their passband gains, multiplied
        # into one 4th-order filter so that a single scipy pass (float64, state carried across blocks) does both:
        # 15 % less CPU than two passes or second-order sections; the mean squares agree to 1e-10.
        numerator, denominator = np.ones(1), np.ones(1)
        for f in pyloudnorm.Meter(rate)._filters.values():
            numerator = np.convolve(numerator, f.b) * f.passband_gain
            denominator = np.convolve(denominator, f.a)
        self._k_weighting = (numerator, denominator)
        self._filter_state = np.zeros((channels, len(denominator) - 1), dtype=np.float64)
        self.segment = max(1, int(rate * 0.1))  # 100 ms: a quarter of a 400 ms gating block (75 % overlap)
        self._pending: FloatArray = np.zeros((channels, 0), dtype=np.float64)
        self.segments: list[FloatArray] = []

    def block_frames(self) -> int:
        """Frames per decoded block: whole 100 ms segments, about BLOCK_FRAMES in all."""
        return self.segment * max(1, BLOCK_FRAMES // self.segment)

    def add(self, block: FloatArray) -> None:
        """Measures `block` (frames x channels, float32, C-contiguous): the next frames of the file."""
        n = block.shape[0]
        if not n:
            return
        block_peak = max(float(block.max()), -float(block.min()))
        if block_peak > SILENCE_LEVEL:  # some frame has a sample above -60 dBFS
            samples = block.reshape(-1)  # interleaved: sample i belongs to frame i // channels
            if self.first_sound is None:
                self.first_sound = self.frames + _first_above(samples, SILENCE_LEVEL) // self.channels
            self.last_sound = self.frames + _last_above(samples, SILENCE_LEVEL) // self.channels
        self.peak = max(self.peak, block_peak)
        if self.dual_mono:
            difference = float(np.max(np.abs(block[:, 0] - block[:, 1])))
            self.channel_difference = max(self.channel_difference, difference)
            self.dual_mono = difference <= DUAL_MONO_TOLERANCE
        if block_peak >= CLIP_LEVEL or self._run_carry.any():  # no full-scale sample: nothing can clip here
            self._count_clipping(np.abs(block))
        history = _TAPS_PER_PHASE - 1
        planar = np.empty((self.channels, history + n), dtype=np.float32)
        planar[:, :history] = self._tail
        planar[:, history:] = block.T
        self._oversampled_peak(planar, n)
        self._tail = planar[:, n:].copy()
        self._loudness(planar[:, history:])
        self.frames += n

    def _count_clipping(self, magnitude: FloatArray) -> None:
        clipped = magnitude >= CLIP_LEVEL
        for ch in range(self.channels):
            padded = np.concatenate(([0], clipped[:, ch].astype(np.int8), [0]))
            edges = np.diff(padded)
            starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            lengths = ends - starts
            if lengths.size and starts[0] == 0:
                lengths[0] += self._run_carry[ch]  # the run the previous block ended in goes on
            else:
                self._close_run(ch)
            if lengths.size and ends[-1] == magnitude.shape[0]:
                self._run_carry[ch] = lengths[-1]  # may go on in the next block
                lengths = lengths[:-1]
            else:
                self._run_carry[ch] = 0
            runs = lengths[lengths >= CLIP_RUN]
            self.clipped_runs += int(runs.size)
            self.clipped_samples += int(runs.sum())

    def _close_run(self, ch: int) -> None:
        if self._run_carry[ch] >= CLIP_RUN:
            self.clipped_runs += 1
            self.clipped_samples += int(self._run_carry[ch])
        self._run_carry[ch] = 0

    def finish(self) -> None:
        """Counts the clipped runs the file ends in and folds the sample peak into the true peak."""
        for ch in range(self.channels):
            self._close_run(ch)
        self.true_peak = max(self.true_peak, self.peak)

    def _oversampled_peak(self, planar: FloatArray, n: int) -> None:
        # Polyphase 4x interpolation: phase p of the oversampled signal at input sample t is
        # sum_j _PHASE_MATRIX[j, p] * x[t - 11 + j]; `planar` holds each channel's 11 samples of history, then the
        # block. Frames go 16 to a row: row r of `windows` holds the 27 samples that frames 16r..16r+15 need, and one
        # product with the banded _TOEPLITZ matrix gives all 64 interpolated values of the row.
        rows = n // _ROWS
        whole = rows * _ROWS
        if rows:
            step = planar.strides[1]
            overlapping = np.lib.stride_tricks.as_strided(
                planar,
                shape=(self.channels, rows, _ROWS + _TAPS_PER_PHASE - 1),
                strides=(planar.strides[0], _ROWS * step, step),
                writeable=False,
            )
            windows = np.ascontiguousarray(overlapping).reshape(self.channels * rows, _ROWS + _TAPS_PER_PHASE - 1)
            interpolated = np.empty((windows.shape[0], OVERSAMPLE * _ROWS), dtype=np.float32)
            for start in range(0, windows.shape[0], _GEMM_ROWS):
                np.matmul(windows[start : start + _GEMM_ROWS], _TOEPLITZ, out=interpolated[start : start + _GEMM_ROWS])
            self.true_peak = max(self.true_peak, float(interpolated.max()), -float(interpolated.min()))
        if whole < n:  # the block's last frames that do not fill a row (fewer than 16): one window per frame
            rest = np.lib.stride_tricks.sliding_window_view(planar[:, whole:], _TAPS_PER_PHASE, axis=1)
            remainder = rest @ _PHASE_MATRIX_32
            self.true_peak = max(self.true_peak, float(remainder.max()), -float(remainder.min()))

    def _loudness(self, samples: FloatArray) -> None:
        # `samples` is planar (channels x frames); the filters run in float64, 100 ms energy sums are float64.
        weighted, self._filter_state = signal.lfilter(*self._k_weighting, samples, axis=1, zi=self._filter_state)
        if self._pending.shape[1]:
            weighted = np.concatenate((self._pending, weighted), axis=1)
        whole = weighted.shape[1] // self.segment
        if whole:
            chunk = weighted[:, : whole * self.segment].reshape(self.channels, whole, self.segment)
            self.segments.append(np.einsum("csk,csk->sc", chunk, chunk))
        self._pending = weighted[:, whole * self.segment :]

    def integrated_loudness(self) -> float | None:
        """BS.1770-4 gated loudness in LUFS; None when there is nothing above the absolute gate."""
        if not self.segments:
            return None
        segments = np.concatenate(self.segments)
        if segments.shape[0] < 4:
            return None
        window = np.lib.stride_tricks.sliding_window_view(segments, 4, axis=0)  # (blocks, channels, 4)
        z = window.sum(axis=2) / (4 * self.segment)  # mean square per 400 ms block and channel
        gains = np.array(_CHANNEL_GAINS[: self.channels] + (1.0,) * max(0, self.channels - 5))
        with np.errstate(divide="ignore"):
            block_loudness = -0.691 + 10 * np.log10(z @ gains)
        above_absolute = block_loudness >= -70.0
        if not above_absolute.any():
            return None
        relative_gate = -0.691 + 10 * math.log10(float(z[above_absolute].mean(axis=0) @ gains)) - 10.0
        gated = above_absolute & (block_loudness > relative_gate)
        if not gated.any():
            return None
        return -0.691 + 10 * math.log10(float(z[gated].mean(axis=0) @ gains))


_SCAN = 4096  # samples looked at a time when searching a block for its first or last sound


def _first_above(samples: FloatArray, level: float) -> int:
    """Index of the first sample louder than `level`; the caller knows there is one."""
    for start in range(0, samples.size, _SCAN):
        hits = np.flatnonzero(np.abs(samples[start : start + _SCAN]) > level)
        if hits.size:
            return start + int(hits[0])
    raise ValueError("no sample above the level")


def _last_above(samples: FloatArray, level: float) -> int:
    """Index of the last sample louder than `level`; the caller knows there is one."""
    for stop in range(samples.size, 0, -_SCAN):
        start = max(0, stop - _SCAN)
        hits = np.flatnonzero(np.abs(samples[start:stop]) > level)
        if hits.size:
            return start + int(hits[-1])
    raise ValueError("no sample above the level")


def measure(sound: sf.SoundFile, meter: _Meter | None = None) -> _Meter:
    """Decodes `sound` once, block by block, and returns every measurement the findings come from.

    Raises what libsndfile raises when decoding stops; the `meter` passed in then tells how far it got.
    tests/server/test_qc_reference.py holds these figures against a whole-file float64 reference.
    """
    if meter is None:
        meter = _Meter(sound.samplerate, sound.channels)
    # One float32 buffer, decoded into again for every block (float32 holds 24-bit PCM exactly).
    buffer = np.empty((meter.block_frames(), sound.channels), dtype=np.float32)
    while True:
        block = sound.read(out=buffer)
        if not block.shape[0]:
            break
        meter.add(block)
    meter.finish()
    return meter


def _signal_findings(sound: sf.SoundFile) -> list[dict[str, Any]]:
    declared = sound.frames
    meter = _Meter(sound.samplerate, sound.channels)
    try:
        meter = measure(sound, meter)
    except Exception as exc:
        return [
            finding(
                "corrupt",
                "error",
                f"Decoding stopped after {meter.frames} samples: {exc}.",
                meter.frames,
                declared,
                "samples",
            )
        ]
    if meter.frames < declared:
        message = f"The file ends after {meter.frames} of the {declared} samples its header declares."
        return [finding("corrupt", "error", message, meter.frames, declared, "samples")]
    return _measurement_findings(meter, sound.samplerate)


def _ms(frames: int, rate: int) -> int:
    return frames * 1000 // rate


def _db(value: float) -> float | None:
    return round(20 * math.log10(value), 1) if value > 0 else None


def _measurement_findings(meter: _Meter, rate: int) -> list[dict[str, Any]]:
    findings = []
    duration = _ms(meter.frames, rate)
    if duration < MIN_DURATION_MS:
        findings.append(
            finding(
                "duration",
                "error",
                f"The track is {duration / 1000:.1f} s long; stores need at least 30 s.",
                duration,
                MIN_DURATION_MS,
                "ms",
            )
        )
    loudness = meter.integrated_loudness()
    findings += _silence_findings(meter, rate, loudness)
    findings += _clipping_findings(meter)
    true_peak = _db(meter.true_peak)
    if true_peak is not None and true_peak > TRUE_PEAK_LIMIT_DBTP:
        message = f"True peak is {true_peak} dBTP; keep it at or below -1.0 dBTP to avoid distortion after encoding."
        findings.append(finding("true_peak", "warning", message, true_peak, TRUE_PEAK_LIMIT_DBTP, "dBTP"))
    if meter.dual_mono and meter.first_sound is not None:  # a silent file is trivially "dual mono"
        difference = _db(meter.channel_difference)
        message = (
            "The left and right channels are identical: this is a mono recording in a stereo file."
            if difference is None
            else f"The left and right channels never differ by more than {difference} dBFS "
            f"(threshold {_db(DUAL_MONO_TOLERANCE)} dBFS): this is a mono recording in a stereo file."
        )
        message += " Deliver the stereo mix if there is one; a mono master is accepted as it is."
        findings.append(finding("dual_mono", "warning", message, difference, _db(DUAL_MONO_TOLERANCE), "dBFS"))
    findings += _loudness_findings(loudness, near_silent=meter.peak > 0 and _near_silent(loudness, meter))
    return findings


def _near_silent(loudness: float | None, meter: _Meter) -> bool:
    if loudness is None:  # too short to gate (the duration finding covers that) or nothing above -70 LUFS
        return meter.frames >= 4 * meter.segment
    return loudness < NEAR_SILENT_LUFS


def _silence_findings(meter: _Meter, rate: int, loudness: float | None) -> list[dict[str, Any]]:
    if meter.peak == 0:
        message = "Every sample is zero: the file is digital silence, not a master."
        return [finding("digital_silence", "error", message, None, None, None)]
    findings = []
    if _near_silent(loudness, meter):
        measured = round(loudness, 1) if loudness is not None else None
        shown = f"{measured} LUFS" if measured is not None else "below the -70 LUFS gate of ITU-R BS.1770"
        message = (
            f"The track is near-silent: integrated loudness is {shown}, under the {NEAR_SILENT_LUFS} LUFS floor "
            f"(sample peak {_db(meter.peak)} dBFS)."
        )
        findings.append(finding("near_silent", "error", message, measured, NEAR_SILENT_LUFS, "LUFS"))
    if meter.first_sound is None or meter.last_sound is None:
        return findings  # no sound above -60 dBFS at all: the whole track is silence, not its start or end
    leading = _ms(meter.first_sound, rate)
    trailing = _ms(meter.frames - 1 - meter.last_sound, rate)
    for code, value, where in (("leading_silence", leading, "start"), ("trailing_silence", trailing, "end")):
        if value > MAX_SILENCE_MS:
            message = f"{value / 1000:.1f} s of silence at the {where}; keep it under {MAX_SILENCE_MS // 1000} s."
            findings.append(finding(code, "warning", message, value, MAX_SILENCE_MS, "ms"))
    return findings


def _clipping_findings(meter: _Meter) -> list[dict[str, Any]]:
    if not meter.clipped_runs:
        return []
    percent = 100 * meter.clipped_samples / (meter.frames * meter.channels)
    shown = f"{percent:.3g} %"
    counts = f"{meter.clipped_samples} samples in {meter.clipped_runs} run(s) of {CLIP_RUN}+ full-scale samples"
    if percent >= CLIP_FAIL_PERCENT:
        message = (
            f"Sustained clipping: {shown} of all samples ({counts}) sit at full scale, at or above the "
            f"{CLIP_FAIL_PERCENT} % limit. Deliver a master made without clipping."
        )
        return [finding("sustained_clipping", "error", message, round(percent, 4), CLIP_FAIL_PERCENT, "%")]
    message = f"{meter.clipped_runs} run(s) of {CLIP_RUN}+ consecutive full-scale samples: the master is clipping."
    return [finding("clipping", "warning", message, meter.clipped_runs, 0, "samples")]


def _loudness_findings(loudness: float | None, *, near_silent: bool) -> list[dict[str, Any]]:
    if loudness is None:
        return [finding("loudness", "info", "The audio is silent: no loudness could be measured.", None, None, "LUFS")]
    lufs = round(loudness, 1)
    message = f"Integrated loudness is {lufs} LUFS; streaming services normalise to about -14 LUFS."
    findings = [finding("loudness", "info", message, lufs, None, "LUFS")]
    if lufs > LOUD_LUFS:
        message = (
            f"Integrated loudness is {lufs} LUFS, above {LOUD_LUFS} LUFS: a master this loud is crushed by limiting "
            "and is turned down by every streaming service anyway."
        )
        findings.append(finding("too_loud", "warning", message, lufs, LOUD_LUFS, "LUFS"))
    elif lufs < QUIET_LUFS and not near_silent:  # a near-silent master already fails, with its loudness
        message = (
            f"Integrated loudness is {lufs} LUFS, below {QUIET_LUFS} LUFS: the track will play far quieter than "
            "the rest of a playlist."
        )
        findings.append(finding("too_quiet", "warning", message, lufs, QUIET_LUFS, "LUFS"))
    return findings
