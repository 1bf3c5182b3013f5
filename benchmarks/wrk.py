"""Driving `wrk` (the Debian package): one Lua script per scenario, results back as JSON.

The script cycles through prepared requests, counts response statuses per thread (so a scenario can tell an
expected 429 from an error) and, when the run ends, prints one line `WRK_JSON {...}` with the request count, the
latency percentiles and the socket errors. wrk runs pinned to its own core (`taskset`), one thread, keep-alive
connections: a closed loop, each connection sends its next request when the previous answer arrives.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "WRK_JSON "

_SCRIPT = """
local prepared = {}
local index = 0
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for _, r in ipairs(REQUESTS) do
    table.insert(prepared, wrk.format(r[1], r[2], r[3], r[4]))
  end
end

function request()
  index = index % #prepared + 1
  return prepared[index]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local statuses = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      statuses[#statuses + 1] = string.format('"%d":%d', status, n)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"max_us":%.1f,' ..
    '"socket_errors":%d,"timeouts":%d,"statuses":{%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect + e.read + e.write, e.timeout, table.concat(statuses, ",")))
end
"""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes | None = None  # bytes: sent as they are (a multipart upload)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    timeouts: int
    statuses: dict[int, int]

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: run .ci/install-wrk (or `nox -s bench`, which does)")
    return found


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for the characters we send


def _lua_bytes(value: bytes) -> str:
    """Any bytes as a Lua string literal: printable ASCII as it is, everything else as a decimal escape (`\\ddd`)."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in value) + '"'


def write_script(path: Path, requests: list[HttpRequest]) -> None:
    rows = []
    for r in requests:
        headers = "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in r.headers.items()) + "}"
        body = "nil" if r.body is None else _lua_bytes(r.body) if isinstance(r.body, bytes) else _lua_string(r.body)
        rows.append(f"  {{{_lua_string(r.method)}, {_lua_string(r.path)}, {headers}, {body}}}")
    path.write_text("REQUESTS = {\n" + ",\n".join(rows) + "\n}\n" + _SCRIPT)


def run(
    base_url: str,
    script: Path,
    *,
    seconds: int,
    connections: int,
    cpu: int | None,
    timeout_s: int = 5,
) -> WrkResult:
    command = [require_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s"]
    command += ["-s", str(script), base_url]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    finished = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)  # noqa: S603
    for line in finished.stdout.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line.removeprefix(MARKER))
            return WrkResult(
                requests=raw["requests"],
                duration_s=raw["duration_us"] / 1e6,
                p50_ms=raw["p50_us"] / 1000,
                p90_ms=raw["p90_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                max_ms=raw["max_us"] / 1000,
                socket_errors=raw["socket_errors"],
                timeouts=raw["timeouts"],
                statuses={int(k): v for k, v in raw["statuses"].items()},
            )
    raise RuntimeError(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")
