"""Configuration, read once from `OG_*` environment variables. docs/configuration.md lists every variable."""

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from server import state as app_state


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    base_url: str
    # Responses are validated against the spec in tests and development; production trusts the handlers.
    validate_responses: bool
    max_body_bytes: int
    max_upload_bytes: int
    log_level: str
    log_json: bool
    webhooks_allow_loopback: bool
    secret_key: str = field(repr=False)
    # Scales every rate limit and burst (tests and load tests raise it; 1 is the product's published limits).
    rate_limit_multiplier: float = 1.0
    # Namespace of the rate-limit keys in Redis (several deployments or test runs can share one Redis).
    rate_limit_prefix: str = "og:rl"
    # Run audio/cover QC in a thread of the server process; off when a separate worker process runs it.
    qc_in_process: bool = True
    # Run a webhook delivery worker inside each API process (`og-server serve`); off for separate workers.
    webhooks_embedded_worker: bool = False
    # Wise (production payouts): REST base URL, API token and the business profile that pays. Without a token,
    # production payouts are reserved but wait in `requested` until Wise is configured (sandbox never calls Wise).
    wise_api_url: str = "https://api.wise.com"
    wise_api_token: str | None = field(default=None, repr=False)
    wise_profile_id: str | None = None
    # Inbound webhook verification. Unset: that sender's deliveries are refused (nothing can verify them).
    wise_webhook_public_key: str | None = None  # PEM of Wise's public key (sandbox and production keys differ)
    stripe_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)  # whsec_…; two during a roll
    mailgun_webhook_signing_key: str | None = field(default=None, repr=False)
    whapi_webhook_tokens: tuple[str, ...] = field(default=(), repr=False)  # one per whapi.cloud channel
    # Standard Webhooks secrets (`whsec_…`) of the DSP sub-distributor's inbound webhook: one per partner (and a
    # second one while a partner rolls its secret); a delivery verifies if it is signed with any of them.
    dsp_sync_secrets: tuple[str, ...] = field(default=(), repr=False)
    # The simulated sub-distributor (sandbox only): how long a submitted sandbox release takes from `submitted` to
    # every store `live`, and whether this process runs the scheduler that moves it (server.sandbox_worker).
    sandbox_timeline_seconds: float = 60.0
    # Whether a new account's sandbox gets mock data when the caller does not say (server.services.mock_data).
    sandbox_mock_data: bool = True
    sandbox_simulator_in_process: bool = True
    # Outbound mail (server/mail): Mailgun's HTTP API in production. Without an API key and domain, messages stay in
    # the local outbox (`og-server mail list`). The sandbox never sends.
    mailgun_api_key: str | None = field(default=None, repr=False)
    mailgun_domain: str | None = None
    mailgun_region: str = "eu"  # eu | us: which Mailgun API host the domain lives on
    mailgun_api_url: str | None = None  # overrides the region's host (a local stand-in in tests)
    mail_from: str = "OG Records <no-reply@og-records.com>"
    # WhatsApp (whapi.cloud) as a second channel for invitations, for accounts that enabled it.
    whapi_api_token: str | None = field(default=None, repr=False)
    whapi_api_url: str = "https://gate.whapi.cloud"
    # Serve plain path-only GETs beside connexion (server/openapi/fast_reads.py); off only to compare the two paths.
    fast_reads: bool = True
    # Serve plain JSON writes there too (server/openapi/fast_writes.py); needs fast_reads; off only to compare.
    fast_writes: bool = True
    # Database timeouts (seconds): establishing a connection (TCP and handshake), one statement (PostgreSQL's
    # statement_timeout), waiting for a pooled connection. Past them a request answers 503 database_unavailable
    # instead of hanging (issue 23 #2).
    db_connect_timeout: float = 5.0
    db_statement_timeout: float = 30.0
    db_pool_timeout: float = 10.0
    # A safety net above those (server.middleware.RequestDeadlineMiddleware): a request without a response after
    # this many seconds gets 503 request_timeout; 0 turns it off. Uploads and responses under way are not cut.
    request_timeout: float = 60.0
    # Freeze the objects built at startup out of the garbage collector's full passes (server.app.background_work).
    # A server starts once and lives long; an in-process test client starts once per test, where the full collection
    # before the freeze costs more than it ever saves, so the test settings turn it off.
    freeze_gc_at_start: bool = True
    # Where fans open smart-link pages (`<this>/l/<slug>`) and their artwork: a short domain routed to this server,
    # or, unset, `base_url`.
    public_link_base_url: str = ""

    @property
    def public_links(self) -> str:
        return self.public_link_base_url or self.base_url

    @classmethod
    def from_env(cls) -> "Settings":
        data_dir = Path(os.environ.get("OG_DATA_DIR") or Path.cwd() / "var").resolve()
        database_url = os.environ.get("OG_DATABASE_URL") or f"sqlite:///{data_dir / 'og.sqlite3'}"
        return cls(
            data_dir=data_dir,
            database_url=_normalise_database_url(database_url),
            redis_url=os.environ.get("OG_REDIS_URL") or None,
            base_url=(os.environ.get("OG_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            validate_responses=_flag("OG_VALIDATE_RESPONSES", False),
            max_body_bytes=_int("OG_MAX_BODY_BYTES", 1024 * 1024),
            max_upload_bytes=_int("OG_MAX_UPLOAD_BYTES", 512 * 1024 * 1024),
            log_level=os.environ.get("OG_LOG_LEVEL", "INFO").upper(),
            log_json=_flag("OG_LOG_JSON", True),
            webhooks_allow_loopback=_flag("OG_WEBHOOKS_ALLOW_LOOPBACK", False),
            secret_key=os.environ.get("OG_SECRET_KEY") or _local_secret_key(data_dir),
            rate_limit_multiplier=float(os.environ.get("OG_RATE_LIMIT_MULTIPLIER") or 1),
            rate_limit_prefix=os.environ.get("OG_RATE_LIMIT_PREFIX") or "og:rl",
            qc_in_process=_flag("OG_QC_IN_PROCESS", True),
            sandbox_timeline_seconds=float(os.environ.get("OG_SANDBOX_TIMELINE_SECONDS") or 60),
            sandbox_simulator_in_process=_flag("OG_SANDBOX_SIMULATOR_IN_PROCESS", True),
            sandbox_mock_data=_flag("OG_SANDBOX_MOCK_DATA", True),
            webhooks_embedded_worker=_flag("OG_WEBHOOKS_EMBEDDED_WORKER", True),
            wise_api_url=(os.environ.get("OG_WISE_API_URL") or "https://api.wise.com").rstrip("/"),
            wise_api_token=os.environ.get("OG_WISE_API_TOKEN") or None,
            wise_profile_id=os.environ.get("OG_WISE_PROFILE_ID") or None,
            wise_webhook_public_key=_pem(os.environ.get("OG_WISE_WEBHOOK_PUBLIC_KEY")),
            stripe_webhook_secrets=_list(os.environ.get("OG_STRIPE_WEBHOOK_SECRETS")),
            mailgun_webhook_signing_key=os.environ.get("OG_MAILGUN_WEBHOOK_SIGNING_KEY") or None,
            whapi_webhook_tokens=_list(os.environ.get("OG_WHAPI_WEBHOOK_TOKENS")),
            dsp_sync_secrets=tuple((os.environ.get("OG_DSP_SYNC_SECRETS") or "").replace(",", " ").split()),
            fast_reads=_flag("OG_FAST_READS", True),
            fast_writes=_flag("OG_FAST_WRITES", True),
            db_connect_timeout=float(os.environ.get("OG_DB_CONNECT_TIMEOUT") or 5),
            db_statement_timeout=float(os.environ.get("OG_DB_STATEMENT_TIMEOUT") or 30),
            db_pool_timeout=float(os.environ.get("OG_DB_POOL_TIMEOUT") or 10),
            request_timeout=float(os.environ.get("OG_REQUEST_TIMEOUT") or 60),
            mailgun_api_key=os.environ.get("OG_MAILGUN_API_KEY") or None,
            mailgun_domain=os.environ.get("OG_MAILGUN_DOMAIN") or None,
            mailgun_region=(os.environ.get("OG_MAILGUN_REGION") or "eu").strip().lower(),
            mailgun_api_url=(os.environ.get("OG_MAILGUN_API_URL") or "").rstrip("/") or None,
            mail_from=os.environ.get("OG_MAIL_FROM") or "OG Records <no-reply@og-records.com>",
            whapi_api_token=os.environ.get("OG_WHAPI_API_TOKEN") or None,
            whapi_api_url=(os.environ.get("OG_WHAPI_API_URL") or "https://gate.whapi.cloud").rstrip("/"),
            public_link_base_url=(os.environ.get("OG_PUBLIC_LINK_BASE_URL") or "").rstrip("/"),
        )


def _list(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


def _pem(raw: str | None) -> str | None:
    """A PEM given inline (newlines may be written as `\\n`) or the path of a PEM file."""
    if not raw:
        return None
    if "-----BEGIN" in raw:
        return raw.replace("\\n", "\n")
    return Path(raw).read_text()


def _normalise_database_url(url: str) -> str:
    """Accept the common `postgresql://` spelling and use the psycopg 3 driver for it."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _local_secret_key(data_dir: Path) -> str:
    """A per-installation key for encrypting reusable secrets, kept in the data directory (zero set-up).

    Production sets OG_SECRET_KEY instead, so every server process shares one key.
    """
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # O_EXCL: two processes starting at once must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


_active: list[Settings] = []  # the process default (outside any app)


def activate(settings: Settings) -> None:
    """Make these the process's settings: what `active()` gives outside any app (the app factory sets them too)."""
    _active[:] = [settings]


def active() -> Settings:
    """The settings of the app handling this request or running this work (server/state.py), else the process's."""
    state = app_state.current()
    if state is not None:
        return state.settings
    if not _active:
        raise RuntimeError("no settings are active: build the app with server.app.create_app()")
    return _active[0]
