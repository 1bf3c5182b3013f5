"""Benchmarks of the releases issue: audio QC time and memory, and server RSS growth during a 500 MB upload.

Run: `.venv/bin/python -m benchmarks.releases_qc` (prints a Markdown table). Each measurement runs in a fresh
process so imports and earlier allocations do not blur peak memory.

- QC: a 4-minute 24-bit/48 kHz stereo WAV (generated once into a temp dir); wall time, CPU time and peak RSS growth
  of `server.qc.audio.analyse` over the process's RSS after imports. Targets: ≤ 2 s on one core; peak memory ≤ 3x
  the decoded audio size (240 s x 48 000 x 2 channels x 4 bytes = 92 MB as 32-bit samples).
- QC against its floor: the CPU time libsndfile needs to decode the same file (soundfile, float32 blocks), measured
  in interleaved rounds with the QC (`--rounds`, default 3; A B, B A, …: benchmarks/rounds.py); each round's ratio is
  QC CPU / decode CPU, the result their median and spread, printed as a `BENCH_RESULT` line too, with `metrics`
  (`qc_cpu_s`, `decode_cpu_s`, `ratio`, `qc_peak_memory_bytes`, `decoded_bytes`, `memory_ratio`). Target (issue 22):
  ratio ≤ 4.
- Upload: a real `og-server serve` (QC off, so only the upload is measured); a 500 MB `audio` part streamed as a
  chunked multipart body; server RSS sampled every 50 ms. Target: growth ≤ 64 MB. `--qc-only` leaves it out.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import rounds

ROOT = Path(__file__).resolve().parents[1]
QC_SECONDS, QC_RATE = 240, 48_000
DECODED_BYTES = QC_SECONDS * QC_RATE * 2 * 4  # the file as 32-bit samples: what "decoded size" means
QC_RATIO_TARGET, QC_MEMORY_TARGET = 4.0, 3.0  # issue 22: QC CPU ≤ 4x decode CPU; peak memory ≤ 3x decoded size
UPLOAD_BYTES = 500 * 1024 * 1024


def _make_wav(path: Path) -> None:
    import numpy as np  # noqa: PLC0415
    import soundfile as sf  # noqa: PLC0415

    rng = np.random.default_rng(1)
    with sf.SoundFile(path, "w", QC_RATE, 2, subtype="PCM_24", format="WAV") as out:
        for start in range(0, QC_SECONDS * QC_RATE, QC_RATE * 10):  # 10 s at a time: the generator stays small
            t = (np.arange(QC_RATE * 10) + start) / QC_RATE
            # a hot master, as delivered: peaks near -1 dBFS, so every measurement does its full work
            tone = 0.8 * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 0.03, t.size)
            out.write(np.stack([tone, tone * 0.9], axis=1))


def _qc_child(path: str) -> None:
    from server.qc import audio  # noqa: PLC0415

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    wall, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as handle:
        report = audio.analyse(handle)
    growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline
    result = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "peak_growth_mb": growth_kib / 1024,
        "peak_growth_bytes": growth_kib * 1024,
        "findings": [f["code"] for f in report.findings],
    }
    print(json.dumps(result))


def _decode_child(path: str) -> None:
    import numpy as np  # noqa: PLC0415
    import soundfile as sf  # noqa: PLC0415

    cpu = time.process_time()
    frames = 0
    for block in sf.blocks(path, blocksize=QC_RATE, dtype="float32"):  # libsndfile decodes; nothing else is done
        frames += int(np.shape(block)[0])
    print(json.dumps({"cpu_s": time.process_time() - cpu, "frames": frames}))


def _child(function: str, wav: Path) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", f"from benchmarks.releases_qc import {function}; {function}({str(wav)!r})"],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_qc_rounds(workdir: Path, count: int) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """QC and libsndfile's decode of the same file in interleaved rounds, each in a fresh process."""
    wav = _make(workdir)
    measured = []
    for number in range(count):
        order = ("decode", "qc") if number % 2 == 0 else ("qc", "decode")
        found = {name: _child("_qc_child" if name == "qc" else "_decode_child", wav) for name in order}
        measured.append(
            {
                "round": number,
                "qc_cpu_s": round(found["qc"]["cpu_s"], 4),
                "decode_cpu_s": round(found["decode"]["cpu_s"], 4),
                "qc_wall_s": round(found["qc"]["wall_s"], 4),
                "qc_peak_growth_mb": round(found["qc"]["peak_growth_mb"], 2),
                "qc_peak_memory_bytes": found["qc"]["peak_growth_bytes"],
                "ratio": round(found["qc"]["cpu_s"] / found["decode"]["cpu_s"], 4) if found["decode"]["cpu_s"] else 0.0,
                "load_average": os.getloadavg()[0],
            }
        )
    qc = {
        "wall_s": statistics.median(r["qc_wall_s"] for r in measured),
        "cpu_s": statistics.median(r["qc_cpu_s"] for r in measured),
        "decode_cpu_s": statistics.median(r["decode_cpu_s"] for r in measured),
        "peak_growth_mb": max(r["qc_peak_growth_mb"] for r in measured),
        "peak_memory_bytes": max(r["qc_peak_memory_bytes"] for r in measured),
    }
    return qc, measured


def _make(workdir: Path) -> Path:
    wav = workdir / "four-minutes.wav"
    subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-c",
            f"from benchmarks.releases_qc import _make_wav; from pathlib import Path; _make_wav(Path({str(wav)!r}))",
        ],
        check=True,
        cwd=ROOT,
    )
    return wav


