"""Payouts of the available balance, each carried out as exactly one Wise transfer.

Money safety, in order:
1. `reserve` runs in one short transaction that first takes the account's write lock (an UPDATE of its row: a row
   lock on PostgreSQL, the database write lock on SQLite), then reads the available balance and inserts the payout.
   Concurrent requests of one account queue on that lock, so each sees the payouts committed before it and the sum
   of payouts can never exceed the balance. The payout's amount leaves `available` the moment the row commits.
2. `send` calls Wise only after that commit, with the payout's fixed `customerTransactionId`: a crash or timeout
   between the two steps leaves a `requested` payout that `send_waiting` retries, and Wise answers a repeated
   transfer creation with the same transfer. No transfer is ever made for money that is not reserved.
3. Wise's events (`apply_transfer_state`) move the payout; they arrive out of order, so an event older than the
   last one applied is ignored and a payout never moves backwards.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlmodel import Session, col, select

from server import config, encryption
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.payouts import Payout
from server.db.types import utcnow
from server.domain.errors import DomainError, FieldError, invalid_state, not_found, validation_failed
from server.domain.money import currency_decimals
from server.domain.payouts import PayoutRequest, PayoutStatus, blocking_state
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate, tenant_list
from server.principal import Principal
from server.providers.wise import HttpWise, Recipient, SandboxWise, Transfer, WiseClient, WiseError
from server.representations.payouts import represent
from server.services import balance, events

log = logging.getLogger("og.payouts")

STATUSES = tuple(PayoutStatus)
FINAL = frozenset({PayoutStatus.FAILED, PayoutStatus.RETURNED, PayoutStatus.CANCELLED})
# Statuses whose amount has left the balance for good or for now; failed/returned/cancelled credit it back.
RESERVING = frozenset({PayoutStatus.REQUESTED, PayoutStatus.PROCESSING, PayoutStatus.PAID})

_MINIMUM_MAJOR_UNITS = Decimal(10)  # 10.00 EUR/USD/GBP: the low end of what distributors use, enough to cover fees


def minimum_payout(currency: str) -> Decimal:
    """The smallest payout in `currency` (also shown as the balance's `minimum_payout`)."""
    if currency_decimals(currency) == 0:
        return Decimal(1000)  # 10 major units would be pennies in JPY/KRW
    return _MINIMUM_MAJOR_UNITS.quantize(Decimal(1).scaleb(-currency_decimals(currency)))


def payouts_enabled(account: Account, environment: str) -> bool:
    return blocking_state(account, environment) is None


def _amount(amount: Decimal, decimals: int) -> tuple[Decimal | None, list[FieldError]]:
    if not amount.is_finite() or amount <= 0:
        return None, [FieldError("invalid_amount", "/amount", "The amount must be positive.")]
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        detail = f"The currency allows {decimals} decimal places."
        return None, [FieldError("too_many_decimals", "/amount", detail)]
    return amount, []


def reserve(session: Session, principal: Principal, fields: PayoutRequest) -> Payout:
    """Validate the request and reserve the amount as a `requested` payout (see the module docstring)."""
    account = balance.lock_account(session, principal.account_id)
    if account is None:
        raise not_found("account", principal.account_id)
    if principal.environment == "production" and not account.production_access:
        raise DomainError("production_access_not_enabled", "This account has no production access yet.")
    blocked = blocking_state(account, principal.environment)
    if blocked == "verification_required":
        raise invalid_state("payout", blocked, "Production payouts need a verified payee (KYC) first.")
    if blocked == "payout_details_missing":
        raise invalid_state("payout", blocked, "Production payouts need payout details (bank account) on file.")

    currency = account.default_currency
    decimals = currency_decimals(currency)
    errors: list[FieldError] = []
    if fields.currency != currency:
        detail = f"The balance is in {currency}; payouts are made in the balance's currency."
        errors.append(FieldError("currency_mismatch", "/currency", detail))
    amount: Decimal | None = None
    if fields.amount is not None:
        amount, amount_errors = _amount(fields.amount, decimals)
        errors += amount_errors
    minimum = minimum_payout(currency)
    if amount is not None and amount < minimum:
        errors.append(FieldError("below_minimum_payout", "/amount", f"The minimum payout is {minimum} {currency}."))
    if errors:
        raise validation_failed(errors)

    available = balance.available_balance(session, principal.account_id, principal.environment)
    quantum = Decimal(1).scaleb(-decimals)
    if amount is None:
        # The whole balance, rounded down to what a bank can receive; the fraction of a cent stays available.
        amount = available.quantize(quantum, rounding=ROUND_DOWN)
        if amount < minimum:
            raise DomainError(
                "insufficient_balance",
                f"The available balance of {_show(available, quantum)} {currency} is below the minimum payout of "
                f"{minimum} {currency}.",
            )
    if amount > available:
        raise DomainError(
            "insufficient_balance",
            f"The payout of {amount} {currency} exceeds the available balance of {_show(available, quantum)} "
            f"{currency}.",
        )
    now = utcnow()
    payout = Payout(
        id=new_id("pay"),
        account_id=principal.account_id,
        environment=principal.environment,
        amount=amount.quantize(quantum),
        currency=currency,
        status=PayoutStatus.REQUESTED,
        requested_at=now,
        created_at=now,
        updated_at=now,
        meta=dict(fields.metadata),
    )
    session.add(payout)
    session.flush()
    return payout


def _show(amount: Decimal, quantum: Decimal) -> Decimal:
    return amount.quantize(quantum, rounding=ROUND_DOWN)


def get(session: Session, principal: Principal, payout_id: str) -> Payout:
    payout = session.get(Payout, payout_id) if has_prefix(payout_id, "pay") else None
    if payout is None or (payout.account_id, payout.environment) != (principal.account_id, principal.environment):
        raise not_found("payout", payout_id)
    return payout


def list_page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    status: str | None,
    created_gte: datetime | None,
    created_lt: datetime | None,
) -> Page[Payout]:
    where, filters = tenant_list(Payout, principal, created_gte=created_gte, created_lt=created_lt)
    if status is not None:
        where.append(col(Payout.status) == status)
    filters["status"] = status
    return paginate(session, Payout, where=where, list_name="payouts", filters=filters, limit=limit, cursor=cursor)


