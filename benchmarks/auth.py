"""Median cost of authenticating a request with an API key on SQLite; prints a Markdown table.

    .venv/bin/python -m benchmarks.auth [--requests 5000]

Measures `server.services.api_keys.authenticate` as the security layer calls it (a Core transaction per request, the key
looked up by its SHA-256), on a migrated SQLite database in a temporary directory, and shows that revocation still
takes effect on the very next request (nothing is cached). Target (issue 3): median ≤0.2 ms.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import rounds, scratch
from server.db import engine as db
from server.db.engine import session_scope
from server.db.migrate import upgrade_to_head
from server.db.models.api_keys import ApiKey
from server.db.types import utcnow
from server.scopes import SCOPES
from server.services import accounts, api_keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        settings = scratch.settings(f"sqlite:///{data / 'bench.sqlite3'}", data)
        db.configure(settings)
        upgrade_to_head(settings.database_url)
        with session_scope() as session:
            account, _user, _password = accounts.create_account(
                session,
                name="Bench",
                email="bench@example.com",
                password="bench-bench-bench",  # noqa: S106
                mock_data=False,
            )
            issued = api_keys.create_key(session, account=account, environment="sandbox", name="b", scopes=list(SCOPES))
            for index in range(2000):  # a realistic table: the lookup is by index, not by luck
                api_keys.create_key(session, account=account, environment="sandbox", name=f"k{index}", scopes=[])
        samples, cpu = [], []
        for _ in range(args.requests):
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            with db.engine().begin() as connection:
                api_keys.authenticate(connection, issued.secret)
            samples.append(time.perf_counter_ns() - started)
            cpu.append(time.thread_time_ns() - started_cpu)
        with session_scope() as session:
            key = session.get(ApiKey, issued.key.id)
            assert key is not None
            key.revoked_at = utcnow()
            session.add(key)
        try:
            with db.engine().begin() as connection:
                api_keys.authenticate(connection, issued.secret)
            revoked = "NOT refused (bug)"
        except api_keys.RefusedKeyError as problem:
            revoked = f"refused at once ({problem.code})"
    samples.sort()
    print("| measurement | value |")
    print("| --- | --- |")
    print(
        f"| API-key authentication, median (SQLite, {args.requests} requests, 2,001 keys) | "
        f"{statistics.median(samples) / 1e6:.3f} ms (target ≤0.2 ms) |"
    )
    print(f"| p99 | {samples[int(len(samples) * 0.99) - 1] / 1e6:.3f} ms |")
    # CPU time of the authenticating thread: what a request costs, without the wait for a busy machine's cores.
    print(f"| CPU time per authentication, median | {statistics.median(cpu) / 1e6:.3f} ms |")
    print(f"| first request after revocation | {revoked} |")
    print(
        rounds.metrics_line(
            {
                "auth_median_ms": round(statistics.median(samples) / 1e6, 4),
                "auth_p99_ms": round(samples[int(len(samples) * 0.99) - 1] / 1e6, 4),
                "auth_cpu_median_ms": round(statistics.median(cpu) / 1e6, 4),
                "revoked_refused_at_once": revoked.startswith("refused"),
            }
        )
    )


if __name__ == "__main__":
    main()
