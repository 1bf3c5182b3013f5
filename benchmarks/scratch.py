"""Throwaway set-up shared by the component benchmarks: the settings of a scratch installation and a scratch
PostgreSQL database. One place, so that a new required setting is added once, not in every benchmark."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from server.config import Settings


def settings(database_url: str, data_dir: Path, *, webhooks_allow_loopback: bool = False) -> Settings:
    """Production-like settings for an in-process benchmark on a throwaway database: response validation off,
    logs at WARNING, no Redis. `webhooks_allow_loopback` lets deliveries reach a receiver on this machine."""
    return Settings(
        data_dir=data_dir,
        database_url=psycopg_url(database_url),
        redis_url=None,
        base_url="http://127.0.0.1",
        validate_responses=False,
        max_body_bytes=1 << 20,
        max_upload_bytes=1 << 20,
        log_level="WARNING",
        log_json=True,
        webhooks_allow_loopback=webhooks_allow_loopback,
        secret_key="bench",  # noqa: S106 - a throwaway database's key
    )


def psycopg_url(url: str) -> str:
    """SQLAlchemy's spelling of a PostgreSQL URL with the psycopg 3 driver (other URLs unchanged)."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@contextmanager
def postgres_database(admin_url: str, *, prefix: str = "og_bench") -> Iterator[str]:
    """A scratch database on the server at `admin_url` (a `postgresql://` URL), dropped afterwards; connections
    still open to it then are closed by the server (`WITH (FORCE)`)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
