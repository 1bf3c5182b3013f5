"""The sandbox outbox: what the platform would have sent, for integrators to read (nothing in the sandbox is sent)."""

from sqlmodel import Session, col

from server.db.models.mail import OutboundMessage
from server.domain.errors import DomainError
from server.pagination import Page, paginate
from server.principal import Principal


def require_sandbox(principal: Principal) -> None:
    if principal.environment != "sandbox":
        raise DomainError("sandbox_only", "This operation exists only in the sandbox; use a sandbox credential.")


def list_page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    person_id: str | None,
    kind: str | None,
) -> Page[OutboundMessage]:
    require_sandbox(principal)
    where = [
        col(OutboundMessage.account_id) == principal.account_id,
        col(OutboundMessage.environment) == principal.environment,
    ]
    if person_id is not None:
        where.append(col(OutboundMessage.person_id) == person_id)
    if kind is not None:
        where.append(col(OutboundMessage.kind) == kind)
    filters = {"env": principal.environment, "person_id": person_id, "kind": kind}
    return paginate(
        session, OutboundMessage, where=where, list_name="sandbox_outbox", filters=filters, limit=limit, cursor=cursor
    )
