"""The account's balance: what can be paid out now and what is held.

Everything is summed by the database (see `server.db.sums`), in the caller's session, so a payout request can
lock the account (`lock_account`), read `available_balance` and insert its payout in one transaction: two
concurrent requests then see each other's debit and can never overdraw.

The earnings side is read from the totals the importer maintains with the lines (`EarningsReportTotal` per report
time, `EarningsShareTotal` per report time and split share, see `server.db.models.earnings`), not from the lines:
the cost grows with the number of reports (and shares in force), not with the number of lines.

- Earnings are *settled* `SETTLEMENT_DELAY` after the store reported them (stores pay the distributor after
  reporting); until then the whole line is pending.
- Of a settled line, the parts allocated to split shares that are not `accepted` (pending or declined) are held;
  everything else (accepted shares, and lines with no split in force) is available.
- Payouts debit `available` from the moment they are requested; `failed`, `returned` and `cancelled` ones credit
  their amount back, so only the other states are subtracted.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import literal, update
from sqlmodel import Session, col, select

from server.db.models.accounts import Account
from server.db.models.earnings import EarningsReportTotal, EarningsShareTotal
from server.db.models.payouts import Payout
from server.db.models.splits import SplitShare
from server.db.sums import dialect_of, exact_sum, read_sum
from server.db.types import utcnow
from server.domain.payouts import blocking_state

SETTLEMENT_DELAY = timedelta(days=30)
MINIMUM_PAYOUT = Decimal("10.00")
# Payout states whose amount is back in the balance.
CREDITED_BACK = ("failed", "returned", "cancelled")


@dataclass(frozen=True)
class Balance:
    available: Decimal
    pending: Decimal
    currency: str
    minimum_payout: Decimal
    payouts_enabled: bool
    computed_at: datetime


def lock_account(session: Session, account_id: str) -> Account | None:
    """Serialise balance-changing transactions of one account; the account, read after the lock (None: unknown).

    A write as the transaction's first statement: PostgreSQL takes the row lock until commit, SQLite takes its
    database write lock before anything is read. (A `SELECT … FOR UPDATE` locks nothing on SQLite: two
    transactions would read the same balance and one of them fail on commit instead of waiting.)
    """
    session.exec(update(Account).where(col(Account.id) == account_id).values(updated_at=col(Account.updated_at)))
    return session.get(Account, account_id, populate_existing=True)


def account_currency(session: Session, account_id: str) -> str:
    account = session.get(Account, account_id)
    return account.default_currency if account else "EUR"


def payouts_enabled(session: Session, account_id: str, environment: str) -> bool:
    """Always in sandbox. Production needs a verified payee and payout details on file (the same rule
    requestPayout enforces, `server.domain.payouts.blocking_state`)."""
    account = session.get(Account, account_id)
    return account is not None and blocking_state(account, environment) is None


def compute(session: Session, account_id: str, environment: str) -> Balance:
    dialect = dialect_of(session)
    now = utcnow()
    cutoff = now - SETTLEMENT_DELAY
    currency = account_currency(session, account_id)
    report, share = EarningsReportTotal, EarningsShareTotal
    settled = col(report.reported_at) <= cutoff

    earned_settled, earned_unsettled = Decimal(0), Decimal(0)
    statement = (
        select(settled.label("settled"), exact_sum(dialect, col(report.amount)).label("total"))
        .where(
            col(report.account_id) == account_id,
            col(report.environment) == environment,
            col(report.account_currency) == literal(currency),
        )
        .group_by(settled)
    )
    for is_settled, total in session.exec(statement).all():
        if is_settled:
            earned_settled += read_sum(dialect, total)
        else:
            earned_unsettled += read_sum(dialect, total)

    held_statement = (
        select(exact_sum(dialect, col(share.amount)))
        .select_from(share)
        .join(SplitShare, col(SplitShare.id) == col(share.share_id))
        .where(
            col(share.account_id) == account_id,
            col(share.environment) == environment,
            col(share.account_currency) == literal(currency),
            col(share.reported_at) <= cutoff,
            col(SplitShare.acceptance_status) != "accepted",
        )
    )
    held = read_sum(dialect, session.exec(held_statement).one())

    debited_statement = select(exact_sum(dialect, col(Payout.amount))).where(
        col(Payout.account_id) == account_id,
        col(Payout.environment) == environment,
        col(Payout.currency) == currency,
        col(Payout.status).not_in(CREDITED_BACK),
    )
    debited = read_sum(dialect, session.exec(debited_statement).one())

    return Balance(
        available=earned_settled - held - debited,
        pending=earned_unsettled + held,
        currency=currency,
        minimum_payout=MINIMUM_PAYOUT,
        payouts_enabled=payouts_enabled(session, account_id, environment),
        computed_at=now,
    )


def available_balance(session: Session, account_id: str, environment: str) -> Decimal:
    """What a payout may take right now, in the account's currency (call `lock_account` first in the same
    transaction when about to debit it)."""
    return compute(session, account_id, environment).available
