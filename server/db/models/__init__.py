"""SQLModel tables, one module per resource. Importing this package registers every table with the metadata.

Every module is listed explicitly: Alembic autogenerate only sees tables whose module was imported.
"""

from server.db.models import (
    accounts,
    api_keys,
    artwork,
    dashboard,
    earnings,
    events,
    files,
    idempotency,
    inbound,
    mail,
    oauth,
    payouts,
    persons,
    releases,
    sandbox,
    smartlinks,
    splits,
    tracks,
    webhooks,
)

__all__ = [
    "accounts",
    "api_keys",
    "artwork",
    "dashboard",
    "earnings",
    "events",
    "files",
    "idempotency",
    "inbound",
    "mail",
    "oauth",
    "payouts",
    "persons",
    "releases",
    "sandbox",
    "smartlinks",
    "splits",
    "tracks",
    "webhooks",
]
