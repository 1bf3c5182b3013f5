"""Webhook endpoints: where a tenant's events are delivered, and the secrets they are signed with."""

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col

from server.db.engine import settings
from server.db.models.webhooks import WebhookEndpoint
from server.db.types import utcnow
from server.domain.errors import FieldError, not_found, validation_failed
from server.domain.webhook_endpoints import EndpointStatus, previous_secret_active
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate
from server.principal import Principal
from server.services import webhook_deliveries
from server.webhooks import signing_secrets
from server.webhooks.egress import address_allowed, is_loopback_host

DEFAULT_OVERLAP_SECONDS = 86400
REGISTRATION_DNS_SECONDS = 2.0
# A slow resolver must not hold a request: lookups run here and are abandoned after the timeout.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")
ALL_EVENTS = "*"


def create(session: Session, principal: Principal, fields: dict[str, Any]) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret in plain text (shown once, stored only encrypted)."""
    errors = url_errors(fields["url"], allow_loopback=settings().webhooks_allow_loopback)
    if errors:
        raise validation_failed(errors)
    secret = signing_secrets.generate()
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        account_id=principal.account_id,
        environment=principal.environment,
        url=fields["url"],
        enabled_events=normalised_events(fields["enabled_events"]),
        description=fields.get("description"),
        secret_ciphertext=signing_secrets.encrypt(secret, settings().secret_key),
        meta=dict(fields.get("metadata") or {}),
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def get(session: Session, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id) if has_prefix(endpoint_id, "we") else None
    if endpoint is None or (endpoint.account_id, endpoint.environment) != (principal.account_id, principal.environment):
        raise not_found("webhook endpoint", endpoint_id)
    return endpoint


def list_page(
    session: Session, principal: Principal, *, limit: int, cursor: str | None, status: str | None
) -> Page[WebhookEndpoint]:
    where = [
        col(WebhookEndpoint.account_id) == principal.account_id,
        col(WebhookEndpoint.environment) == principal.environment,
    ]
    if status is not None:
        where.append(col(WebhookEndpoint.status) == status)
    filters = {"status": status, "env": principal.environment}
    return paginate(
        session,
        WebhookEndpoint,
        where=where,
        list_name="webhook_endpoints",
        filters=filters,
        limit=limit,
        cursor=cursor,
    )


def update(session: Session, principal: Principal, endpoint_id: str, fields: dict[str, Any]) -> WebhookEndpoint:
    endpoint = get(session, principal, endpoint_id)
    errors = url_errors(fields["url"], allow_loopback=settings().webhooks_allow_loopback) if "url" in fields else []
    if errors:
        raise validation_failed(errors)
    if "url" in fields:
        endpoint.url = fields["url"]
    if "enabled_events" in fields:
        endpoint.enabled_events = normalised_events(fields["enabled_events"])
    if "description" in fields:
        endpoint.description = fields["description"]
    if "metadata" in fields:
        endpoint.meta = dict(fields["metadata"] or {})
    status = fields.get("status")
    if status == EndpointStatus.DISABLED and endpoint.status != EndpointStatus.DISABLED:
        disable(session, endpoint, reason="manual", moment=utcnow())
    elif status == EndpointStatus.ENABLED and endpoint.status != EndpointStatus.ENABLED:
        endpoint.status, endpoint.disabled_reason, endpoint.failing_since = EndpointStatus.ENABLED, None, None
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    session.flush()
    return endpoint


def delete(session: Session, principal: Principal, endpoint_id: str) -> None:
    # Deliveries and attempts go with it (ON DELETE CASCADE); a worker sending one right now records nothing.
    session.delete(get(session, principal, endpoint_id))
    session.flush()


def rotate_secret(
    session: Session, principal: Principal, endpoint_id: str, overlap_seconds: int
) -> tuple[WebhookEndpoint, str]:
    endpoint = get(session, principal, endpoint_id)
    now = utcnow()
    secret = signing_secrets.generate()
    if overlap_seconds > 0:
        # The current secret becomes the previous one; an older previous secret (from a rotation still in its
        # overlap) ends now: at most two secrets are ever active.
        endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
        endpoint.previous_secret_expires_at = now + timedelta(seconds=overlap_seconds)
    else:
        endpoint.previous_secret_ciphertext = None
        endpoint.previous_secret_expires_at = None
    endpoint.secret_ciphertext = signing_secrets.encrypt(secret, settings().secret_key)
    endpoint.updated_at = now
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def reveal_secret(session: Session, principal: Principal, endpoint_id: str) -> str:
    """The current signing secret in plain text, for its owner (the dashboard's "Reveal"; it is stored encrypted
    precisely because the signer, and the owner's verifier, need it back)."""
    endpoint = get(session, principal, endpoint_id)
    return signing_secrets.decrypt(endpoint.secret_ciphertext, settings().secret_key)


def active_secrets(endpoint: WebhookEndpoint, moment: datetime, server_key: str) -> list[str]:
    """The secrets a delivery at `moment` is signed with: the current one, and the previous one during an overlap."""
    secrets = [signing_secrets.decrypt(endpoint.secret_ciphertext, server_key)]
    if previous_secret_active(endpoint, moment):
        assert endpoint.previous_secret_ciphertext is not None
        secrets.append(signing_secrets.decrypt(endpoint.previous_secret_ciphertext, server_key))
    return secrets


def disable(session: Session, endpoint: WebhookEndpoint, *, reason: str, moment: datetime) -> None:
    """Stop deliveries to the endpoint; pending retries and scheduled attempts are dropped."""
    endpoint.status, endpoint.disabled_reason, endpoint.updated_at = EndpointStatus.DISABLED, reason, moment
    session.add(endpoint)
    webhook_deliveries.drop_pending(session, endpoint.id, moment)


def subscribes(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return ALL_EVENTS in endpoint.enabled_events or event_type in endpoint.enabled_events


def normalised_events(types: list[str]) -> list[str]:
    """`*` subsumes every other type: stored alone, so the endpoint reads back as what it receives."""
    return [ALL_EVENTS] if ALL_EVENTS in types else list(types)


def url_errors(url: str, *, allow_loopback: bool) -> list[FieldError]:
    """Why `url` cannot receive webhooks (unparsable, credentials, a fragment, not https, loopback unless allowed, a
    private or reserved address); empty when it can."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on an invalid port
    except ValueError:
        return [FieldError("invalid_url", "/url", "The URL cannot be parsed.")]
    if not host:
        return [FieldError("invalid_url", "/url", "The URL has no host.")]
    if parts.username is not None or parts.password is not None:
        return [FieldError("invalid_url", "/url", "The URL must not contain credentials.")]
    if parts.fragment:
        return [FieldError("invalid_url", "/url", "The URL must not contain a fragment.")]
    loopback = is_loopback_host(host)
    if loopback and not allow_loopback:
        return [FieldError("url_not_allowed", "/url", "Loopback addresses cannot receive webhooks.")]
    if parts.scheme != "https" and not loopback:
        return [FieldError("https_required", "/url", "Webhook URLs must use https.")]
    if not loopback and not _resolves_publicly(host):
        return [FieldError("url_not_allowed", "/url", "The host resolves to a private or reserved address.")]
    return []


def _resolves_publicly(host: str) -> bool:
    """False when the host is, or resolves to, an address deliveries may not reach.

    A name that does not resolve (yet), or not within 2 s, is accepted: its deliveries fail with `dns_failure` until
    it does. The check is repeated on every connection (server.webhooks.egress), so this is early feedback, not the
    guard.
    """
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        lookup = _resolver.submit(socket.getaddrinfo, host, 443, type=socket.SOCK_STREAM)
        try:
            infos = lookup.result(timeout=REGISTRATION_DNS_SECONDS)
        except (OSError, UnicodeError, TimeoutError):
            return True
        addresses = []
        for info in infos:
            try:
                addresses.append(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
            except ValueError:
                continue
    return all(address_allowed(address, allow_loopback=False) for address in addresses)
