"""The webhooks pages (Svix App Portal parity): endpoints (create, edit, enable/disable, delete, reveal and rotate
the signing secret), the event catalogue from the spec, the delivery log per endpoint with resend, recovery of a
time range and a test event. Every action calls the services the API's webhook operations call.
"""

import json
from datetime import timedelta
from functools import cache
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.db.models.events import Event
from server.db.models.webhooks import WebhookAttempt, WebhookEndpoint
from server.db.types import utcnow
from server.docs_site.build import reference_url
from server.domain.webhook_endpoints import previous_secret_active
from server.openapi.specification import raw_document
from server.problems import DomainError
from server.services import event_log, webhook_deliveries, webhook_endpoints
from server.services.web_sessions import Viewer
from server.web import pages
from server.web.dashboard.common import checked_form, field, forbidden, page, redirect, run, signed_in
from server.webhooks import ping

ROTATION_OVERLAP = timedelta(seconds=webhook_endpoints.DEFAULT_OVERLAP_SECONDS)
_RECOVERY_WINDOWS = {"1": timedelta(hours=1), "24": timedelta(hours=24), "168": timedelta(days=7)}


@cache
def catalogue() -> list[dict[str, Any]]:
    """Every event type the spec declares, with its description, the fields of its `data.object` and an example."""
    document = raw_document()
    schemas = document["components"]["schemas"]
    entries = []
    for name, item in document.get("webhooks", {}).items():
        operation = item["post"]
        content = operation["requestBody"]["content"]["application/json"]
        parts = content["schema"].get("allOf", [content["schema"]])
        obj: dict[str, Any] = {}
        for part in parts:
            obj = part.get("properties", {}).get("data", {}).get("properties", {}).get("object", obj)
        schema_name = obj["$ref"].rsplit("/", 1)[-1] if "$ref" in obj else None
        resolved = schemas.get(schema_name, {}) if schema_name else obj
        fields = [
            {
                "name": prop,
                "type": _type_of(spec),
                "description": (spec.get("description") or "").strip(),
                "required": prop in resolved.get("required", []),
            }
            for prop, spec in resolved.get("properties", {}).items()
        ]
        examples: dict[str, Any] = content.get("examples") or {}
        example = next(iter(examples.values()))["value"] if examples else content.get("example")
        entries.append(
            {
                "type": name,
                "description": (operation.get("description") or "").strip(),
                "schema_name": schema_name,
                "fields": fields,
                "example": json.dumps(example, indent=2, ensure_ascii=False) if example is not None else None,
                "reference": reference_url(operation),
            }
        )
    return entries


