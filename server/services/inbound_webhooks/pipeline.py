"""The one path every inbound provider webhook takes: verify → dedupe → record → apply.

A provider (`InboundProvider`, one small class per sender) knows its sender's signature scheme, the id the sender
repeats on a retry, what of an event is kept, and what the event changes. The pipeline knows the order and the
transactions:

1. `verify(headers, raw_body)` on the raw bytes, before anything is stored; it raises `InboundError` (a
   `DomainError`: the edge answers it like any other, with its code's catalogued status) or returns the delivery's
   verified events: usually one, none for a signed test ping, several for a batching sender (whapi).
2. Per event, in its own transaction: a receipt already stored under the provider's `dedupe_key` makes the event a
   duplicate; otherwise the receipt is inserted (a concurrent twin fails on the unique key and is a duplicate too)
   and `apply` runs in the same transaction, so an event changes things exactly once, and an event whose effect
   fails leaves no receipt behind: the sender's retry applies it.
3. A provider whose sender wants its answer fast (`apply_after_answer`, Wise) stores the receipt unprocessed; the
   edge runs `Outcome.after_answer` once the answer is sent, and `reprocess` catches up whatever that left undone.

Nothing here knows HTTP: headers come as a mapping with lower-case names, the answer is an `Outcome`.
"""

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server import strict_json
from server.db.engine import session_scope
from server.db.models.inbound import InboundWebhookReceipt
from server.db.types import utcnow
from server.domain.errors import DomainError
from server.services.inbound_webhooks import receipts

log = logging.getLogger("og.inbound")

E = TypeVar("E")


class InboundError(DomainError):
    """The delivery is refused before anything is stored. Each subclass names its code from the spec's
    `x-error-codes` (both are 400s there)."""

    error_code = "invalid_signature"

    def __init__(self, detail: str) -> None:
        super().__init__(self.error_code, detail)


class SignatureError(InboundError):
    """The signature, token or timestamp did not verify, or the sender is not configured here."""

    error_code = "invalid_signature"


class MalformedBodyError(InboundError):
    """The body is not the JSON object the sender signs."""

    error_code = "malformed_json"


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as the sender signed it (the framework has validated its shape already)."""
    try:
        document = strict_json.loads(raw)
    except strict_json.StrictJSONError as exc:
        raise MalformedBodyError(f"The request body is not acceptable JSON: {exc}.") from exc
    if not isinstance(document, dict):
        raise MalformedBodyError("The request body is not a JSON object.")
    return document


@dataclass(frozen=True)
class Receipt:
    """What is stored of one event besides the provider and its dedupe key."""

    event_type: str | None
    environment: str | None
    payload: dict[str, Any]


class InboundProvider(ABC, Generic[E]):
    """One sender. Subclasses set `name` (the receipts' `provider` column) and implement the four steps."""

    name: str
    # Apply after the answer is sent (the receipt is stored unprocessed first); then `stored_event` is needed.
    apply_after_answer: bool = False

    @abstractmethod
    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> Sequence[E]:
        """The delivery's verified events; raises `InboundError`. `headers` has lower-case names."""

    @abstractmethod
    def dedupe_key(self, event: E) -> str | None:
        """The sender's id for the event, repeated on every retry; None: the event cannot be kept (skipped)."""

    @abstractmethod
    def receipt(self, session: Session, event: E) -> Receipt:
        """What to store of the event (may look things up: whapi ties a message to persons)."""

    @abstractmethod
    def apply(self, session: Session, event: E) -> None:
        """What the event changes, in the receipt's transaction."""

    def stored_event(self, receipt: InboundWebhookReceipt) -> E:
        """The event again, from its stored receipt (providers that apply after the answer)."""
        raise NotImplementedError(f"{type(self).__name__} applies in the receipt's transaction")


@dataclass(frozen=True)
class Outcome:
    """`duplicate`: the delivery had events and every one was seen before (the answer's `duplicate`).
    `after_answer`: work the edge runs once the answer is sent (None when there is none)."""

    duplicate: bool
    after_answer: Callable[[], None] | None = None


def receive(provider: InboundProvider[E], headers: Mapping[str, str], raw_body: bytes) -> Outcome:
    """verify → (dedupe → record → apply) per event. Raises `InboundError` before storing anything."""
    events = provider.verify(headers, raw_body)
    fresh = 0
    pending: list[int] = []
    for event in events:
        key = provider.dedupe_key(event)
        if key is None:
            continue
        try:
            with session_scope() as session:
                if receipts.seen(session, provider.name, key):
                    continue
                receipt = _record(session, provider, key, event)
                if provider.apply_after_answer:
                    assert receipt.id is not None  # flushed
                    pending.append(receipt.id)
                else:
                    provider.apply(session, event)
        except _RecordedConcurrently:
            continue
        fresh += 1
    after = partial(apply_each, provider, tuple(pending)) if pending else None
    return Outcome(duplicate=bool(events) and fresh == 0, after_answer=after)


class _RecordedConcurrently(Exception):  # noqa: N818 - control flow, never escapes `receive`
    """A concurrent delivery of the same event inserted its receipt first."""


def _record(session: Session, provider: InboundProvider[E], key: str, event: E) -> InboundWebhookReceipt:
    """Insert the event's receipt, the first write of the transaction. A unique-key violation here means a twin
    won the race: the transaction is rolled back whole (nothing else was written yet) and the event is a duplicate.
    A failure of `apply` afterwards is not caught: everything rolls back and the sender's retry applies it again.
    (No savepoint: SQLite's driver would commit the receipt on releasing one that opened the transaction.)"""
    stored = provider.receipt(session, event)
    try:
        return receipts.record(
            session,
            provider.name,
            key,
            event_type=stored.event_type,
            environment=stored.environment,
            payload=stored.payload,
            processed=not provider.apply_after_answer,
        )
    except IntegrityError as exc:
        raise _RecordedConcurrently from exc


def apply_each(provider: InboundProvider[Any], receipt_ids: Sequence[int]) -> None:
    for receipt_id in receipt_ids:
        apply_stored(provider, receipt_id)


def apply_stored(provider: InboundProvider[Any], receipt_id: int) -> None:
    """Apply a stored, unprocessed receipt. A failure is kept on the receipt (`processed_at` stays empty, the error
    in `processing_error`) and `reprocess` tries it again."""
    try:
        with session_scope() as session:
            receipt = session.get(InboundWebhookReceipt, receipt_id, with_for_update=True)
            if receipt is None or receipt.processed_at is not None:
                return
            provider.apply(session, provider.stored_event(receipt))
            receipt.processed_at = utcnow()
            receipt.processing_error = None
            session.add(receipt)
    except Exception as exc:
        log.exception("%s receipt %s could not be processed", provider.name, receipt_id)
        with session_scope() as session:
            receipt = session.get(InboundWebhookReceipt, receipt_id)
            if receipt is not None:
                receipt.processing_error = repr(exc)[:2000]
                session.add(receipt)


def reprocess(provider: InboundProvider[Any], limit: int = 500) -> int:
    """Apply the provider's receipts still unprocessed (the server stopped before, or applying failed), oldest
    first. Returns how many were tried."""
    with session_scope() as session:
        ids = session.exec(
            select(InboundWebhookReceipt.id)
            .where(
                col(InboundWebhookReceipt.provider) == provider.name, col(InboundWebhookReceipt.processed_at).is_(None)
            )
            .order_by(col(InboundWebhookReceipt.received_at))
            .limit(limit)
        ).all()
    for receipt_id in ids:
        if receipt_id is not None:
            apply_stored(provider, receipt_id)
    return len(ids)
