"""`OGRecords` and `AsyncOGRecords`: one object holding the credential, the connection pool and every namespace."""

import os
from dataclasses import dataclass, field, replace
from typing import Literal, Self

import httpx

from og_records._generated.api.api_keys import ApiKeys, AsyncApiKeys
from og_records._generated.api.earnings import AsyncEarnings, Earnings
from og_records._generated.api.events import AsyncEvents, Events
from og_records._generated.api.inbound_webhooks import AsyncInboundWebhooks, InboundWebhooks
from og_records._generated.api.o_auth import AsyncOAuth, OAuth
from og_records._generated.api.payouts import AsyncPayouts, Payouts
from og_records._generated.api.persons import AsyncPersons, Persons
from og_records._generated.api.releases import AsyncReleases, Releases
from og_records._generated.api.sandbox import AsyncSandbox, Sandbox
from og_records._generated.api.smart_links import AsyncSmartLinks, SmartLinks
from og_records._generated.api.splits import AsyncSplits, Splits
from og_records._generated.api.system import AsyncSystem, System
from og_records._generated.api.tracks import AsyncTracks, Tracks
from og_records._generated.api.webhook_endpoints import AsyncWebhookEndpoints, WebhookEndpoints
from og_records._version import __version__
from og_records.webhooks import Webhooks

DEFAULT_BASE_URL = "https://api.og-records.com"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
Environment = Literal["sandbox", "production"]
_KEY_PREFIXES: dict[str, Environment] = {"og_test_": "sandbox", "og_live_": "production"}
_UNSET = object()


def environment_of(api_key: str) -> Environment:
    """The environment an API key acts on, from its prefix (`og_test_` sandbox, `og_live_` production)."""
    for prefix, environment in _KEY_PREFIXES.items():
        if api_key.startswith(prefix):
            return environment
    raise ValueError("An OG Records API key starts with og_test_ (sandbox) or og_live_ (production).")


@dataclass(frozen=True)
class _Options:
    api_key: str | None
    auth: httpx.Auth | None
    base_url: str
    max_retries: int
    timeout: httpx.Timeout
    webhook_secret: str | None
    default_headers: dict[str, str] = field(default_factory=dict)


