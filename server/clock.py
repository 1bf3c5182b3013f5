"""The platform's "now". Every rule that depends on time (key rotation grace, token lifetimes, retry schedules)
reads it from here, so tests can move time instead of waiting for it.

A sandbox account has its own test clock: an offset from real time, stored on the account
(`accounts.sandbox_clock_offset_seconds`). Wherever the account is known — authentication of a sandbox
credential, a worker acting for one account — `for_account()` makes `now()` read that account's clock for the rest
of the request or block, so every rule (settlement, pre-save switch, split versions, retries) follows the sandbox
clock without knowing about it. Production credentials never set an offset: production reads real time.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

_offset: list[timedelta] = [timedelta(0)]
_account_offset: ContextVar[timedelta] = ContextVar("og_account_clock_offset", default=timedelta(0))


def now() -> datetime:
    return datetime.now(UTC) + _offset[0] + _account_offset.get()


def real_now() -> datetime:
    """Now without any sandbox account's offset (the schedulers compare each account's clock against it)."""
    return datetime.now(UTC) + _offset[0]


def use_account_offset(seconds: float) -> None:
    """From here on in this context (a request's task), `now()` is the sandbox account's clock."""
    _account_offset.set(timedelta(seconds=seconds))


@contextmanager
def for_account(seconds: float) -> Iterator[None]:
    """Run a block on a sandbox account's clock (`seconds` ahead of real time)."""
    token = _account_offset.set(timedelta(seconds=seconds))
    try:
        yield
    finally:
        _account_offset.reset(token)


@contextmanager
def shifted(by: timedelta) -> Iterator[None]:
    """Run a block as if the clock were `by` later (tests only)."""
    _offset[0] += by
    try:
        yield
    finally:
        _offset[0] -= by
