"""The random tokens of mailed links (sign-up verification, password reset).

A link carries only a random 256-bit token, never an address or an id; the store keeps only
its SHA-256 (a token has the entropy of a key, so a fast hash is enough and a copy of the store
cannot be turned back into links). Each link works once and only for minutes.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
MAX_TOKEN = 64          # longer than any token we make: refused before it is hashed


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> bytes | None:
    """The stored form of a token, or None when the text cannot be one of ours."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        return None
    return hashlib.sha256(token.encode()).digest()
