"""Uploaded files: committing a streamed upload to the store and recording it (one row per tenant and digest)."""

from sqlmodel import Session, col, select

from server.db.models.files import File
from server.domain.errors import DomainError
from server.ids import new_id
from server.openapi.multipart import FilePart
from server.principal import Principal
from server.qc import sniff
from server.storage import FULL_RETRY_AFTER_SECONDS, StagedFile, is_full, store


def save_upload(
    session: Session, principal: Principal, part: FilePart, *, purpose: str, accepted: frozenset[str]
) -> File:
    """Commits the staged bytes under their digest; refuses content that is not one of `accepted` (415)."""
    detected = sniff.content_type(part.staged.head)
    if detected not in accepted:
        raise DomainError(
            "unsupported_media_type",
            f"The '{part.name}' part holds {detected}; send {' or '.join(sorted(accepted))}.",
        )
    return _record(session, principal, part.staged, part.filename, purpose=purpose, detected=detected)


def save_bytes(session: Session, principal: Principal, data: bytes, *, filename: str, purpose: str) -> File:
    """Stores bytes the server made itself (the demo seed's media)."""
    staged = store().stage()
    staged.write(data)
    staged.close()
    return _record(session, principal, staged, filename, purpose=purpose, detected=sniff.content_type(staged.head))


def storage_full() -> DomainError:
    return DomainError(
        "storage_full",
        "The file store has no space left for this upload; nothing was stored. Retry later.",
        headers={"Retry-After": str(FULL_RETRY_AFTER_SECONDS)},
    )


def _record(
    session: Session, principal: Principal, staged: StagedFile, filename: str | None, *, purpose: str, detected: str
) -> File:
    try:
        key = store().commit(staged)
    except OSError as exc:
        if is_full(exc):
            # Before any row is written: the transaction rolls back with nothing pointing at a missing file.
            raise storage_full() from exc
        raise
    existing = session.exec(
        select(File).where(
            col(File.account_id) == principal.account_id,
            col(File.environment) == principal.environment,
            col(File.sha256) == staged.sha256,
        )
    ).first()
    if existing is not None:
        # The same bytes again: one row, one stored copy. The new upload's name is what the client sees now.
        existing.filename = filename
        session.add(existing)
        return existing
    row = File(
        id=new_id("fil"),
        account_id=principal.account_id,
        environment=principal.environment,
        sha256=staged.sha256,
        size_bytes=staged.size,
        content_type=detected,
        filename=filename[:255] if filename else None,
        purpose=purpose,
        storage_key=key,
    )
    session.add(row)
    session.flush()
    return row
