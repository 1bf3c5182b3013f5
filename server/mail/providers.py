"""The providers' wire formats. Each `send` either returns the provider's message id or raises `SendError`, which
says whether trying again can help (`permanent=False`: network errors, 429, 5xx)."""

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from server.config import Settings

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAILGUN_HOSTS = {"eu": "https://api.eu.mailgun.net", "us": "https://api.mailgun.net"}


class SendError(Exception):
    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.detail = detail[:500]
        self.permanent = permanent


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None
    tag: str
    variables: dict[str, Any] = field(default_factory=dict)


class EmailProvider(Protocol):
    def send(self, email: Email) -> str: ...


class WhatsAppProvider(Protocol):
    def send_text(self, to: str, body: str) -> str: ...


def _post(client: httpx.Client | None, url: str, **options: Any) -> httpx.Response:
    """One POST; without a shared client, a short-lived one (messages are few, and nothing stays open)."""
    if client is not None:
        return client.post(url, **options)
    with httpx.Client(timeout=TIMEOUT, trust_env=False) as own:
        return own.post(url, **options)


def _classify(response: httpx.Response, provider: str) -> SendError:
    try:
        message = str(response.json().get("message") or response.json().get("error") or "")
    except ValueError:
        message = response.text[:200]
    detail = f"{provider} answered {response.status_code}" + (f": {message}" if message else "")
    # 429 and 5xx pass; any other 4xx (bad address, unknown domain, wrong key) will fail the same way again.
    return SendError(detail, permanent=response.status_code != 429 and response.status_code < 500)


class Mailgun:
    """Mailgun's HTTP API: `POST {host}/v3/{domain}/messages`, basic auth `api:<key>`, form fields."""

    def __init__(
        self, *, api_key: str, domain: str, sender: str, base_url: str, client: httpx.Client | None = None
    ) -> None:
        self._auth = ("api", api_key)
        self._url = f"{base_url.rstrip('/')}/v3/{domain}/messages"
        self._sender = sender
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> "Mailgun | None":
        if not (settings.mailgun_api_key and settings.mailgun_domain):
            return None
        base = settings.mailgun_api_url or MAILGUN_HOSTS.get(settings.mailgun_region, MAILGUN_HOSTS["eu"])
        return cls(
            api_key=settings.mailgun_api_key,
            domain=settings.mailgun_domain,
            sender=settings.mail_from,
            base_url=base,
        )

    def send(self, email: Email) -> str:
        form: dict[str, str] = {
            "from": self._sender,
            "to": email.to,
            "subject": email.subject,
            "text": email.text,
            "o:tag": email.tag,
        }
        if email.html:
            form["html"] = email.html
        # Custom variables come back in Mailgun's webhooks (which person, which message).
        form.update({f"v:{name}": str(value) for name, value in email.variables.items()})
        try:
            response = _post(self._client, self._url, data=form, auth=self._auth)
        except httpx.HTTPError as exc:
            raise SendError(f"Mailgun unreachable: {type(exc).__name__}", permanent=False) from exc
        if response.status_code != 200:
            raise _classify(response, "Mailgun")
        return str(response.json().get("id") or "")


class Whapi:
    """whapi.cloud's send API: `POST {base}/messages/text`, bearer channel token, JSON `{to, body}`."""

    def __init__(self, *, token: str, base_url: str, client: httpx.Client | None = None) -> None:
        self._headers = {"Authorization": f"Bearer {token}"}
        self._url = f"{base_url.rstrip('/')}/messages/text"
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> "Whapi | None":
        if not settings.whapi_api_token:
            return None
        return cls(token=settings.whapi_api_token, base_url=settings.whapi_api_url)

    def send_text(self, to: str, body: str) -> str:
        # whapi wants the E.164 digits without `+` (or a chat id).
        digits = "".join(ch for ch in to if ch.isdigit())
        try:
            response = _post(self._client, self._url, json={"to": digits, "body": body}, headers=self._headers)
        except httpx.HTTPError as exc:
            raise SendError(f"whapi.cloud unreachable: {type(exc).__name__}", permanent=False) from exc
        if response.status_code >= 300:
            raise _classify(response, "whapi.cloud")
        document = response.json()
        if not document.get("sent"):
            raise SendError("whapi.cloud did not send the message", permanent=False)
        return str((document.get("message") or {}).get("id") or "")
