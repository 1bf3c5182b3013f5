"""Loaded into every Python process of `nox -s clock` (the test run and each server it starts), on PYTHONPATH.

libfaketime 0.9.10 (Debian 12's faketime) moves the wall clock but, with the monotonic clock left real
(DONT_FAKE_MONOTONIC=1, so timeouts stay real), refuses the absolute-deadline `clock_nanosleep` that CPython's
`time.sleep` makes: every sleep raises `OSError: [Errno 22]`. With the monotonic clock moved too, the same call sleeps
until the real monotonic clock reaches the moved deadline, i.e. forever. A sleep through `select()` takes a
relative timeout, which libfaketime leaves alone.
"""

import os
import select
import time

if os.environ.get("FAKETIME"):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
