"""Payee invitations: the link, the messages that carry it, and the payee's answers to the shares it offers.

The link is `/invitations/<token>`, the token a random nonce plus an HMAC under the server key ("signed": a forged
or truncated token is refused before any database read). Only its SHA-256 is stored. It expires after
`LINK_LIFETIME` and is single-use: once the payee has answered every share offered, the link is spent and a reuse
gets a clear "already used" page. (Opening the page does not spend it: link previews in mail and chat apps fetch
links before the person does.) A resend issues a new token, which makes every earlier link unknown.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from server import config, encryption
from server.db.models.accounts import Account
from server.db.models.mail import OutboundMessage
from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.splits import Split, SplitShare
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain.errors import FieldError, invalid_state, validation_failed
from server.domain.persons import InvitationStatus
from server.domain.splits import ShareStatus, SplitStatus
from server.mail import compose, outbox
from server.principal import Principal
from server.representations.persons import represent as represent_person
from server.representations.splits import represent as represent_split
from server.services import events, persons

LINK_LIFETIME = timedelta(days=14)
_SIGNING_CONTEXT = b"og-records/invitation-link/v1\0"
_IBAN_PURPOSE = "person-payout-iban"  # encryption purpose of persons.payout_iban_encrypted


class InvitationUnavailableError(Exception):
    """The link cannot be used: `unknown` (never issued, forged, or replaced by a resend), `expired`, `used`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OfferedShare:
    share: SplitShare
    split: Split
    kind: str  # release | track
    title: str


# --- the link ------------------------------------------------------------------------------------------------------


def _signature(nonce: str) -> str:
    key = config.active().secret_key.encode()
    digest = hmac.new(key, _SIGNING_CONTEXT + nonce.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _new_token() -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_signature(nonce)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(token: str) -> str:
    return f"{config.active().base_url}/invitations/{token}"


def resolve(session: Session, token: str, *, for_update: bool = False) -> Person:
    """The invited person behind a link, or `InvitationUnavailableError`."""
    nonce, _, signature = token.partition(".")
    if not nonce or not hmac.compare_digest(signature.encode(), _signature(nonce).encode()):
        raise InvitationUnavailableError("unknown")
    statement = select(Person).where(col(Person.invitation_token_hash) == token_hash(token))
    person = session.exec(statement.with_for_update() if for_update else statement).first()
    if person is None:
        raise InvitationUnavailableError("unknown")
    if person.invitation_used_at is not None:
        raise InvitationUnavailableError("used")
    if person.invitation_expires_at is None or person.invitation_expires_at <= utcnow():
        raise InvitationUnavailableError("expired")
    return person


# --- sending --------------------------------------------------------------------------------------------------------


def offered_shares(session: Session, person: Person) -> list[OfferedShare]:
    """The person's shares in splits in force (active versions), oldest first, with what each one splits."""
    rows = session.exec(
        select(SplitShare, Split)
        .join(Split, col(Split.id) == col(SplitShare.split_id))
        .where(col(SplitShare.person_id) == person.id, col(Split.status) == SplitStatus.ACTIVE)
        .order_by(col(SplitShare.id))
    ).all()
    offered = []
    for share, split in rows:
        if split.track_id:
            track = session.get(Track, split.track_id)
            offered.append(OfferedShare(share, split, "track", track.title if track else split.track_id))
        else:
            release = session.get(Release, split.release_id) if split.release_id else None
            offered.append(OfferedShare(share, split, "release", release.title if release else str(split.release_id)))
    return offered


def share_lines(offered: list[OfferedShare], lang: str) -> list[compose.ShareLine]:
    kinds = {"en": {"release": "Release", "track": "Track"}, "de": {"release": "Release", "track": "Titel"}}
    return [
        compose.ShareLine(
            target=f"{kinds[compose.language(lang)][item.kind]} “{item.title}”",
            role=item.share.role.replace("_", " "),
            percent=compose.percent(item.share.share_bps),
            effective_from=item.split.effective_from,
        )
        for item in offered
    ]


def issue(session: Session, person: Person) -> list[OutboundMessage]:
    """A new link for the person (earlier links stop working) and the messages that carry it, in the caller's
    transaction: by email, and by WhatsApp when the person has a phone and the account enabled it."""
    if person.email_undeliverable and not person.phone:
        raise invalid_state(
            "person",
            person.invitation_status,
            f"Email to {person.email} bounced or was refused; the invitation cannot be delivered.",
        )
    now = utcnow()
    token = _new_token()
    person.invitation_token_hash = token_hash(token)
    person.invitation_status = InvitationStatus.PENDING
    person.invited_at = now
    person.invitation_expires_at = now + LINK_LIFETIME
    person.invitation_used_at = None
    person.invitation_failure_reason = None
    person.updated_at = now
    session.add(person)
    session.flush()

    account = session.get(Account, person.account_id)
    account_name = account.name if account else "OG Records"
    lang = compose.language(person.language)
    context: dict[str, Any] = {
        "name": person.name,
        "account": account_name,
        "link": link(token),
        "expires": compose.day(person.invitation_expires_at, lang),
        "shares": share_lines(offered_shares(session, person), lang),
    }
    variables = {"person_id": person.id, "account_id": person.account_id}
    messages = []
    if not person.email_undeliverable:
        rendered = compose.render("invitation", lang, **context)
        messages.append(
            outbox.enqueue(
                session,
                account_id=person.account_id,
                environment=person.environment,
                channel=outbox.EMAIL,
                kind="invitation",
                recipient=person.email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                person_id=person.id,
                variables=variables,
            )
        )
    if person.phone and account is not None and account.whatsapp_notifications:
        messages.append(
            outbox.enqueue(
                session,
                account_id=person.account_id,
                environment=person.environment,
                channel=outbox.WHATSAPP,
                kind="invitation",
                recipient=person.phone,
                subject="",
                text=compose.render_whatsapp("invitation", lang, **context),
                person_id=person.id,
                variables=variables,
            )
        )
    return messages


def resend(session: Session, principal: Principal, person_id: str) -> Person:
    person = persons.get(session, principal, person_id)
    issue(session, person)
    return person


def delivery_failed(session: Session, message: OutboundMessage) -> None:
    """An invitation the provider refused for good (or after the last retry): the invitation failed, and the
    account sees why in getPerson. A WhatsApp failure alone leaves an emailed invitation pending."""
    person = session.get(Person, message.person_id) if message.person_id else None
    if person is None or person.invitation_status != InvitationStatus.PENDING or message.channel != outbox.EMAIL:
        return
    person.invitation_status = InvitationStatus.FAILED
    person.invitation_failure_reason = f"Email to {message.recipient} failed: {message.last_error}"[:500]
    person.updated_at = utcnow()
    session.add(person)
    session.flush()
    events.emit_for(
        session, person.account_id, person.environment, "person.invitation_failed", represent_person(person)
    )


# --- answering --------------------------------------------------------------------------------------------------------


def valid_iban(raw: str) -> str | None:
    """The IBAN in compact form when its shape and ISO 13616 check digits (mod 97) are right, else None."""
    compact = raw.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34 and compact.isalnum() and compact[:2].isalpha() and compact[2:4].isdigit()):
        return None
    rearranged = compact[4:] + compact[:4]
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    return compact if number % 97 == 1 else None