def _options(
    *,
    api_key: str | None,
    auth: httpx.Auth | None,
    base_url: str | None,
    max_retries: int,
    timeout: float | httpx.Timeout,
    webhook_secret: str | None,
) -> _Options:
    if api_key is None and auth is None:
        api_key = os.environ.get("OG_RECORDS_API_KEY")
        if api_key is None:
            raise ValueError("Pass api_key=, or auth= (OAuth), or set OG_RECORDS_API_KEY.")
    if api_key is not None:
        environment_of(api_key)
    if max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    return _Options(
        api_key=api_key,
        auth=auth,
        base_url=(base_url or os.environ.get("OG_RECORDS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        max_retries=max_retries,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        webhook_secret=webhook_secret or os.environ.get("OG_RECORDS_WEBHOOK_SECRET"),
        default_headers={"User-Agent": f"og-records-python/{__version__}", "Accept": "application/json"},
    )


def _with(options: _Options, max_retries: object, timeout: object) -> _Options:
    changed = options
    if max_retries is not _UNSET:
        assert isinstance(max_retries, int)
        changed = replace(changed, max_retries=max_retries)
    if timeout is not _UNSET:
        assert isinstance(timeout, float | int | httpx.Timeout)
        changed = replace(changed, timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout))
    return changed


class OGRecords:
    """The OG Records API client.

    `OGRecords(api_key="og_test_…")` acts on sandbox data, `og_live_…` on production. Every operation of the API is a
    method of a namespace (`client.releases.create(...)`, `client.persons.list()`); errors raise
    `og_records.APIStatusError` subclasses; retryable failures are retried `max_retries` times.
    """

    releases: Releases
    tracks: Tracks
    splits: Splits
    persons: Persons
    sandbox: Sandbox
    earnings: Earnings
    payouts: Payouts
    smart_links: SmartLinks
    events: Events
    webhook_endpoints: WebhookEndpoints
    api_keys: ApiKeys
    oauth: OAuth
    inbound_webhooks: InboundWebhooks
    system: System
    webhooks: Webhooks

    def __init__(
        self,
        api_key: str | None = None,
        *,
        auth: httpx.Auth | None = None,
        base_url: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        webhook_secret: str | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        options = _options(
            api_key=api_key,
            auth=auth,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            webhook_secret=webhook_secret,
        )
        self._owns_http = http_client is None
        self._setup(options, http_client or httpx.Client(follow_redirects=False))

    def _setup(self, options: _Options, http: httpx.Client) -> None:
        self._options = options
        self._http = http
        self.releases = Releases(self)
        self.tracks = Tracks(self)
        self.splits = Splits(self)
        self.persons = Persons(self)
        self.sandbox = Sandbox(self)
        self.earnings = Earnings(self)
        self.payouts = Payouts(self)
        self.smart_links = SmartLinks(self)
        self.events = Events(self)
        self.webhook_endpoints = WebhookEndpoints(self)
        self.api_keys = ApiKeys(self)
        self.oauth = OAuth(self)
        self.inbound_webhooks = InboundWebhooks(self)
        self.system = System(self)
        self.webhooks = Webhooks(options.webhook_secret)

    @property
    def environment(self) -> Environment | None:
        """`sandbox` or `production` for an API key; None for an OAuth token (its grant decides)."""
        return environment_of(self._options.api_key) if self._options.api_key else None

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._options.timeout

    def with_options(
        self, *, max_retries: int | object = _UNSET, timeout: float | httpx.Timeout | object = _UNSET
    ) -> Self:
        """A copy for one call or a group of calls, sharing the connection pool:
        `client.with_options(max_retries=5).persons.create(...)`."""
        copy = object.__new__(type(self))
        copy._owns_http = False
        copy._setup(_with(self._options, max_retries, timeout), self._http)
        return copy

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class AsyncOGRecords:
    """The asyncio twin of `OGRecords`: the same namespaces, every method awaitable, lists `async for`-iterable."""

    releases: AsyncReleases
    tracks: AsyncTracks
    splits: AsyncSplits
    persons: AsyncPersons
    sandbox: AsyncSandbox
    earnings: AsyncEarnings
    payouts: AsyncPayouts
    smart_links: AsyncSmartLinks
    events: AsyncEvents
    webhook_endpoints: AsyncWebhookEndpoints
    api_keys: AsyncApiKeys
    oauth: AsyncOAuth
    inbound_webhooks: AsyncInboundWebhooks
    system: AsyncSystem
    webhooks: Webhooks

    def __init__(
        self,
        api_key: str | None = None,
        *,
        auth: httpx.Auth | None = None,
        base_url: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        webhook_secret: str | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        options = _options(
            api_key=api_key,
            auth=auth,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            webhook_secret=webhook_secret,
        )
        self._owns_http = http_client is None
        self._setup(options, http_client or httpx.AsyncClient(follow_redirects=False))

    def _setup(self, options: _Options, http: httpx.AsyncClient) -> None:
        self._options = options
        self._http = http
        self.releases = AsyncReleases(self)
        self.tracks = AsyncTracks(self)
        self.splits = AsyncSplits(self)
        self.persons = AsyncPersons(self)
        self.sandbox = AsyncSandbox(self)
        self.earnings = AsyncEarnings(self)
        self.payouts = AsyncPayouts(self)
        self.smart_links = AsyncSmartLinks(self)
        self.events = AsyncEvents(self)
        self.webhook_endpoints = AsyncWebhookEndpoints(self)
        self.api_keys = AsyncApiKeys(self)
        self.oauth = AsyncOAuth(self)
        self.inbound_webhooks = AsyncInboundWebhooks(self)
        self.system = AsyncSystem(self)
        self.webhooks = Webhooks(options.webhook_secret)

    @property
    def environment(self) -> Environment | None:
        return environment_of(self._options.api_key) if self._options.api_key else None

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._options.timeout

    def with_options(
        self, *, max_retries: int | object = _UNSET, timeout: float | httpx.Timeout | object = _UNSET
    ) -> Self:
        copy = object.__new__(type(self))
        copy._owns_http = False
        copy._setup(_with(self._options, max_retries, timeout), self._http)
        return copy

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
