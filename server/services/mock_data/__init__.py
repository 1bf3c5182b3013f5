"""Mock data for every new account's sandbox: persons, a catalogue with a release in every status (one complete
draft ready to submit, one `submitted` waiting for the simulated review), splits, a year of earnings, payouts and
smart links with statistics.

`populate()` runs inside `accounts.create_account` (every way an account is made: the CLI, the dashboard's
sign-up, `og-server serve`'s demo account), in the caller's transaction: an account exists with its mock data or
not at all. Everything goes through the same services as the API (file store, QC analysis, submission checks,
earnings importer, payout reservation, the sandbox's simulated transfer), so the mock data is what the API computes
for real data. Only the sandbox environment gets it; production starts empty.

Cost: the media are generated and analysed once per process (QC results are memoised per stored file), so an
account with mock data costs its inserts (about 2,500 earnings lines in twelve monthly statements, ~150 rows
of catalogue, events and payouts) — a few seconds on a loaded machine, not the QC time.
"""

from sqlmodel import Session

from server.db.models.accounts import Account
from server.domain.persons import PersonCreate, PersonRole
from server.principal import Principal
from server.scopes import SCOPES, effective
from server.services import persons, sandbox_simulator
from server.services.mock_data.catalogue import READY_DRAFT_TITLE, seed_catalogue
from server.services.mock_data.money import seed_money
from server.services.mock_data.payouts import seed_payouts
from server.services.mock_data.smartlinks import seed_smartlinks

__all__ = ["PERSONS", "READY_DRAFT_TITLE", "populate"]

PERSONS: tuple[PersonCreate, ...] = (
    PersonCreate(
        name="Mara Lindqvist",
        legal_name="Mara Sofia Lindqvist",
        email="mara@example.com",
        roles=(PersonRole.ARTIST, PersonRole.COMPOSER, PersonRole.LYRICIST),
        invite=True,
    ),
    PersonCreate(
        name="Jonas Adeyemi",
        legal_name="Jonas Oluwaseun Adeyemi",
        email="jonas@example.com",
        roles=(PersonRole.PRODUCER, PersonRole.COMPOSER),
        invite=True,
    ),
    PersonCreate(name="Nightjar Mastering", email="studio@nightjar.example", roles=(PersonRole.MASTERING_ENGINEER,)),
    PersonCreate(
        name="Lea Kowalczyk",
        legal_name="Lea Kowalczyk",
        email="lea@example.com",
        phone="+4915112345678",
        roles=(PersonRole.FEATURED_ARTIST, PersonRole.LYRICIST),
        invite=True,
    ),
)


def populate(session: Session, account: Account) -> dict[str, str]:
    """Fill the account's sandbox with mock data; returns the mock release id per status (and `draft_ready`)."""

    principal = Principal(account.id, "sandbox", effective(SCOPES), "system:mock-data", "system")
    composer_id = ""
    for fields in PERSONS:
        person = persons.create_and_announce(session, principal, fields)
        composer_id = composer_id or person["id"]
    release_ids = seed_catalogue(session, principal, composer_id)
    seed_money(session, principal)
    seed_payouts(session, principal)
    seed_smartlinks(session, principal, release_ids["live"], release_ids["delivering"])
    # The submitted release waits for review on a realistic timeline (days): advance it, or move the test clock.
    sandbox_simulator.schedule(session, release_ids["submitted"], realistic=True)
    return release_ids