def _rss_mb(pid: int) -> float:
    import psutil  # noqa: PLC0415

    return float(psutil.Process(pid).memory_info().rss) / (1024 * 1024)


def _body(boundary: bytes) -> Iterator[bytes]:
    yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="audio"; filename="big.wav"\r\n'
    yield b"Content-Type: audio/wav\r\n\r\n"
    chunk = b"RIFF" + bytes(4) + b"WAVE" + bytes(1024 * 1024 - 12)  # sniffed as WAV; the rest is silence
    sent = 0
    while sent < UPLOAD_BYTES:
        yield chunk
        sent += len(chunk)
        chunk = bytes(1024 * 1024)
    yield b"\r\n--" + boundary + b"--\r\n"


def bench_upload(workdir: Path) -> dict[str, float]:
    import httpx  # noqa: PLC0415

    from tests.conftest import server_env, start_server, stop_server  # noqa: PLC0415

    env = server_env(workdir / "server", OG_QC_IN_PROCESS="0", OG_MAX_UPLOAD_BYTES=str(UPLOAD_BYTES + 1024 * 1024))
    created = subprocess.run(
        [sys.executable, "-m", "server.cli", "accounts", "create", "--name", "Bench", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    )
    headers = {"Authorization": f"Bearer {json.loads(created.stdout)['api_key']['secret']}"}
    server = start_server(env, ["serve", "--no-seed"])
    try:
        track = httpx.post(
            server.base_url + "/api/v1/tracks", json={"title": "Big", "primary_artists": ["A"]}, headers=headers
        ).json()
        baseline = _rss_mb(server.process.pid)
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_mb(server.process.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        boundary = b"benchboundary"
        started = time.perf_counter()
        response = httpx.put(
            f"{server.base_url}/api/v1/tracks/{track['id']}/audio",
            content=_body(boundary),
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
            timeout=600,
        )
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        if response.status_code != 200:
            raise RuntimeError(f"upload failed: {response.status_code} {response.text[:500]}")
        return {"baseline_mb": baseline, "peak_mb": peak[0], "growth_mb": peak[0] - baseline, "seconds": elapsed}
    finally:
        stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of QC and decode")
    parser.add_argument("--qc-only", action="store_true", help="only QC against decode: no 500 MB upload")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="og-bench-") as tmp:
        workdir = Path(tmp)
        qc, measured = bench_qc_rounds(workdir, args.rounds)
        upload = None if args.qc_only else bench_upload(workdir)
    ratio = round(statistics.median(r["ratio"] for r in measured), 4)
    metrics = {
        "qc_cpu_s": round(qc["cpu_s"], 4),
        "decode_cpu_s": round(qc["decode_cpu_s"], 4),
        "ratio": ratio,  # the rounds' median of QC CPU / decode CPU (not the ratio of the medians)
        "ratio_target": QC_RATIO_TARGET,
        "qc_peak_memory_bytes": qc["peak_memory_bytes"],
        "decoded_bytes": DECODED_BYTES,
        "memory_ratio": round(qc["peak_memory_bytes"] / DECODED_BYTES, 4),
        "memory_ratio_target": QC_MEMORY_TARGET,
    }
    comparison = rounds.comparison(
        "releases_qc",
        "libsndfile decode",
        [r["ratio"] for r in measured],
        ratio_of="QC CPU time / decode CPU time of the same file (lower is better)",
        rounds=measured,
        bound=float(os.environ.get("OG_BENCH_SPREAD_BOUND", rounds.SPREAD_BOUND)),
        qc_cpu_s=metrics["qc_cpu_s"],
        decode_cpu_s=metrics["decode_cpu_s"],
        metrics=metrics,
    )
    decoded_mb = DECODED_BYTES / 1e6
    print("| benchmark | measured | target |")
    print("| --- | --- | --- |")
    print(f"| QC 4 min 24-bit/48 kHz stereo WAV: wall time | {qc['wall_s']:.2f} s | ≤ 2 s on one core |")
    print(f"| QC: CPU time (median of {args.rounds} rounds) | {qc['cpu_s']:.2f} s | — |")
    print(f"| Decode only (libsndfile), CPU time | {qc['decode_cpu_s']:.2f} s | the floor |")
    status = " — **unstable**" if comparison["unstable"] else ""
    print(
        f"| QC CPU / decode CPU (rounds' median; spread) | {comparison['ratio_median']:.1f}x; "
        f"{rounds.describe(comparison['ratio_spread'])}{status} | ≤ {QC_RATIO_TARGET:.0f}x |"
    )
    print(
        f"| QC: peak RSS growth | {qc['peak_memory_bytes'] / 1e6:.1f} MB ({metrics['memory_ratio']:.2f}x of "
        f"{decoded_mb:.0f} MB decoded) | ≤ {QC_MEMORY_TARGET:.0f}x decoded |"
    )
    if upload is not None:
        print(f"| Upload 500 MB: server RSS growth | {upload['growth_mb']:.1f} MB | ≤ 64 MB |")
        print(f"| Upload 500 MB: time (loopback) | {upload['seconds']:.1f} s | — |")
    print(f"\nCPUs: {os.cpu_count()}; load average at end: {os.getloadavg()[0]:.1f}")
    print(rounds.result_line(comparison))
    if upload is not None:
        metrics |= {
            "upload_rss_growth_mb": round(upload["growth_mb"], 1),
            "upload_seconds": round(upload["seconds"], 1),
        }
    print(rounds.metrics_line(metrics))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
