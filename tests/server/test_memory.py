"""The server process caps glibc's malloc arenas unless the operator chose a number, and starts without the
transient allocations that made its peak RSS."""

import subprocess
import sys

import pytest

from server.memory import limit_malloc_arenas


def test_the_arena_cap_is_set_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True


def test_an_operators_malloc_arena_max_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


def test_starting_the_server_hashes_no_password() -> None:
    # argon2id allocates its whole memory cost (64 MiB) per hash: the dummy hashes for unknown emails used to be made
    # at import, and two of them were the server's peak RSS. They are made on the first sign-in that needs one.
    code = """
import argon2
calls = []
original = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, *args, **kwargs: (calls.append(1), original(self, *args, **kwargs))[1]
import server.app, server.api.oauth, server.services.accounts
print(len(calls))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "0"
