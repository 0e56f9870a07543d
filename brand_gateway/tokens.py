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
  together (``brand_gateway/sqlcipher/tokens.py``: one indexed join), so a family revoked by a
  withdrawal is seen by the very next call.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vault.clock import Clock

if TYPE_CHECKING:
    from .repositories import TokenRepository

ACCESS_TOKEN_BYTES = 32
ACCESS_TOKEN_LIFETIME = 600   # seconds
#: How long the record of an expired access token is kept (seconds): an hour past its end.
EXPIRED_KEPT = 3_600


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

    def __init__(self, *, tokens: TokenRepository, clock: Clock) -> None:
        self._tokens = tokens
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def save(self, token: str, *, client_id: str, grant_type: str, scope: str,
             expires_in: int, family_id: str | None = None) -> AccessToken:
        issued_at = int(self._clock())
        self._tokens.insert(token_hash(token), client_id=client_id, grant_type=grant_type,
                            scope=scope, issued_at=issued_at,
                            expires_at=issued_at + expires_in, family_id=family_id)
        record = self.find(token)
        assert record is not None
        return record

    def find(self, token: str) -> AccessToken | None:
        """The record of ``token`` (active or not), or ``None`` if it was never issued."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        return self._tokens.find(token_hash(token))

    def revoke(self, record: AccessToken) -> None:
        """Idempotent: an already revoked token keeps its first revocation time."""
        self._tokens.revoke(record.token_hash, int(self._clock()))

    def revoke_all_for_client(self, client_id: str) -> int:
        """Revoke every live token of a client (when it is disabled or its secret rotated); how
        many."""
        return self._tokens.revoke_for_client(client_id, int(self._clock()))

    def delete_expired(self) -> int:
        """Delete the records of tokens expired :data:`EXPIRED_KEPT` seconds ago or more; how
        many. An expired token answers nothing, recorded or not (the brand API and
        introspection tell it as unknown or inactive alike), and each token a brand mints is
        a row: kept for ever they grew with every client credentials exchange."""
        return self._tokens.delete_expired(int(self._clock()) - EXPIRED_KEPT)
