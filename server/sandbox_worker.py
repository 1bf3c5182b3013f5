"""The sandbox's scheduler: a daemon thread that runs the simulated sub-distributor's due steps
(`server.services.sandbox_simulator.run_due`) twice a second, so a submitted sandbox release goes live by itself,
and once a minute reports the simulated sales of each sandbox day that is over (`sandbox_clock.report_due_sales`),
so live sandbox releases earn day by day in real time as well as when a test clock is advanced.

Started with the app (unless OG_SANDBOX_SIMULATOR_IN_PROCESS=0), stopped with it. Bounded: at most 200 steps per
round, one transaction per step; a step that fails stays pending and is retried next round. Several processes may
run it: a step is claimed with a compare-and-set on `done_at`, so it runs once.
"""

import logging
import threading
import time

from server import state as app_state
from server.db import engine as db
from server.services import sandbox_clock, sandbox_simulator

log = logging.getLogger("og.sandbox")


class SandboxWorker:
    # Sale days end at midnight on each account's clock; a minute late is on time for a daily store report.
    SALES_INTERVAL = 60.0

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self._sales_due_at = 0.0  # monotonic: the first round reports what is due
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._database_down = False  # logged once per outage, not twice a second

    def start(self) -> None:
        self._stop.clear()
        # With the state of the app that starts it, nothing else of the caller's context.
        self._thread = threading.Thread(target=app_state.bound(self._run), name="og-sandbox-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                sandbox_simulator.run_due()
                if time.monotonic() >= self._sales_due_at:
                    self._sales_due_at = time.monotonic() + self.SALES_INTERVAL
                    sandbox_clock.report_due_sales()
            except Exception as exc:
                if not db.unavailable(exc):
                    log.exception("sandbox worker iteration failed")
                elif not self._database_down:
                    self._database_down = True
                    log.warning("sandbox worker: database unavailable (%s); retrying", db.describe(exc))
            else:
                if self._database_down:
                    self._database_down = False
                    log.info("sandbox worker: database reachable again")
            self._wake.wait(self.interval)


_workers: list[SandboxWorker] = []  # started outside any app; an app's own are in its state (server/state.py)


def _in_process() -> list[SandboxWorker]:
    current = app_state.current()
    return _workers if current is None else current.workers.setdefault("sandbox", [])


def start_in_process(interval: float = 0.5) -> SandboxWorker:
    """Start the scheduler thread for the current app (or, outside any app, for the process)."""
    worker = SandboxWorker(interval)
    worker.start()
    _in_process().append(worker)
    return worker


def stop_in_process() -> None:
    workers = _in_process()
    while workers:
        workers.pop().stop()