def needs_payout_details(person: Person) -> bool:
    """Production payees give an account holder and an IBAN before accepting; the sandbox never asks."""
    return person.environment == "production" and not (person.payout_account_holder and person.payout_iban_encrypted)


def set_payout_details(person: Person, holder: str, iban: str) -> None:
    errors = []
    if not holder.strip():
        errors.append(FieldError("required", "/account_holder", "Give the account holder's name."))
    compact = valid_iban(iban)
    if compact is None:
        errors.append(FieldError("invalid_iban", "/iban", "This is not a valid IBAN."))
    if errors:
        raise validation_failed(errors)
    assert compact is not None
    person.payout_account_holder = holder.strip()[:200]
    person.payout_iban_encrypted = encryption.encrypt(compact, config.active().secret_key, purpose=_IBAN_PURPOSE)


def answer(
    session: Session,
    person: Person,
    share: SplitShare,
    accepted: bool,
) -> None:
    """Accept or decline one pending share: the share changes, the event is written in the same transaction
    (`split.share_accepted` / `split.share_declined`), and an accepted share's held earnings are available at once
    (the balance holds only parts of shares that are not accepted)."""
    if share.person_id != person.id or share.acceptance_status != ShareStatus.PENDING:
        raise invalid_state("split_share", share.acceptance_status, "This share was answered already.")
    split = session.get(Split, share.split_id)
    if split is None or split.status != SplitStatus.ACTIVE:
        raise invalid_state("split", split.status if split else "missing", "This split was replaced by a new version.")
    now = utcnow()
    status = ShareStatus.ACCEPTED if accepted else ShareStatus.DECLINED
    # A conditional write, so two answers racing (a double click, two tabs) change the share and emit the event
    # once: the loser matches no row.
    changed = session.execute(
        update(SplitShare)
        .where(col(SplitShare.id) == share.id, col(SplitShare.acceptance_status) == ShareStatus.PENDING)
        .values(
            acceptance_status=status,
            accepted_at=now if accepted else None,
            declined_at=None if accepted else now,
            updated_at=now,
        )
    )
    if getattr(changed, "rowcount", 0) != 1:
        raise invalid_state("split_share", "answered", "This share was answered already.")
    session.refresh(share)
    if person.invitation_status in (InvitationStatus.PENDING, InvitationStatus.FAILED):
        person.invitation_status = InvitationStatus.ACCEPTED
        person.invitation_accepted_at = now
    person.updated_at = now
    session.add(person)
    session.flush()
    all_shares = session.exec(
        select(SplitShare).where(col(SplitShare.split_id) == split.id).order_by(col(SplitShare.id))
    ).all()
    events.emit_for(
        session,
        split.account_id,
        split.environment,
        "split.share_accepted" if accepted else "split.share_declined",
        represent_split(split, list(all_shares)),
        extra_data={
            "share": {
                "person_id": share.person_id,
                "role": share.role,
                "share_bps": share.share_bps,
                "acceptance_status": share.acceptance_status,
            }
        },
    )


def finish_if_answered(session: Session, person: Person) -> bool:
    """Spend the link once every offered share is answered; True when it was spent now."""
    offered = offered_shares(session, person)
    if not offered or any(item.share.acceptance_status == ShareStatus.PENDING for item in offered):
        return False
    person.invitation_used_at = utcnow()
    session.add(person)
    return True
