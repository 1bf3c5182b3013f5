"""Retries: statuses and failures retried, Retry-After honoured, one Idempotency-Key for every try."""

import os
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from og_records import APIConnectionError, InternalServerError, OGRecords, RateLimitError
from og_records.models import Person, PersonCreate

PERSON = {
    "id": "per_" + "a" * 26,
    "object": "person",
    "environment": "sandbox",
    "name": "Ada",
    "email": "ada@example.com",
    "roles": [],
    "language": "en",
    "invitation_status": "not_invited",
    "invited_at": None,
    "invitation_expires_at": None,
    "invitation_failure_reason": None,
    "metadata": {},
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


class Script:
    """A mock API answering the given statuses in turn (then 201 with a person), recording every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return httpx.Response(201, json=PERSON)


def _client(script: Script, **options: object) -> OGRecords:
    return OGRecords(  # type: ignore[arg-type]
        api_key="og_test_abc",
        base_url="https://api.test",
        http_client=httpx.Client(transport=httpx.MockTransport(script)),
        **options,
    )


def _problem(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"status": status, "code": "x", "detail": "d"})


def _create(client: OGRecords) -> Person:
    return client.persons.create(body=PersonCreate(name="Ada", email="ada@example.com"))


def test_two_retries_by_default_with_one_idempotency_key() -> None:
    script = Script(_problem(503, **{"Retry-After": "0"}), _problem(429, **{"Retry-After": "0"}))
    with _client(script) as client:
        assert _create(client).id == PERSON["id"]
    assert len(script.requests) == 3
    keys = {request.headers["Idempotency-Key"] for request in script.requests}
    assert len(keys) == 1
    assert keys.pop()


def test_retry_after_is_honoured() -> None:
    script = Script(_problem(429, **{"Retry-After": "1"}))
    started = time.monotonic()
    with _client(script) as client:
        _create(client)
    assert time.monotonic() - started >= 0.95


def test_max_retries_per_client_and_per_call() -> None:
    script = Script(*[_problem(503, **{"Retry-After": "0"})] * 3)
    with _client(script, max_retries=0) as client:
        with pytest.raises(InternalServerError):
            _create(client)
        assert len(script.requests) == 1
        assert _create(client.with_options(max_retries=3)).id == PERSON["id"]
    assert len(script.requests) == 1 + 3


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    script = Script(_problem(status, **{"retry-after-ms": "1"}))
    with _client(script) as client:
        _create(client)
    assert len(script.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 501])
def test_final_statuses_are_not_retried(status: int) -> None:
    script = Script(_problem(status))
    with _client(script) as client, pytest.raises(Exception):  # noqa: B017, PT011 (the family is tested elsewhere)
        _create(client)
    assert len(script.requests) == 1


def test_connection_errors_and_timeouts_are_retried() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"))
    with _client(script) as client:
        assert _create(client).id == PERSON["id"]
    assert len(script.requests) == 3
    failing = Script(*[httpx.ConnectError("refused")] * 3)
    with _client(failing) as client, pytest.raises(APIConnectionError):
        _create(client)
    assert len(failing.requests) == 3


def test_an_explicit_idempotency_key_is_kept() -> None:
    script = Script(_problem(503, **{"Retry-After": "0"}))
    with _client(script) as client:
        client.persons.create(body=PersonCreate(name="Ada", email="ada@example.com"), idempotency_key="mine-1")
    assert [r.headers["Idempotency-Key"] for r in script.requests] == ["mine-1", "mine-1"]


class _Injector:
    """A proxy in front of the live server that answers 503 to the first `failures` requests, forwarding the rest."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.upstream = upstream
        self.failures = failures
        self.seen: list[dict[str, str]] = []
        injector = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                injector.seen.append(dict(self.headers))
                if len(injector.seen) <= injector.failures:
                    payload = b'{"status":503,"code":"unavailable","detail":"injected"}'
                    self.send_response(503)
                    self.send_header("Content-Type", "application/problem+json")
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
                answer = httpx.request(self.command, injector.upstream + self.path, headers=headers, content=body)
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in {"content-length", "transfer-encoding", "connection", "content-encoding"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _handle  # noqa: N815

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def injector(base_url: str) -> Iterator[_Injector]:
    proxy = _Injector(base_url, failures=2)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.server.shutdown()
    proxy.server.server_close()
    thread.join()


def test_an_injected_503_is_retried_against_the_live_server(injector: _Injector, api_key: str, base_url: str) -> None:
    unique = uuid.uuid4().hex[:10]
    with OGRecords(api_key=api_key, base_url=injector.url) as through_proxy:
        person = through_proxy.persons.create(
            body=PersonCreate(name=f"Retry {unique}", email=f"r-{unique}@example.com")
        )
    assert len(injector.seen) == 3
    assert len({headers["Idempotency-Key"] for headers in injector.seen}) == 1
    with OGRecords(api_key=api_key, base_url=base_url) as direct:
        assert direct.persons.get(person.id).name == f"Retry {unique}"


def test_the_servers_real_429_is_retried(base_url: str) -> None:
    """A dedicated key (its own budget), exhausted against the real limiter: test_sdk_wheel.py runs the server with
    OG_RATE_LIMIT_MULTIPLIER=2, so the sandbox burst is 120 requests and the wait for the next one about a second."""
    key = os.environ["OG_SDK_TEST_RATE_LIMIT_KEY"]
    with OGRecords(api_key=key, base_url=base_url, max_retries=0) as client:
        limited: RateLimitError | None = None
        for _ in range(400):
            try:
                client.persons.list(limit=1)
            except RateLimitError as exc:
                limited = exc
                break
        assert limited is not None, "the server answered no 429 within 400 requests"
        assert limited.status == 429
        assert limited.code == "rate_limited"
        assert limited.retry_after is not None
        assert 0 < limited.retry_after <= 60
        patient = client.with_options(max_retries=3)
        assert patient.persons.list(limit=1).data is not None
