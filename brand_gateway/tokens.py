"""Opaque bearer access tokens for brands.

Two kinds share one table: brand-level tokens (client credentials grant, RFC 6749 sec. 4.4; no
family, no member) and member-delegated tokens (authorization code and refresh grants), which
belong to a token family (:mod:`brand_gateway.authorizations`) naming the member, the grants and
the authorization details the member approved.

Invariants:
- A token is 32 random bytes (256 bits), URL-safe base64; it exists in clear only in the token
  response. The store keeps its SHA-256: with that much entropy a fast unkeyed hash is enough
  (nothing to guess), and lookup by hash stays a single index probe.
- Tokens are short-lived (:data:`ACCESS_TOKEN_LIFETIME`, 10 minutes) and carry no refresh token
  (RFC 6749 sec. 4.4.3: "A refresh token SHOULD NOT be included").
- Revocation marks a row, never deletes it, and is idempotent; a token is active only when it is
  neither revoked nor expired by the injected clock, and, for a member-delegated token, its family
  is neither revoked nor past its absolute end. :meth:`TokenStore.find` reads token and family
  in one indexed join, so a family revoked by a withdrawal is seen by the very next call.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
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
    family_id: str | None = None
    member_id: str | None = None                # the member who authorized, if delegated
    family_expires_at: int | None = None
    family_revoked_at: int | None = None
    authorization_details: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    def is_expired(self, now: float) -> bool:
        if self.family_expires_at is not None and now >= self.family_expires_at:
            return True
        return now >= self.expires_at

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None or self.family_revoked_at is not None

    @property
    def delegated(self) -> bool:
        """Issued on a member's authorization (not a brand-level client credentials token)."""
        return self.family_id is not None

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
             expires_in: int, family_id: str | None = None) -> AccessToken:
        issued_at = int(self._clock())
        self._db.execute(
            "INSERT INTO oauth_access_tokens (token_hash, client_id, grant_type, scope,"
            " issued_at, expires_at, family_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_hash(token), client_id, grant_type, scope, issued_at,
             issued_at + expires_in, family_id),
        )
        record = self.find(token)
        assert record is not None
        return record

    def find(self, token: str) -> AccessToken | None:
        """The record of ``token`` (active or not), or ``None`` if it was never issued."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        row = self._db.one(
            "SELECT t.*, f.member_id, f.expires_at AS family_expires_at,"
            " f.revoked_at AS family_revoked_at, f.authorization_details"
            " FROM oauth_access_tokens t LEFT JOIN oauth_token_families f ON f.id = t.family_id"
            " WHERE t.token_hash = ?", (token_hash(token),))
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
            family_id=row["family_id"], member_id=row["member_id"],
            family_expires_at=row["family_expires_at"],
            family_revoked_at=row["family_revoked_at"],
            authorization_details=tuple(json.loads(row["authorization_details"] or "[]")),
        )
