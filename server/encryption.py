"""Values the server must read back in plaintext are stored encrypted, not hashed: webhook signing secrets (the
signer needs them on every attempt) and payees' bank account numbers (Wise needs them to create the recipient).

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under a key derived from `OG_SECRET_KEY`, one key per
purpose: a value encrypted for one purpose cannot be decrypted as another.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet


@cache
def _fernet(server_key: str, purpose: str) -> Fernet:
    # OG_SECRET_KEY is any string; Fernet wants 32 url-safe base64 bytes. A domain-separated SHA-256 derives them.
    digest = hashlib.sha256(f"og-records/{purpose}/v1\0".encode() + server_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@cache
def signing_key(server_key: str, purpose: str) -> bytes:
    """A MAC key for `purpose` (list cursors, …) derived from OG_SECRET_KEY, separate from the encryption keys."""
    return hashlib.sha256(f"og-records/mac/{purpose}/v1\0".encode() + server_key.encode()).digest()


def encrypt(plaintext: str, server_key: str, *, purpose: str) -> str:
    return _fernet(server_key, purpose).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, server_key: str, *, purpose: str) -> str:
    return _fernet(server_key, purpose).decrypt(ciphertext.encode()).decode()
