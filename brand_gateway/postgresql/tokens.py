"""Access tokens in PostgreSQL: :class:`brand_gateway.repositories.TokenRepository`.

A token is its family's member's (keyed by ``(member_id, token_hash)``, ``member_id`` copied
from the family when it is written); a brand's own token (client credentials, no family) has
the member key ''. The hash of a random 256-bit token is unique by construction and found by a
plain index: :meth:`PostgresqlTokens.find`, the brand API's token lookup, reads the token and
its family in one indexed join on the member and the family, so a family revoked or ended is
seen by the very next lookup. Revocations are single conditional ``UPDATE``\\ s: the first time
stays.
"""

from __future__ import annotations

import json
from typing import Any

from vault.postgresql import PostgresqlRepository

from ..tokens import AccessToken

# The member key of a token no member granted (the CHECK of oauth_access_tokens).
BRAND_OWN = ""

_FIND = ("SELECT t.token_hash, t.client_id, t.grant_type, t.scope, t.issued_at, t.expires_at,"
         " t.revoked_at, t.family_id, f.member_id, f.expires_at AS family_expires_at,"
         " f.revoked_at AS family_revoked_at, f.authorization_details"
         " FROM oauth_access_tokens AS t LEFT JOIN oauth_token_families AS f"
         " ON f.member_id = t.member_id AND f.id = t.family_id"
         " WHERE t.token_hash = ?")


class PostgresqlTokens(PostgresqlRepository):
    def insert(self, token_hash: bytes, *, client_id: str, grant_type: str, scope: str,
               issued_at: int, expires_at: int, family_id: str | None) -> None:
        # The family's member, or NULL for an unknown family: refused as SQLite's foreign
        # key refuses it (a ConstraintViolationError).
        self._db.execute(
            "INSERT INTO oauth_access_tokens (member_id, token_hash, client_id, grant_type,"
            " scope, issued_at, expires_at, family_id)"
            " VALUES (CASE WHEN CAST(? AS TEXT) IS NULL THEN ? ELSE"
            " (SELECT member_id FROM oauth_token_families WHERE id = ?) END,"
            " ?, ?, ?, ?, ?, ?, ?)",
            (family_id, BRAND_OWN, family_id, token_hash, client_id, grant_type, scope,
             issued_at, expires_at, family_id))

    def find(self, token_hash: bytes) -> AccessToken | None:
        row = self._db.one(_FIND, (token_hash,))
        return None if row is None else _token(row)

    def revoke(self, token_hash: bytes, now: int) -> None:
        self._db.execute("UPDATE oauth_access_tokens SET revoked_at = ? WHERE token_hash = ?"
                         " AND revoked_at IS NULL", (now, token_hash))

    def revoke_for_client(self, client_id: str, now: int) -> int:
        return int(self._db.execute(
            "UPDATE oauth_access_tokens SET revoked_at = ? WHERE client_id = ?"
            " AND revoked_at IS NULL", (now, client_id)).rowcount)


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