def _type_of(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return str(spec["$ref"].rsplit("/", 1)[-1])
    if "const" in spec:
        return json.dumps(spec["const"])
    if "enum" in spec:
        return " | ".join(json.dumps(value) for value in spec["enum"])
    kind = spec.get("type", "object")
    if kind == "array":
        return f"array of {_type_of(spec.get('items', {}))}"
    return " | ".join(kind) if isinstance(kind, list) else str(kind)


def _event_types() -> list[str]:
    return [entry["type"] for entry in catalogue() if entry["type"] != webhook_deliveries.TEST_EVENT]


def _fields_from(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    url = field(form, "url").strip()
    chosen = [value for value in form.getlist("events") if isinstance(value, str)]
    events = [webhook_endpoints.ALL_EVENTS] if field(form, "all_events") or not chosen else chosen
    errors = {} if url else {"url": "Enter the HTTPS URL that receives the events."}
    return {"url": url, "enabled_events": events, "description": field(form, "description").strip() or None}, errors


def _problem_errors(problem: DomainError) -> dict[str, str]:
    errors = {error.pointer.lstrip("/"): error.detail for error in problem.errors}
    return errors or {"url": problem.detail}


@signed_in
async def endpoints_page(request: Request, viewer: Viewer) -> Response:
    values: dict[str, Any] = {"url": "", "description": "", "events": [], "all_events": True}
    errors: dict[str, str] = {}
    status_code = 200
    if request.method == "POST":
        form = await checked_form(request)
        if form is None:
            return forbidden(request)
        fields, errors = _fields_from(form)
        if not errors:
            try:
                endpoint, secret = await run(
                    lambda session: webhook_endpoints.create(session, viewer.principal(), fields)
                )
                return await _endpoint_page(request, viewer, endpoint.id, secret=secret, shown_because="created")
            except DomainError as problem:
                errors = _problem_errors(problem)
        status_code = 422
        events = fields["enabled_events"]
        values = {
            "url": fields["url"],
            "description": fields["description"] or "",
            "events": events,
            "all_events": webhook_endpoints.ALL_EVENTS in events,
        }

    def read(session: Session) -> list[WebhookEndpoint]:
        found = webhook_endpoints.list_page(session, viewer.principal(), limit=100, cursor=None, status=None)
        return list(found.items)

    endpoints = await run(read)
    return page(
        request,
        "dashboard/webhooks.html",
        status_code=status_code,
        title="Webhooks",
        viewer=viewer,
        endpoints=endpoints,
        event_types=_event_types(),
        values=values,
        errors=errors,
    )


async def _endpoint_page(
    request: Request,
    viewer: Viewer,
    endpoint_id: str,
    *,
    secret: str | None = None,
    shown_because: str = "",
    notice: str | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    def read(session: Session) -> tuple[WebhookEndpoint, list[tuple[WebhookAttempt, str | None]]]:
        endpoint = webhook_endpoints.get(session, viewer.principal(), endpoint_id)
        moment = utcnow()
        attempts = webhook_deliveries.list_attempts(
            session, endpoint, limit=50, cursor=None, event_id=None, outcome=None, moment=moment
        ).items
        shown = []
        for attempt in attempts:
            event = session.get(Event, attempt.event_id)
            body = json.dumps(event.payload, indent=2, ensure_ascii=False) if event else None
            shown.append((attempt, body[:8000] if body else None))
        return endpoint, shown

    try:
        endpoint, attempts = await run(read)
    except DomainError:
        return pages.not_found("No such webhook endpoint in this environment.")
    overlap = previous_secret_active(endpoint, utcnow())
    return page(
        request,
        "dashboard/webhook_endpoint.html",
        status_code=status_code,
        title="Webhook endpoint",
        viewer=viewer,
        endpoint=endpoint,
        attempts=attempts,
        event_types=_event_types(),
        secret=secret,
        shown_because=shown_because,
        previous_until=endpoint.previous_secret_expires_at if overlap else None,
        notice=notice,
        error=error,
        errors=errors or {},
    )


def _endpoint_id(request: Request) -> str:
    return str(request.path_params["endpoint_id"])


@signed_in
async def endpoint_page(request: Request, viewer: Viewer) -> Response:
    endpoint_id = _endpoint_id(request)
    if request.method == "GET":
        return await _endpoint_page(request, viewer, endpoint_id)
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    fields, errors = _fields_from(form)
    if errors:
        return await _endpoint_page(request, viewer, endpoint_id, errors=errors, status_code=422)
    try:
        await run(lambda session: webhook_endpoints.update(session, viewer.principal(), endpoint_id, fields))
    except DomainError as problem:
        return await _endpoint_page(
            request, viewer, endpoint_id, errors=_problem_errors(problem), status_code=problem.status
        )
    return await _endpoint_page(request, viewer, endpoint_id, notice="Saved.")


@signed_in
async def set_status(request: Request, viewer: Viewer) -> Response:
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    endpoint_id, status = _endpoint_id(request), field(form, "status")
    if status not in ("enabled", "disabled"):
        return await _endpoint_page(request, viewer, endpoint_id, error="Choose enabled or disabled.", status_code=422)
    try:
        await run(
            lambda session: webhook_endpoints.update(session, viewer.principal(), endpoint_id, {"status": status})
        )
    except DomainError:
        return pages.not_found("No such webhook endpoint in this environment.")
    return await _endpoint_page(request, viewer, endpoint_id, notice=f"The endpoint is {status}.")


@signed_in
async def delete_endpoint(request: Request, viewer: Viewer) -> Response:
    endpoint_id = _endpoint_id(request)
    try:
        endpoint = await run(lambda session: webhook_endpoints.get(session, viewer.principal(), endpoint_id))
    except DomainError:
        return pages.not_found("No such webhook endpoint in this environment.")
    if request.method == "GET":
        return page(request, "dashboard/webhook_delete.html", title="Delete endpoint", viewer=viewer, endpoint=endpoint)
    if await checked_form(request) is None:
        return forbidden(request)
    await run(lambda session: webhook_endpoints.delete(session, viewer.principal(), endpoint_id))
    return redirect("/dashboard/webhooks")


@signed_in
async def reveal_secret(request: Request, viewer: Viewer) -> Response:
    # A POST (with the CSRF token), not a link: the secret never appears in a URL, a history or a referrer.
    if await checked_form(request) is None:
        return forbidden(request)
    endpoint_id = _endpoint_id(request)
    try:
        secret = await run(lambda session: webhook_endpoints.reveal_secret(session, viewer.principal(), endpoint_id))
    except DomainError:
        return pages.not_found("No such webhook endpoint in this environment.")
    return await _endpoint_page(request, viewer, endpoint_id, secret=secret, shown_because="revealed")


@signed_in
async def rotate_secret(request: Request, viewer: Viewer) -> Response:
    endpoint_id = _endpoint_id(request)
    if request.method == "GET":
        try:
            endpoint = await run(lambda session: webhook_endpoints.get(session, viewer.principal(), endpoint_id))
        except DomainError:
            return pages.not_found("No such webhook endpoint in this environment.")
        return page(
            request,
            "dashboard/webhook_rotate.html",
            title="Rotate signing secret",
            viewer=viewer,
            endpoint=endpoint,
            overlap_hours=int(ROTATION_OVERLAP.total_seconds() // 3600),
        )
    if await checked_form(request) is None:
        return forbidden(request)
    seconds = int(ROTATION_OVERLAP.total_seconds())
    try:
        _endpoint, secret = await run(
            lambda session: webhook_endpoints.rotate_secret(session, viewer.principal(), endpoint_id, seconds)
        )
    except DomainError:
        return pages.not_found("No such webhook endpoint in this environment.")
    return await _endpoint_page(request, viewer, endpoint_id, secret=secret, shown_because="rotated")


@signed_in
async def send_test(request: Request, viewer: Viewer) -> Response:
    if await checked_form(request) is None:
        return forbidden(request)
    endpoint_id = _endpoint_id(request)
    try:
        attempt = await run_in_threadpool(ping.send_test, viewer.principal(), endpoint_id)
    except DomainError as problem:
        return await _endpoint_page(request, viewer, endpoint_id, error=problem.detail, status_code=problem.status)
    answer = f"HTTP {attempt.response_status}" if attempt.response_status else (attempt.error or "no answer")
    return await _endpoint_page(request, viewer, endpoint_id, notice=f"Test event sent: {attempt.outcome} ({answer}).")


@signed_in
async def resend(request: Request, viewer: Viewer) -> Response:
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    endpoint_id, event_id = _endpoint_id(request), field(form, "event_id")

    def schedule(session: Session) -> None:
        principal = viewer.principal()
        moment = utcnow()
        endpoint = webhook_endpoints.get(session, principal, endpoint_id)
        event = event_log.get(session, principal, event_id, moment=moment)
        webhook_deliveries.resend(session, principal, event, endpoint, moment)

    try:
        await run(schedule)
    except DomainError as problem:
        return await _endpoint_page(request, viewer, endpoint_id, error=problem.detail, status_code=problem.status)
    return await _endpoint_page(request, viewer, endpoint_id, notice=f"{event_id} is scheduled to be sent again.")


@signed_in
async def recover(request: Request, viewer: Viewer) -> Response:
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    endpoint_id = _endpoint_id(request)
    window = _RECOVERY_WINDOWS.get(field(form, "hours"))
    if window is None:
        return await _endpoint_page(request, viewer, endpoint_id, error="Choose a time range.", status_code=422)

    def schedule(session: Session) -> int:
        moment = utcnow()
        endpoint = webhook_endpoints.get(session, viewer.principal(), endpoint_id)
        return webhook_deliveries.recover(session, endpoint, moment - window, None, moment)[2]

    try:
        count = await run(schedule)
    except DomainError as problem:
        return await _endpoint_page(request, viewer, endpoint_id, error=problem.detail, status_code=problem.status)
    return await _endpoint_page(request, viewer, endpoint_id, notice=f"{count} event(s) scheduled to be sent again.")


@signed_in
async def event_catalogue(request: Request, viewer: Viewer) -> Response:
    return page(request, "dashboard/event_catalogue.html", title="Event catalogue", viewer=viewer, events=catalogue())


_ENDPOINT = "/dashboard/webhooks/{endpoint_id}"
ROUTES = {
    "/dashboard/webhooks": (["GET", "POST"], endpoints_page),
    "/dashboard/webhooks/event-catalogue": (["GET"], event_catalogue),
    _ENDPOINT: (["GET", "POST"], endpoint_page),
    f"{_ENDPOINT}/status": (["POST"], set_status),
    f"{_ENDPOINT}/delete": (["GET", "POST"], delete_endpoint),
    f"{_ENDPOINT}/secret": (["POST"], reveal_secret),
    f"{_ENDPOINT}/rotate-secret": (["GET", "POST"], rotate_secret),
    f"{_ENDPOINT}/test": (["POST"], send_test),
    f"{_ENDPOINT}/resend": (["POST"], resend),
    f"{_ENDPOINT}/recover": (["POST"], recover),
}
