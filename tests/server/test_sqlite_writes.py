"""SQLite writers queue in the process, first come first served (server/db/sqlite_writes.py, issue 22): no writer
loses SQLite's lock to newcomers again and again, and every way a transaction ends hands the queue on."""

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from server.db.engine import engine_for
from server.db.sqlite_writes import WriteQueue, connection_factory

INSERT = text("INSERT INTO t (who) VALUES (:who)")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """The server's SQLite engine (the same factory, pool and pragmas) on a file of its own."""
    engine = engine_for(f"sqlite:///{tmp_path / 'writes.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT UNIQUE)"))
    yield engine
    engine.dispose()


def _queue(engine: Engine) -> WriteQueue:
    with engine.connect() as connection:
        queue: WriteQueue = type(connection.connection.dbapi_connection).queue  # type: ignore[union-attr]
    return queue


def _free(engine: Engine) -> bool:
    """Whether the next writer would go straight to SQLite (nothing holds the queue): taken and given back."""
    queue = _queue(engine)
    if not queue.acquire(timeout=0):
        return False
    queue.release()
    return True


def _rows(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row.who for row in connection.execute(text("SELECT who FROM t ORDER BY id"))]


def test_concurrent_writers_are_never_refused_even_without_a_busy_timeout(engine: Engine) -> None:
    # SQLite's busy timeout off on every connection: a writer that reached the file lock while another connection
    # held it would fail at once ("database is locked"). Queued, each reaches it only when it is free.
    event.listen(engine, "connect", lambda dbapi_connection, _: dbapi_connection.execute("PRAGMA busy_timeout=0"))
    engine.dispose()
    failures: list[BaseException] = []
    start = threading.Barrier(16)

    def write(writer: int) -> None:
        start.wait()
        try:
            for n in range(25):
                with Session(engine) as session:
                    session.execute(text("SELECT count(*) FROM t")).one()  # a read, then writes: one transaction
                    session.execute(INSERT, {"who": f"{writer}-{n}-a"})
                    session.execute(text("SELECT who FROM t WHERE id = last_insert_rowid()")).one()
                    session.execute(INSERT, {"who": f"{writer}-{n}-b"})
                    session.commit()
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(_rows(engine)) == 16 * 25 * 2


def test_writers_get_the_lock_in_the_order_they_asked_for_it(engine: Engine) -> None:
    queue = _queue(engine)
    holder = Session(engine)
    holder.execute(INSERT, {"who": "holder"})  # holds SQLite's write lock, and so the queue, until it commits

    def write(who: str) -> None:
        with Session(engine) as session:
            session.execute(INSERT, {"who": who})
            session.commit()

    threads = []
    for writer in range(8):
        thread = threading.Thread(target=write, args=(f"writer {writer}",))
        thread.start()
        threads.append(thread)
        # The next one starts only once this one waits in the queue: the order of arrival is known.
        while len(queue._waiters) < writer + 1:
            threading.Event().wait(0.001)
    holder.commit()
    holder.close()
    for thread in threads:
        thread.join()
    assert _rows(engine) == ["holder", *(f"writer {writer}" for writer in range(8))]
    assert _free(engine)


def test_reads_do_not_wait_for_the_queue(engine: Engine) -> None:
    with Session(engine) as writer:
        writer.execute(INSERT, {"who": "pending"})
        assert not _free(engine)
        assert _rows(engine) == []  # another connection reads (the last commit) while the writer holds the queue
        writer.commit()
    assert _rows(engine) == ["pending"]


def test_read_then_write_commit_releases(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("SELECT count(*) FROM t")).one()
        assert _free(engine)  # a read takes nothing
        session.execute(INSERT, {"who": "a"})
        assert not _free(engine)
        session.commit()
    assert _free(engine)


