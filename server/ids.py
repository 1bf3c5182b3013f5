"""Prefixed, opaque, time-ordered resource ids (`rel_01jc3m8a4s6t3v0q7k2x9bz5hd`).

26 characters of Crockford base32 after the prefix: 48 bits of milliseconds since the epoch, then 80 random bits.
Ids created later sort later, which gives list endpoints a stable, index-friendly order without a second column.
"""

import base64
import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

PREFIXES = {
    "account": "acct",
    "user": "usr",
    "api_key": "key",
    "oauth_client": "cli",
    "release": "rel",
    "track": "trk",
    "file": "fil",
    "split": "spl",
    "person": "per",
    "earnings_line": "ern",
    "payout": "pay",
    "smartlink": "sl",
    "event": "evt",
    "webhook_endpoint": "we",
    "webhook_attempt": "wa",
    "request": "req",
    "token_family": "fam",
    "outbound_message": "msg",
    "production_access_request": "par",
}


# base32's RFC 4648 alphabet → ours (Crockford's, lower case).
_FROM_RFC = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())

# Random bytes are drawn from the operating system's CSPRNG (what `secrets` reads) a block at a time and each byte is
# handed out once: one `os.urandom` system call per 400 ids instead of one per id. Request ids are made on the event
# loop for every request, and the system call released and re-took the GIL each time, behind whichever worker thread
# held it then (issue 22). A forked child drops the parent's block, or both would hand out the same ids.
_BLOCK_BYTES = 4096
_RANDOM_BYTES = 10  # 80 bits


class _RandomBlock:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.block = b""
        self.taken = 0

    def bits(self) -> int:
        with self.lock:
            if self.taken + _RANDOM_BYTES > len(self.block):
                self.block, self.taken = os.urandom(_BLOCK_BYTES), 0
            chunk = self.block[self.taken : self.taken + _RANDOM_BYTES]
            self.taken += _RANDOM_BYTES
        return int.from_bytes(chunk)

    def forget(self) -> None:
        self.lock = threading.Lock()  # the parent's may have been held by another thread at the fork
        self.block, self.taken = b"", 0


_random = _RandomBlock()
os.register_at_fork(after_in_child=_random.forget)


def _encode(value: int) -> str:
    """A value below 2**130 as 26 base32 digits, most significant first: the digits of base32 of the value shifted
    into the top of 20 bytes (160 bits), their first 26."""
    return base64.b32encode((value << 30).to_bytes(20)).translate(_FROM_RFC)[:26].decode()


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    """A new id with the given prefix (`rel`, `trk`, …), ordered by creation time."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    body = (ms & ((1 << 48) - 1)) << 80 | _random.bits()
    return f"{prefix}_{_encode(body)}"


def has_prefix(value: str, prefix: str) -> bool:
    """Whether `value` is shaped like an id of this prefix (used to answer 404 early for foreign ids)."""
    body = value[len(prefix) + 1 :]
    return value.startswith(prefix + "_") and len(body) == 26 and all(c in _ALPHABET for c in body)