# --- Wise -------------------------------------------------------------------------------------------------------


def wise_for(environment: str) -> WiseClient | None:
    """The Wise client of an environment; None when production has no Wise credentials configured."""
    if environment == "sandbox":
        return SandboxWise()
    settings = config.active()
    if not (settings.wise_api_token and settings.wise_profile_id):
        return None
    return HttpWise(
        base_url=settings.wise_api_url, api_token=settings.wise_api_token, profile_id=settings.wise_profile_id
    )


def reserve_and_announce(session: Session, principal: Principal, fields: PayoutRequest) -> Payout:
    """`reserve`, and `payout.requested` in the same transaction."""
    payout = reserve(session, principal, fields)
    events.emit(session, principal, "payout.requested", represent(payout))
    return payout


def request(principal: Principal, fields: PayoutRequest) -> str:
    """The whole request of a payout: reserve it in its own committed transaction, and only then ask Wise for the
    transfer. Returns the payout's id; the payout is `requested` (transfer not started yet) or further along."""
    with session_scope() as session:
        payout = reserve_and_announce(session, principal, fields)
    try:
        send(payout.id)
    except Exception:
        # The reservation is committed: failing the request now would invite a retry that reserves a second payout
        # (5xx answers are not replayed). The payout waits in `requested`; `og-server payouts retry` sends it.
        log.exception("payout %s reserved but its transfer could not be started", payout.id)
    return payout.id


@dataclass(frozen=True)
class _Order:
    payout_id: str
    environment: str
    customer_transaction_id: uuid.UUID
    amount: Decimal
    currency: str
    recipient: Recipient


def send(payout_id: str) -> None:
    """Create (or find again) the payout's Wise transfer, outside any transaction. Safe to call repeatedly."""
    with session_scope() as session:
        payout = session.get(Payout, payout_id)
        if payout is None or payout.status != PayoutStatus.REQUESTED or payout.provider_reference is not None:
            return
        account = session.get(Account, payout.account_id)
        assert account is not None
        order = _Order(
            payout.id,
            payout.environment,
            payout.customer_transaction_id,
            payout.amount,
            payout.currency,
            Recipient(
                account_holder=account.payout_account_holder or account.name,
                iban=payout_iban(account),
                wise_account_id=account.wise_recipient_id,
            ),
        )
    client = wise_for(order.environment)
    if client is None:
        log.warning("payout %s waits: Wise is not configured (OG_WISE_API_TOKEN, OG_WISE_PROFILE_ID)", payout_id)
        return
    try:
        transfer = client.create_transfer(
            customer_transaction_id=order.customer_transaction_id,
            amount=order.amount,
            currency=order.currency,
            recipient=order.recipient,
            reference=f"OG Records payout {order.payout_id}"[:35],
        )
    except WiseError as exc:
        if not exc.permanent:
            log.warning("payout %s: Wise transfer not created yet (%s); retried later", payout_id, exc)
            return
        with session_scope() as session:
            payout = session.get(Payout, payout_id, with_for_update=True)
            if payout is not None and payout.status == PayoutStatus.REQUESTED:
                _move(session, payout, PayoutStatus.FAILED, reason=f"Wise refused the transfer: {exc}")
        return
    finally:
        if isinstance(client, HttpWise):
            client.close()
    with session_scope() as session:
        payout = session.get(Payout, payout_id, with_for_update=True)
        if payout is None:
            return
        record_transfer(session, payout, transfer)


