"""Multi-row inserts (`server.db.bulk.insert_rows`, the request log's writer) store what SQLAlchemy's own
`executemany` stores, value for value, on both backends — JSON documents and their absence, datetimes in UTC,
unicode, quotes and percent signs — and are all or nothing with the caller's transaction."""

import logging
import time
from datetime import UTC, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, delete, event, insert, select, text
from sqlalchemy.exc import IntegrityError

from server import clock
from server.db import bulk
from server.db import engine as db
from server.db.models.dashboard import RequestLogEntry
from server.services import request_log

TABLE = cast(Table, RequestLogEntry.__table__)  # type: ignore[attr-defined]
COLUMNS = [c.name for c in TABLE.columns if c.name != "id"]
# Within the request log's retention: the writer thread purges older entries.
BASE = (clock.now() - timedelta(hours=1)).replace(microsecond=0)


@pytest.fixture
def engine(app: Any, settings: Any) -> Engine:
    db.configure(settings)
    with db.engine().begin() as connection:
        connection.execute(delete(TABLE))
    return db.engine()


def _rows(marker: str, count: int) -> list[dict[str, Any]]:
    base = BASE
    rows = []
    for n in range(count):
        problem = (
            {"type": "about:blank", "code": "not_found", "detail": "Kein „Release“ mit 100 % — 'quoted'", "n": n}
            if n % 3 == 0
            else None
        )
        rows.append(
            {
                "account_id": f"acc_{marker}",
                "environment": "sandbox" if n % 2 else "production",
                "credential_id": f"key_{n}",
                "credential_kind": "api_key",
                "method": "GET",
                "path": f"/api/v1/persons/per_{n}?q=100%25&name=Zoë's",
                "status": 404 if problem else 200,
                "error_code": "not_found" if problem else None,
                "request_id": f"req_{marker}_{n}",
                "duration_ms": 0.5 + n / 7,
                "problem": problem,
                # Not UTC on the way in: stored as the same instant, read back in UTC, on both paths.
                "created_at": (base + timedelta(seconds=n)).astimezone(timezone(timedelta(hours=2))),
            }
        )
    return rows


def _stored(engine: Engine, marker: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        found = connection.execute(
            select(*(TABLE.c[name] for name in COLUMNS)).where(TABLE.c.account_id == f"acc_{marker}")
        )
        return sorted((dict(row._mapping) for row in found), key=lambda row: row["credential_id"])


def _raw(engine: Engine, marker: str) -> list[tuple[Any, ...]]:
    """The stored values as the driver returns them, no column type applied (SQLite: datetimes and JSON as text, the
    form its comparisons and indexes see)."""
    other = [name for name in COLUMNS if name not in {"account_id", "request_id"}]
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(f"SELECT {', '.join(other)} FROM request_log WHERE account_id = :a ORDER BY id"),
                {"a": f"acc_{marker}"},
            )
        ]


def test_rows_are_stored_as_sqlalchemy_stores_them(engine: Engine) -> None:
    count = 250  # several statements: a dozen columns make about 80 rows per statement
    with engine.begin() as connection:
        connection.execute(insert(TABLE), _rows("core", count))
        bulk.insert_rows(connection, TABLE, _rows("bulk", count))
    # Absent problems included: the JSON type's default stores JSON `null`, not SQL NULL, on both paths.
    assert _raw(engine, "bulk") == _raw(engine, "core")
    ours = _stored(engine, "bulk")
    assert len(ours) == count
    assert ours[0]["created_at"] == BASE
    assert ours[0]["created_at"].tzinfo == UTC
    assert ours[0]["problem"]["detail"] == "Kein „Release“ mit 100 % — 'quoted'"


def test_a_failed_transaction_leaves_no_row(engine: Engine) -> None:
    def insert_then_fail() -> None:
        with engine.begin() as connection:
            bulk.insert_rows(connection, TABLE, _rows("rolled_back", 200))
            raise RuntimeError("the caller fails after the insert")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    assert _stored(engine, "rolled_back") == []


def test_rows_of_different_shapes_are_refused_before_anything_is_written(engine: Engine) -> None:
    rows = _rows("shapes", 3)
    del rows[2]["error_code"]
    with pytest.raises(ValueError, match="same columns"), engine.begin() as connection:
        bulk.insert_rows(connection, TABLE, rows)
    assert _stored(engine, "shapes") == []


def test_the_request_log_writer_flushes_through_it(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = bulk.insert_rows

    def counting(connection: Any, table: Table, rows: Any) -> None:
        calls.append(len(rows))
        original(connection, table, rows)

    monkeypatch.setattr(request_log, "insert_rows", counting)
    for row in _rows("writer", 5):
        request_log._current_recorder().buffer.append(row)
    assert request_log.flush() == 5
    assert calls == [5]
    assert [row["request_id"] for row in _stored(engine, "writer")] == [f"req_writer_{n}" for n in range(5)]


def test_a_failed_flush_logs_one_line_without_the_statement_and_keeps_the_rows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(connection: Any, table: Table, rows: Any) -> None:
        raise IntegrityError("INSERT INTO request_log (path) VALUES (?)", ["/api/v1/secret-ish"], Exception("boom"))

    monkeypatch.setattr(request_log, "insert_rows", failing)
    recorder = request_log._current_recorder()
    recorder.buffer.extend(_rows("failing", 3))
    with caplog.at_level(logging.ERROR, logger="og.request_log"):
        recorder.ensure_started()
        deadline = time.monotonic() + 10
        while not caplog.records and time.monotonic() < deadline:
            recorder.wake.set()  # no timed wait: under a moved clock (faketime) those may not return
            time.sleep(0.01)
    monkeypatch.undo()  # the database works again: the writer's last flush on stopping writes what it kept
    recorder.stopping.set()
    recorder.wake.set()
    assert recorder.thread is not None
    recorder.thread.join(timeout=10)
    messages = [record.getMessage() for record in caplog.records]
    assert messages
    assert messages[0] == "writing the request log failed; retrying: Exception: boom"
    assert not any("INSERT" in m or "/api/v1/" in m for m in messages)
    assert all(record.exc_info is None for record in caplog.records)
    assert len(_stored(engine, "failing")) == 3


def test_batches_of_any_size_use_a_few_statement_texts(engine: Engine) -> None:
    """The driver keeps every statement text it has run prepared, per pooled connection: one text per batch size
    would grow the server's memory with each new size."""
    texts: set[str] = set()

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        texts.add(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with engine.begin() as connection:
            for size in range(1, 200):
                bulk.insert_rows(connection, TABLE, _rows(f"size{size}", size))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    inserts = {text_ for text_ in texts if text_.startswith("INSERT")}
    assert len(inserts) <= 8
    assert len(_stored(engine, "size199")) == 199
