"""The demo account `og-server serve` creates on first start: an ordinary new account (with the sandbox mock data
every account gets, `server.services.mock_data`) plus a sandbox key to try the API with."""

from dataclasses import dataclass

from sqlmodel import select

from server import storage
from server.config import Settings
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.scopes import SCOPES
from server.services import accounts, api_keys

DEMO_EMAIL = "demo@og-records.test"


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
    return Demo(account.id, user.email, password, issued.secret)
