"""Opaque bearer access tokens for brands (client credentials grant, RFC 6749 sec. 4.4).

Invariants:
- A token is 32 random bytes (256 bits), URL-safe base64; it exists in clear only in the token
  response. The store keeps its SHA-256: with that much entropy a fast unkeyed hash is enough
  (nothing to guess), and lookup by hash stays a single index probe.
- Tokens are short-lived (:data:`ACCESS_TOKEN_LIFETIME`, 10 minutes) and carry no refresh token
  (RFC 6749 sec. 4.4.3: "A refresh token SHOULD NOT be included").
- Revocation marks a row, never deletes it, and is idempotent; a token is active only when it is
  neither revoked nor expired by the injected clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from vault.clock import Clock
from vault.storage import Database

ACCESS_TOKEN_BYTES = 32
ACCESS_TOKEN_LIFETIME = 600   # seconds


def new_access_token() -> str:
    return secrets.token_urlsafe(ACCESS_TOKEN_BYTES)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class AccessToken:
    """An issued token as the store has it: never the token itself."""

    token_hash: bytes
    client_id: str
    grant_type: str
    scope: str
    issued_at: int
    expires_at: int
    revoked_at: int | None

    def is_expired(self, now: float) -> bool:
        return now >= self.expires_at

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def active(self, now: float) -> bool:
        return not self.revoked and not self.is_expired(now)


class TokenStore:
    """Saves, finds and revokes access tokens by their hash."""

    def __init__(self, *, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def save(self, token: str, *, client_id: str, grant_type: str, scope: str,
             expires_in: int) -> AccessToken:
        issued_at = int(self._clock())
        digest = token_hash(token)
        self._db.execute(
            "INSERT INTO oauth_access_tokens (token_hash, client_id, grant_type, scope,"
            " issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (digest, client_id, grant_type, scope, issued_at, issued_at + expires_in),
        )
        return AccessToken(digest, client_id, grant_type, scope, issued_at,
                           issued_at + expires_in, None)

    def find(self, token: str) -> AccessToken | None:
        """The record of ``token`` (active or not), or ``None`` if it was never issued."""
        if not isinstance(token, str) or not token:
            return None
        row = self._db.one("SELECT * FROM oauth_access_tokens WHERE token_hash = ?",
                           (token_hash(token),))
        return None if row is None else self._token(row)

    def revoke(self, record: AccessToken) -> None:
        """Idempotent: an already revoked token keeps its first revocation time."""
        self._db.execute(
            "UPDATE oauth_access_tokens SET revoked_at = ? WHERE token_hash = ?"
            " AND revoked_at IS NULL",
            (int(self._clock()), record.token_hash),
        )

    def revoke_all_for_client(self, client_id: str) -> int:
        """Revoke every live token of a client (for when it is disabled); how many."""
        cursor = self._db.execute(
            "UPDATE oauth_access_tokens SET revoked_at = ? WHERE client_id = ?"
            " AND revoked_at IS NULL",
            (int(self._clock()), client_id),
        )
        return int(cursor.rowcount)

    @staticmethod
    def _token(row: Any) -> AccessToken:
        return AccessToken(
            token_hash=bytes(row["token_hash"]), client_id=row["client_id"],
            grant_type=row["grant_type"], scope=row["scope"], issued_at=row["issued_at"],
            expires_at=row["expires_at"], revoked_at=row["revoked_at"],
        )
