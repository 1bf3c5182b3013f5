"""Structured logging: one JSON object per line, every line carrying the request id."""

import contextlib
import json
import logging
import queue
import re
import sys
import threading
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
        return redact(json.dumps(entry, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = f"{record.levelname:<7} {request_id_var.get()} {record.name}: {record.getMessage()}"
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        if extras:
            base += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            base += "\n" + self.formatException(record.exc_info)
        return redact(base)


# Lines waiting for the writer thread; past this, new lines are dropped (and counted) rather than waited for.
QUEUE_LINES = 10_000


class NonBlockingStreamHandler(logging.Handler):
    """Formats each record in the thread that logs (so it keeps its request id) and hands the line to a writer
    thread through a bounded queue; a full queue drops the line and counts it.

    Why (issue 23): a plain StreamHandler writes under the handler's lock. When whatever reads the process's stderr
    stops reading (a full pipe, a stalled log shipper), the write blocks, and then every thread that logs waits on
    that lock: the worker threads answering requests and the event loop (the access log). Under a database outage
    each failed request logs, so the server stopped answering after a few requests and never came back. Logging
    must cost a request a bounded time whatever the log's reader does; losing lines is the lesser harm, and the
    loss is reported by a line once the stream drains again.
    """

    def __init__(self, stream: Any, capacity: int = QUEUE_LINES) -> None:
        super().__init__()
        self.stream = stream
        self.dropped = 0
        self._lines: queue.Queue[str | None] = queue.Queue(capacity)
        self._thread = threading.Thread(target=self._write, name="og-log-writer", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        try:
            self._lines.put_nowait(line)
        except queue.Full:
            self.dropped += 1  # under the handler's lock (Handler.handle)

    def _write(self) -> None:
        while (line := self._lines.get()) is not None:
            self.acquire()  # the handler's lock, held by emit only for a non-blocking put
            try:
                dropped, self.dropped = self.dropped, 0
            finally:
                self.release()
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
                line = self.format(notice) + "\n" + line
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed or broken stream: nothing left to tell
                pass
            finally:
                self._lines.task_done()

    def flush(self) -> None:
        """Wait (at most a few seconds) until the lines queued so far are written."""
        drained = threading.Event()

        def wait_for_the_writer() -> None:
            self._lines.join()
            drained.set()

        threading.Thread(target=wait_for_the_writer, daemon=True).start()
        drained.wait(FLUSH_SECONDS)

    def close(self) -> None:
        if self._thread.is_alive():
            self.flush()
            with contextlib.suppress(queue.Full):  # else the writer is stuck on the stream (a daemon thread)
                self._lines.put_nowait(None)
            self._thread.join(FLUSH_SECONDS)
        super().close()


# How long flushing (at exit, or when logging is configured again) waits for a stalled stream.
FLUSH_SECONDS = 5.0


def configure(level: str, *, as_json: bool) -> None:
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
