"""Structured logging: one JSON object per line, every line carrying the request id."""

import json
import logging
import re
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from server.request_context import request_id_var

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# An absolute URL's credentials (`user:pass@`) and query string: customers put secrets there (webhook endpoint URLs
# such as `https://hooks.example.com/in?token=…`), so no log line may carry them, whoever logged the URL.
_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^/\s@\"']*@)?(?P<rest>[^\s?#\"']*)(?:\?[^\s#\"']*)?")


def redact(text: str) -> str:
    """`text` with the userinfo and the query string of every absolute URL in it replaced."""
    if "://" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        query = "?[redacted]" if "?" in match.group(0) else ""
        userinfo = "[redacted]@" if "@" in match.group(0).split("?", 1)[0] else ""
        return f"{match.group('scheme')}{userinfo}{match.group('rest')}{query}"

    return _URL.sub(replace, text)


# `json.dumps(entry, default=str)`, without building an encoder for every line (a `default` makes `dumps` do that).
_ENCODER = json.JSONEncoder(default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
            "request_id": request_id_var.get(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(_ENCODER.encode(entry))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = f"{record.levelname:<7} {request_id_var.get()} {record.name}: {record.getMessage()}"
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        if extras:
            base += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            base += "\n" + self.formatException(record.exc_info)
        return redact(base)


# Lines held for the writer thread (waiting or being written); past this, new lines are dropped (and counted) rather
# than waited for.
QUEUE_LINES = 10_000
# How long the writer lets lines gather after the first of a batch before writing them all at once.
GATHER_SECONDS = 0.02


class NonBlockingStreamHandler(logging.Handler):
    """Formats each record in the thread that logs (so it keeps its request id) and hands the line to a writer
    thread through a bounded buffer; a full buffer drops the line and counts it.

    Why (issue 23): a plain StreamHandler writes under the handler's lock. When whatever reads the process's stderr
    stops reading (a full pipe, a stalled log shipper), the write blocks, and then every thread that logs waits on
    that lock: the worker threads answering requests and the event loop (the access log). Under a database outage
    each failed request logs, so the server stopped answering after a few requests and never came back. Logging
    must cost a request a bounded time whatever the log's reader does; losing lines is the lesser harm, and the
    loss is reported by a line once the stream drains again.

    Why in batches (issue 22): waking the writer for every line (a queue's `put`) cost each request a thread
    switch and a write system call, about a tenth of a millisecond of CPU on the cheapest reads. The writer is woken
    by the first line of a batch only, lets lines gather for `GATHER_SECONDS` and writes them with one call: lines
    reach the stream at most that much later, in the same order.
    """

    def __init__(self, stream: Any, capacity: int = QUEUE_LINES) -> None:
        super().__init__()
        self.stream = stream
        self.capacity = capacity
        self.dropped = 0
        # All under _mutex (not the handler's lock: logging.shutdown holds that one while it flushes).
        self._mutex = threading.Lock()
        self._lines: list[str] = []  # waiting for the writer
        self._held = 0  # waiting or being written: what the capacity bounds
        self._accepted = 0  # lines accepted so far, and of those written (or lost to a broken stream): for flush
        self._written = 0
        self._closing = False
        self._wake = threading.Event()
        self._progress = threading.Condition(threading.Lock())
        self._thread = threading.Thread(target=self._write, name="og-log-writer", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self._mutex:
            if self._held >= self.capacity:
                self.dropped += 1
                return
            self._held += 1
            self._accepted += 1
            self._lines.append(line)
        if not self._wake.is_set():  # a plain read: only the batch's first line wakes the writer
            self._wake.set()

    def _write(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(GATHER_SECONDS)
            with self._mutex:
                self._wake.clear()
                lines, self._lines = self._lines, []
                dropped, self.dropped = self.dropped, 0
                closing = self._closing
            if dropped:
                notice = logging.makeLogRecord(
                    {
                        "name": "og.logs",
                        "levelno": logging.WARNING,
                        "levelname": "WARNING",
                        "msg": "%d log lines were dropped: the log stream was not being read",
                        "args": (dropped,),
                    }
                )
                text = "\n".join([self.format(notice), *lines]) + "\n"
            else:
                text = "\n".join(lines) + "\n" if lines else ""
            if text:
                try:
                    self.stream.write(text)
                    self.stream.flush()
                except (OSError, ValueError):  # a closed or broken stream: nothing left to tell
                    pass
            with self._mutex:
                self._held -= len(lines)
            with self._progress:
                self._written += len(lines)
                self._progress.notify_all()
            if closing:
                return

    def flush(self) -> None:
        """Wait (at most a few seconds) until the lines accepted so far are written."""
        with self._mutex:
            accepted = self._accepted
        if not self._thread.is_alive():
            return
        self._wake.set()
        with self._progress:
            self._progress.wait_for(lambda: self._written >= accepted, FLUSH_SECONDS)

    def close(self) -> None:
        if self._thread.is_alive():
            self.flush()
            with self._mutex:
                self._closing = True
            self._wake.set()
            self._thread.join(FLUSH_SECONDS)  # else the writer is stuck on the stream (a daemon thread)
        super().close()


# How long flushing (at exit, or when logging is configured again) waits for a stalled stream.
FLUSH_SECONDS = 5.0


def configure(level: str, *, as_json: bool) -> None:
    # What a record would carry that no line of ours prints (the formatters above write the time, level, logger,
    # message, request id and extras): the caller's file, line and function (a walk up the stack for every record),
    # the thread, the process id and name. The logging HOWTO's "Optimization" switches; they took ≈ 13 µs of CPU off
    # the access line every request logs, a third of its cost on the server (issue 22).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = NonBlockingStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    root = logging.getLogger()
    for previous in root.handlers:
        if isinstance(previous, NonBlockingStreamHandler):
            previous.close()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access lines come from our own middleware (with request id, status and duration); uvicorn's would duplicate.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
    # httpx logs every request it sends at INFO with the full URL (webhook endpoints: query strings with secrets),
    # httpcore at DEBUG; our own delivery log records what matters without the URL.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # connexion warns on every request to an operation with several request media types; that is by design here.
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
