"""ISRC and UPC/EAN formats: the canonical form and the check a well-formed number passes (pure; assigning new
numbers from our ranges is `server.services.identifiers`)."""

import re

ISRC_CANONICAL = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")


def canonical_isrc(value: str) -> str:
    return value.replace("-", "").upper()


def is_valid_isrc(value: str) -> bool:
    return bool(ISRC_CANONICAL.match(value))


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3, 1, 3, … from the right)."""
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_upc(value: str) -> bool:
    return value.isdigit() and len(value) in (12, 13) and gtin_check_digit(value[:-1]) == int(value[-1])