def record_transfer(session: Session, payout: Payout, transfer: Transfer) -> None:
    """Store the transfer Wise created for the payout and apply the states it reported (the sandbox's simulated
    transfer reports its whole path at once)."""
    payout.provider_reference = transfer.id
    payout.fee = transfer.fee
    payout.updated_at = utcnow()
    account = session.get(Account, payout.account_id)
    if account is not None and payout.environment == "production":
        account.wise_recipient_id = transfer.recipient_account_id
    session.add(payout)
    if payout.status == PayoutStatus.REQUESTED:
        _move(session, payout, PayoutStatus.PROCESSING)
    started = utcnow()
    for step, state in enumerate(transfer.simulated_states, start=1):
        apply_transfer_state(session, payout, state, occurred_at=started + timedelta(milliseconds=step))


def send_sandbox_inline(session: Session, payout: Payout) -> None:
    """The sandbox's simulated transfer, in the caller's transaction (mock data: the payout is not committed yet,
    so `send` could not see it). Production payouts always go through `send` after their commit."""
    if payout.environment != "sandbox":
        raise ValueError("only sandbox payouts are sent inline")
    transfer = SandboxWise().create_transfer(
        customer_transaction_id=payout.customer_transaction_id,
        amount=payout.amount,
        currency=payout.currency,
        recipient=Recipient(account_holder="Sandbox payee", iban="", wise_account_id=None),
        reference=f"OG Records payout {payout.id}"[:35],
    )
    record_transfer(session, payout, transfer)


def send_waiting(limit: int = 100) -> int:
    """Retry transfers of payouts still `requested` without a transfer (a crash, a Wise outage). Returns how many
    were tried."""
    with session_scope() as session:
        ids = session.exec(
            select(Payout.id)
            .where(col(Payout.status) == PayoutStatus.REQUESTED, col(Payout.provider_reference).is_(None))
            .order_by(col(Payout.id))
            .limit(limit)
        ).all()
    for payout_id in ids:
        send(payout_id)
    return len(ids)


# Wise transfer states (providers.md) and what they mean for the payout.
_IN_FLIGHT = frozenset(
    {
        "incoming_payment_waiting",
        "incoming_payment_initiated",
        "processing",
        "funds_converted",
        "waiting_recipient_input_to_proceed",
    }
)
_UNDONE = frozenset({"bounced_back", "cancelled", "funds_refunded", "charged_back", "unknown"})


def _target(payout: Payout, state: str, previous_state: str | None) -> PayoutStatus | None:
    if state in _IN_FLIGHT:
        return PayoutStatus.PROCESSING
    if state == "outgoing_payment_sent":
        return PayoutStatus.PAID
    if state in _UNDONE:
        # Money that reached the bank and came back is `returned`; a transfer stopped before that is `failed`
        # (bounced by the bank) or `cancelled`.
        if payout.status in {PayoutStatus.PAID, PayoutStatus.RETURNED} or previous_state == "outgoing_payment_sent":
            return PayoutStatus.RETURNED
        if state == "bounced_back":
            return PayoutStatus.FAILED
        if state == "funds_refunded" and payout.status == PayoutStatus.FAILED:
            return PayoutStatus.FAILED
        return PayoutStatus.CANCELLED
    return None


_RANK: dict[str, int] = {
    PayoutStatus.REQUESTED: 0,
    PayoutStatus.PROCESSING: 1,
    PayoutStatus.PAID: 2,
    PayoutStatus.FAILED: 3,
    PayoutStatus.RETURNED: 3,
    PayoutStatus.CANCELLED: 3,
}


def _allowed(current: str, target: PayoutStatus) -> bool:
    if current in FINAL:
        return False  # final: crediting back twice or reviving a failed payout would lose money
    return _RANK[target] > _RANK[current]


