"""Structured logging: one JSON object per line, every line carrying the request id."""

import json
import logging
import re
import sys
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


def configure(level: str, *, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    root = logging.getLogger()
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
