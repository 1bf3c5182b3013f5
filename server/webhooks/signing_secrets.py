"""Signing secrets: generated as Standard Webhooks `whsec_` strings and stored encrypted with the server's key.

The signer needs the plaintext on every attempt, so the secret cannot be hashed like an API key: it is encrypted
under `OG_SECRET_KEY` (`server.encryption`).
"""

import base64
import secrets

from server import encryption

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format marker, not a secret
SECRET_BYTES = 32
_PURPOSE = "webhook-secrets"  # the key derivation's domain; existing ciphertexts depend on it


def generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def key_bytes(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for (the base64 after the prefix, decoded)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def encrypt(secret: str, server_key: str) -> str:
    return encryption.encrypt(secret, server_key, purpose=_PURPOSE)


def decrypt(ciphertext: str, server_key: str) -> str:
    return encryption.decrypt(ciphertext, server_key, purpose=_PURPOSE)
