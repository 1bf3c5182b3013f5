"""Alembic environment: the URL comes from the caller's Config, the tables from server.db.models."""

from alembic import context
from sqlmodel import SQLModel

import server.db.models  # noqa: F401  (registers every table)
from server.db.engine import engine_for

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = engine_for(url)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
