"""Logging never blocks the thread that logs (issue 23: the black-holed-database hang). When the process's stderr
stops being read (a full pipe, a stalled log shipper), lines queue up to a bound and are then dropped and counted;
requests and the event loop go on."""

import json
import logging
import threading

from server.logs import JsonFormatter, NonBlockingStreamHandler


class StalledStream:
    """A stream whose writes block until released, like a pipe nobody reads."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.release.wait()
        self.lines.append(text)

    def flush(self) -> None:
        pass


def test_a_stalled_log_stream_neither_blocks_the_logging_thread_nor_loses_the_count() -> None:
    stream = StalledStream()
    handler = NonBlockingStreamHandler(stream, capacity=10)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("og.test.stalled")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # With a plain StreamHandler the first write blocks, and this thread (a request's) never ends.
        done = threading.Event()

        def log_many() -> None:
            for i in range(200):
                logger.warning("line %d", i)
            done.set()

        threading.Thread(target=log_many, daemon=True).start()
        assert done.wait(30), "logging blocked on a stalled stream"

        stream.release.set()  # the reader comes back: what was queued is written, and logging goes on
        handler.flush()
        logger.warning("after")
        handler.flush()
        text = "".join(stream.lines)
        entries = [json.loads(line) for line in text.splitlines()]
        messages = [e["msg"] for e in entries]
        assert messages[-1] == "after"
        # The loss is reported once the stream drains. It can take more than one notice: if the logging thread
        # fills the queue before the writer takes its first line, one count is reported with that line and the
        # lines dropped while it was blocked with the next.
        notices = [m for m in messages if "log lines were dropped" in m]
        assert notices
        dropped = sum(int(m.split()[0]) for m in notices)
        written = [m for m in messages if m.startswith("line ")]
        # Every line is either written or counted as dropped, and the queue's bound held.
        assert len(written) + dropped == 200
        assert len(written) <= 10 + 1  # the queue's capacity, plus the line the writer was blocked on
    finally:
        logger.removeHandler(handler)
        handler.close()