def test_rollback_releases(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(INSERT, {"who": "a"})
        session.rollback()
        assert _free(engine)
    assert _rows(engine) == []


def test_an_exception_mid_transaction_releases(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(INSERT, {"who": "a"})
        session.commit()

    def write_twice() -> None:
        with Session(engine) as session:
            session.execute(INSERT, {"who": "b"})
            session.execute(INSERT, {"who": "a"})  # the UNIQUE constraint: fails mid-transaction, the session closes

    with pytest.raises(IntegrityError):
        write_twice()
    assert _free(engine)
    assert _rows(engine) == ["a"]


def test_a_session_closed_without_commit_releases(engine: Engine) -> None:
    session = Session(engine)
    session.execute(INSERT, {"who": "a"})
    session.close()  # the pool rolls the connection back as it takes it back
    assert _free(engine)
    assert _rows(engine) == []


def test_savepoints_keep_the_queue_until_the_transaction_ends(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(INSERT, {"who": "a"})
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(INSERT, {"who": "a"})  # rolled back to the savepoint
        assert not _free(engine)  # the outer transaction still writes
        with session.begin_nested():
            session.execute(INSERT, {"who": "b"})
        assert not _free(engine)
        session.commit()
    assert _free(engine)
    assert _rows(engine) == ["a", "b"]


def test_core_transactions_and_ddl_release(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(INSERT, {"who": "a"})
    assert _free(engine)
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE u (id INTEGER PRIMARY KEY)"))  # DDL: pysqlite opens no transaction
        assert _free(engine)
        connection.execute(text("DROP TABLE u"))
    assert _free(engine)


def test_an_invalidated_connection_releases(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(INSERT, {"who": "a"})
        connection.invalidate()  # as after a disconnect: the pool closes the DBAPI connection
    assert _free(engine)


def test_a_writer_that_waits_on_itself_fails_instead_of_hanging(tmp_path: Path) -> None:
    # One thread writing through two connections would wait for itself; it fails after the busy timeout (0.2 s
    # here, 30 s in the server), "database is locked", as it did when it waited in SQLite's busy handler.
    engine = create_engine(
        f"sqlite:///{tmp_path / 'self.db'}",
        connect_args={"timeout": 0.2, "factory": connection_factory(str(tmp_path / "self.db"))},
    )
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT UNIQUE)"))
    with Session(engine) as first, Session(engine) as second:
        first.execute(INSERT, {"who": "first"})
        with pytest.raises(OperationalError, match="database is locked"):
            second.execute(INSERT, {"who": "second"})
        first.commit()
    assert _rows(engine) == ["first"]
    engine.dispose()


def test_the_queue_hands_over_in_order_and_times_out() -> None:
    queue = WriteQueue()
    assert queue.acquire(timeout=0)
    assert not queue.acquire(timeout=0)  # held: a waiter gives up after its timeout and leaves the queue
    assert queue._waiters == type(queue._waiters)()
    order: list[int] = []

    def wait(n: int) -> None:
        assert queue.acquire(timeout=30)
        order.append(n)
        queue.release()

    threads: list[Any] = []
    for n in range(5):
        threads.append(threading.Thread(target=wait, args=(n,)))
        threads[-1].start()
        while len(queue._waiters) < n + 1:
            threading.Event().wait(0.001)
    queue.release()
    for thread in threads:
        thread.join()
    assert order == [0, 1, 2, 3, 4]
    assert queue.acquire(timeout=0)


def test_engines_on_one_file_share_its_queue(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    assert (
        connection_factory(str(database)).queue is connection_factory(f"{tmp_path}/../{tmp_path.name}/shared.db").queue
    )
    assert connection_factory(str(database)).queue is not connection_factory(str(tmp_path / "other.db")).queue
    assert connection_factory(":memory:").queue is not connection_factory(":memory:").queue
    assert issubclass(connection_factory(str(database)), sqlite3.Connection)
    # The server's engines (one per URL and timeouts) on one file: a writer of one waits for the other's.
    url = f"sqlite:///{database}"
    first, second = engine_for(url), engine_for(url, connect_timeout=4.0)
    assert first is not second
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT UNIQUE)"))
    with Session(first) as writer:
        writer.execute(INSERT, {"who": "first"})
        assert not _free(second)
        writer.commit()
    assert _free(second)
    first.dispose()
    second.dispose()
