"""The short path's hop to a worker thread (server/worker_threads.py): the caller's context goes with the call, the
function's result and errors come back, and a cancelled caller stops waiting while the function runs to its end."""

import asyncio
import contextvars
import threading

import pytest

from server import worker_threads

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def test_the_function_runs_in_another_thread_in_the_callers_context() -> None:
    def seen(suffix: str) -> tuple[str, bool]:
        return request_id.get() + suffix, threading.current_thread() is threading.main_thread()

    async def scenario() -> tuple[str, bool]:
        request_id.set("req_1")
        return await worker_threads.run(seen, suffix="!")

    assert asyncio.run(scenario()) == ("req_1!", False)


def test_a_change_to_the_context_in_the_thread_stays_there() -> None:
    def change() -> None:
        request_id.set("changed in the thread")

    async def scenario() -> str:
        request_id.set("req_2")
        await worker_threads.run(change)
        return request_id.get()

    assert asyncio.run(scenario()) == "req_2"


def test_the_functions_error_reaches_the_caller() -> None:
    def fail() -> None:
        raise LookupError("no such person")

    with pytest.raises(LookupError, match="no such person"):
        asyncio.run(worker_threads.run(fail))


def test_a_cancelled_caller_stops_waiting_and_the_function_still_runs_to_its_end() -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(5)
        finished.set()

    async def scenario() -> bool:
        call = asyncio.ensure_future(worker_threads.run(slow))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        return finished.is_set()

    assert asyncio.run(scenario()) is False  # the caller was let go before the function ended
    release.set()
    assert finished.wait(5)
