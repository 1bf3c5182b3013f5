"""The demo account `og-server serve` creates on first start: realistic sandbox data to try the API on."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from server import storage
from server.api.persons import represent
from server.config import Settings
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.principal import Principal
from server.scopes import SCOPES, effective
from server.seed_catalogue import seed_catalogue
from server.seed_money import seed_money
from server.seed_payouts import seed_payouts
from server.services import accounts, api_keys, events, persons

DEMO_EMAIL = "demo@og-records.test"

_PERSONS: list[dict[str, Any]] = [
    {
        "name": "Mara Lindqvist",
        "legal_name": "Mara Sofia Lindqvist",
        "email": "mara@example.com",
        "roles": ["artist", "composer", "lyricist"],
        "invite": True,
    },
    {
        "name": "Jonas Adeyemi",
        "legal_name": "Jonas Oluwaseun Adeyemi",
        "email": "jonas@example.com",
        "roles": ["producer", "composer"],
        "invite": True,
    },
    {"name": "Nightjar Mastering", "email": "studio@nightjar.example", "roles": ["mastering_engineer"]},
    {
        "name": "Lea Kowalczyk",
        "legal_name": "Lea Kowalczyk",
        "email": "lea@example.com",
        "phone": "+4915112345678",
        "roles": ["featured_artist", "lyricist"],
        "invite": True,
    },
]


@dataclass(frozen=True)
class Demo:
    account_id: str
    email: str
    password: str
    api_key: str

    def banner(self, base_url: str) -> str:
        return "\n".join(
            [
                "OG Records API — sandbox demo account created (these secrets are shown once):",
                f"  Account:       {self.account_id}",
                f"  Login:         {self.email} / {self.password}",
                f"  Sandbox key:   {self.api_key}",
                f"  Base URL:      {base_url}",
                f"  Docs:          {base_url}/docs   Spec: {base_url}/openapi.json",
                f"  Try:           curl -H 'Authorization: Bearer {self.api_key}' {base_url}/api/v1/persons",
            ]
        )


def seed_demo_if_empty(settings: Settings) -> Demo | None:
    """Create the demo account unless any account exists. Returns its one-time secrets, or None."""
    storage.configure(settings)
    with session_scope() as session:
        if session.exec(select(Account).limit(1)).first() is not None:
            return None
        account, user, password = accounts.create_account(
            session, name="OG Demo Label", email=DEMO_EMAIL, password=None, kind="label"
        )
        issued = api_keys.create_key(
            session, account=account, environment="sandbox", name="Demo sandbox key", scopes=list(SCOPES)
        )
        principal = Principal(account.id, "sandbox", effective(SCOPES), issued.key.id, "api_key")

        composer_id = ""
        for fields in _PERSONS:
            person = persons.create(session, principal, fields)
            events.emit(session, principal, "person.created", represent(person))
            composer_id = composer_id or person.id
    seed_catalogue(principal, composer_id)
    seed_money(principal)
    seed_payouts(principal)
    return Demo(account.id, user.email, password, issued.secret)
