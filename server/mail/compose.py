"""What the messages say: Jinja2 templates in `server/mail/templates`, one per kind, channel and language
(`<kind>.<lang>.txt` / `.html`; WhatsApp: `<kind>.whatsapp.<lang>.txt`). HTML is autoescaped, plain text is not
(a `&` in an account's name must stay a `&`)."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("en", "de")

SUBJECTS = {
    ("invitation", "en"): "{account} invites you to receive royalty shares",
    ("invitation", "de"): "{account} lädt Sie ein, Tantiemenanteile zu erhalten",
    ("endpoint_disabled", "en"): "Webhook endpoint disabled: {url}",
    ("endpoint_disabled", "de"): "Webhook-Endpunkt deaktiviert: {url}",
    ("password_reset", "en"): "Reset your OG Records password",
    ("password_reset", "de"): "Ihr OG Records Passwort zurücksetzen",
    ("verify_email", "en"): "Confirm your email address for OG Records",
    ("verify_email", "de"): "Bestätigen Sie Ihre E-Mail-Adresse für OG Records",
    ("production_access_granted", "en"): "Production access granted for {account}",
    ("production_access_granted", "de"): "Produktionszugang für {account} freigeschaltet",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class ShareLine:
    """One offered share as the invitation shows it."""

    target: str  # "Release “Northern Lights”" / "Track “Polar Night”"
    role: str
    percent: str  # "50 %", "12.5 %"
    effective_from: date


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False, default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def language(value: str | None) -> str:
    return value if value in LANGUAGES else "en"


def render(kind: str, lang: str, *, html: bool = True, **context: Any) -> Rendered:
    lang = language(lang)
    env = _environment()
    text = env.get_template(f"{kind}.{lang}.txt").render(lang=lang, **context)
    body = env.get_template(f"{kind}.{lang}.html").render(lang=lang, **context) if html else None
    subject = SUBJECTS[(kind, lang)].format(**{k: v for k, v in context.items() if isinstance(v, str)})
    return Rendered(subject=subject, text=text, html=body)


def render_whatsapp(kind: str, lang: str, **context: Any) -> str:
    return _environment().get_template(f"{kind}.whatsapp.{language(lang)}.txt").render(**context).strip()


def percent(share_bps: int) -> str:
    whole, rest = divmod(share_bps, 100)
    return f"{whole} %" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + " %"


def day(value: date | datetime, lang: str) -> str:
    return value.strftime("%d.%m.%Y") if language(lang) == "de" else value.strftime("%Y-%m-%d")
