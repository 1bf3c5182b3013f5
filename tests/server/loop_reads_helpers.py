"""What the tests of the event loop's own API-key lookups (SQLite's `loop_reads`, PostgreSQL's `loop_reads_pg`) share:
a key whose every looked-up column holds a value, and the comparison with the row SQLAlchemy's Core returns."""

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, update

from server.db.engine import session_scope
from server.db.models.api_keys import ApiKey
from server.db.types import utcnow
from server.services.api_keys import _LOOKUP


def give_every_lookup_column_a_value(key_id: str) -> None:
    """Every column type of the lookup with a value: datetimes, JSON, booleans."""
    now = utcnow()
    with session_scope() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)  # type: ignore[arg-type]
            .values(last_used_at=now, expires_at=now + timedelta(days=3), previous_expires_at=now)
        )


def core_row(engine: Engine, digest: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(_LOOKUP, {"digest": digest}).first()


def assert_same_row(ours: Any, core: Any) -> None:
    """The loop's row is Core's, field for field and type for type, its datetimes aware."""
    assert ours is not None
    assert core is not None
    assert ours._asdict() == core._asdict()
    assert [type(value) for value in ours] == [type(value) for value in core]
    assert ours.expires_at.tzinfo is not None
