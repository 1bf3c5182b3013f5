"""Signing secrets: generated as Standard Webhooks `whsec_` strings and stored encrypted with the server's key.

The signer needs the plaintext on every attempt, so the secret cannot be hashed like an API key. Fernet
(AES-128-CBC + HMAC-SHA256, from `cryptography`) encrypts it under a key derived from `OG_SECRET_KEY`.
"""

import base64
import hashlib
import secrets
from functools import cache

from cryptography.fernet import Fernet

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format marker, not a secret
SECRET_BYTES = 32


def generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def key_bytes(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for (the base64 after the prefix, decoded)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


@cache
def _fernet(server_key: str) -> Fernet:
    # OG_SECRET_KEY is any string; Fernet wants 32 url-safe base64 bytes. A domain-separated SHA-256 derives them.
    digest = hashlib.sha256(b"og-records/webhook-secrets/v1\0" + server_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret: str, server_key: str) -> str:
    return _fernet(server_key).encrypt(secret.encode()).decode()


def decrypt(ciphertext: str, server_key: str) -> str:
    return _fernet(server_key).decrypt(ciphertext.encode()).decode()
