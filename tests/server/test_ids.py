"""Resource and request ids: their digits, their order, and their randomness across a fork."""

import os
import random

from server import ids


def _digits(value: int) -> str:
    """The reference encoding: 26 base32 digits (Crockford's alphabet, lower case), most significant first."""
    return "".join(ids._ALPHABET[(value >> (5 * (25 - i))) & 31] for i in range(26))


def test_an_id_body_is_its_value_in_26_base32_digits() -> None:
    for value in [0, 1, 31, 32, (1 << 128) - 1, (1 << 130) - 1, *(random.getrandbits(128) for _ in range(2000))]:
        assert ids._encode(value) == _digits(value)


def test_ids_are_ordered_by_their_millisecond_and_carry_80_random_bits() -> None:
    earlier = [ids.new_id("rel", now_ms=1_700_000_000_000) for _ in range(500)]
    later = ids.new_id("rel", now_ms=1_700_000_000_001)
    assert len(set(earlier)) == 500
    assert all(ids.has_prefix(value, "rel") for value in earlier)
    assert max(earlier) < later
    # The random part is not a counter: the bits vary in every position.
    randoms = [_value(value) & ((1 << 80) - 1) for value in earlier]
    assert all(any(r >> bit & 1 for r in randoms) and not all(r >> bit & 1 for r in randoms) for bit in range(80))


def _value(identifier: str) -> int:
    value = 0
    for char in identifier.split("_", 1)[1]:
        value = value * 32 + ids._ALPHABET.index(char)
    return value


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    ids.new_id("req")  # the parent holds a block of random bytes
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.close(read)
        os.write(write, ",".join(ids.new_id("req", now_ms=0) for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        from_child = pipe.read().split(",")
    os.waitpid(child, 0)
    from_parent = [ids.new_id("req", now_ms=0) for _ in range(5)]
    assert len(from_child) == 5
    assert not set(from_child) & set(from_parent)
