"""Reading events back: the last 30 days of a tenant's events (older ones are purged by the delivery worker)."""

from datetime import datetime

from sqlmodel import Session, col

from server.db.models.events import Event
from server.domain.errors import not_found
from server.ids import has_prefix
from server.pagination import Page, paginate, tenant_list
from server.principal import Principal
from server.services.webhook_deliveries import RETENTION


def get(session: Session, principal: Principal, event_id: str, *, moment: datetime) -> Event:
    event = session.get(Event, event_id) if has_prefix(event_id, "evt") else None
    if (
        event is None
        or (event.account_id, event.environment) != (principal.account_id, principal.environment)
        or event.created_at < moment - RETENTION
    ):
        raise not_found("event", event_id)
    return event


def list_page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    event_type: str | None,
    created_gte: datetime | None,
    created_lt: datetime | None,
    moment: datetime,
) -> Page[Event]:
    where, filters = tenant_list(Event, principal, created_gte=created_gte, created_lt=created_lt)
    where.append(col(Event.created_at) >= moment - RETENTION)
    if event_type is not None:
        where.append(col(Event.type) == event_type)
    filters["type"] = event_type
    return paginate(session, Event, where=where, list_name="events", filters=filters, limit=limit, cursor=cursor)
