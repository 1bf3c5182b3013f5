"""An account's clock: real time plus the account's offset, in sandbox only.

A sandbox account has its own test clock, stored as an offset from real time on the account
(`accounts.sandbox_clock_offset_seconds`, moved by `server.services.sandbox_clock`). Production always reads real
time, whatever is stored. This module is the one place that rule is written; everything that needs an account's
clock — authentication of its credentials, its public smart-link pages, the workers acting for it, the sandbox
clock itself — asks here, and `server.clock` applies the offset to `now()`.
"""

from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from server import clock
from server.db.models.accounts import Account

SANDBOX = "sandbox"

_OFFSET = select(Account.sandbox_clock_offset_seconds).where(col(Account.id) == bindparam("account_id"))


def offset_seconds(environment: str, stored: int | None) -> int:
    """The rule: the stored offset in sandbox (none stored: 0), always 0 in production."""
    return int(stored or 0) if environment == SANDBOX else 0


def now_at(real_now: datetime, environment: str, stored: int | None) -> datetime:
    """The account's clock when real time reads `real_now`."""
    return real_now + timedelta(seconds=offset_seconds(environment, stored))


def offset_of(session: Session, account_id: str, environment: str) -> int:
    """The account's clock offset in `environment`: one indexed read in sandbox (an unknown account: 0), none in
    production."""
    if environment != SANDBOX:
        return 0
    return offset_seconds(environment, session.exec(_OFFSET, params={"account_id": account_id}).first())


def enter(session: Session, account_id: str, environment: str) -> None:
    """From here on in this context (a request's task), `server.clock.now()` reads the account's sandbox clock.
    Production leaves the clock as it is (real time)."""
    if environment == SANDBOX:
        clock.use_account_offset(offset_of(session, account_id, environment))