_REASONS = {
    PayoutStatus.FAILED: "The bank could not accept the transfer.",
    PayoutStatus.RETURNED: "The recipient's bank returned the payment.",
    PayoutStatus.CANCELLED: "The transfer was cancelled before it was sent.",
}


def apply_transfer_state(
    session: Session,
    payout: Payout,
    state: str,
    *,
    occurred_at: datetime,
    previous_state: str | None = None,
    reason: str | None = None,
) -> bool:
    """Apply one Wise transfer state reported at `occurred_at`. Returns whether the payout's status changed."""
    if payout.last_provider_event_at is not None and occurred_at <= payout.last_provider_event_at:
        return False  # older than what we applied already: out-of-order delivery
    payout.provider_state = state
    payout.last_provider_event_at = occurred_at
    payout.updated_at = utcnow()
    session.add(payout)
    target = _target(payout, state, previous_state)
    if target is None or not _allowed(payout.status, target):
        return False
    if target == PayoutStatus.PAID:
        payout.paid_at = occurred_at
    _move(session, payout, target, reason=reason or _REASONS.get(target))
    return True


def _move(session: Session, payout: Payout, target: PayoutStatus, *, reason: str | None = None) -> None:
    previous = payout.status
    payout.status = target
    payout.failure_reason = reason if target in FINAL else None
    payout.updated_at = utcnow()
    session.add(payout)
    session.flush()
    events.emit_for(
        session,
        payout.account_id,
        payout.environment,
        "payout.status_changed",
        represent(payout),
        previous_attributes={"status": previous},
    )


def find_by_transfer(session: Session, transfer_id: str) -> Payout | None:
    """The production payout of a Wise transfer (sandbox payouts never reach Wise), locked for the update."""
    return session.exec(
        select(Payout)
        .where(
            col(Payout.provider_reference) == transfer_id,
            col(Payout.provider) == "wise",
            col(Payout.environment) == "production",
        )
        .with_for_update()
    ).first()


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _occurred_at(data: dict[str, Any]) -> datetime | None:
    raw = data.get("occurred_at")
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def apply_wise_event(session: Session, event: dict[str, Any]) -> bool:
    """Apply one Wise event to its payout. Unknown transfers and event types are ignored (returns False)."""
    kind = event.get("event_type")
    data = _object(event.get("data"))
    resource = _object(data.get("resource"))
    transfer_id = resource.get("id", data.get("transfer_id"))
    occurred_at = _occurred_at(data)
    if transfer_id is None or occurred_at is None:
        return False
    payout = find_by_transfer(session, str(transfer_id))
    if payout is None:
        return False
    if kind == "transfers#state-change":
        state = data.get("current_state")
        if not isinstance(state, str):
            return False
        previous = data.get("previous_state") if isinstance(data.get("previous_state"), str) else None
        return apply_transfer_state(session, payout, state, occurred_at=occurred_at, previous_state=previous)
    if kind == "transfers#payout-failure":
        reason = data.get("failure_description") or data.get("failure_reason_code")
        return apply_transfer_state(
            session, payout, "bounced_back", occurred_at=occurred_at, reason=str(reason) if reason else None
        )
    if kind == "transfers#refund":
        return apply_transfer_state(session, payout, "funds_refunded", occurred_at=occurred_at)
    return False


_IBAN = "payout-iban"  # the encryption purpose of accounts.payout_iban_encrypted


def payout_iban(account: Account) -> str:
    """The payee's IBAN in plaintext ("" when none is on file)."""
    if not account.payout_iban_encrypted:
        return ""
    return encryption.decrypt(account.payout_iban_encrypted, config.active().secret_key, purpose=_IBAN)


def set_payout_details(
    session: Session,
    account_id: str,
    *,
    account_holder: str | None = None,
    iban: str | None = None,
    verified: bool | None = None,
) -> Account:
    """An operator records KYC and bank details (the platform has no self-service for them yet). New details
    mean a new Wise recipient."""
    account = session.get(Account, account_id)
    if account is None:
        raise not_found("account", account_id)
    if iban is not None:
        compact = iban.replace(" ", "").upper()
        if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit() and compact.isalnum()):
            raise DomainError("validation_failed", f"{iban!r} is not an IBAN.")
        account.payout_iban_encrypted = encryption.encrypt(compact, config.active().secret_key, purpose=_IBAN)
        account.wise_recipient_id = None
    if account_holder is not None:
        account.payout_account_holder = account_holder.strip()
        account.wise_recipient_id = None
    if verified is not None:
        account.payee_verified = verified
    account.updated_at = utcnow()
    session.add(account)
    return account
