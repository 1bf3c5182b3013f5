"""Prefixed, opaque, time-ordered resource ids (`rel_01jc3m8a4s6t3v0q7k2x9bz5hd`).

26 characters of Crockford base32 after the prefix: 48 bits of milliseconds since the epoch, then 80 random bits.
Ids created later sort later, which gives list endpoints a stable, index-friendly order without a second column.
"""

import secrets
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


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    """A new id with the given prefix (`rel`, `trk`, …), ordered by creation time."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    body = (ms & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    return f"{prefix}_{_encode(body, 26)}"


def has_prefix(value: str, prefix: str) -> bool:
    """Whether `value` is shaped like an id of this prefix (used to answer 404 early for foreign ids)."""
    body = value[len(prefix) + 1 :]
    return value.startswith(prefix + "_") and len(body) == 26 and all(c in _ALPHABET for c in body)
