"""The Alembic migrations build exactly the schema the SQLModel tables describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import server.db.models  # noqa: F401
from server.db.engine import engine_for


def test_migrations_match_the_models(app: object, database_url: str) -> None:
    # The `app` fixture has upgraded this database to head.
    with engine_for(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "models changed without a migration: run `alembic revision --autogenerate`"
