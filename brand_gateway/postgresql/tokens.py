"""Access tokens in PostgreSQL: :class:`brand_gateway.repositories.TokenRepository` (what both
engines share is :class:`brand_gateway.sql.tokens.SqlTokens`).

A token is its family's member's (keyed by ``(member_id, token_hash)``, ``member_id`` copied
from the family when it is written); a brand's own token (client credentials, no family) has
the member key ''. The hash of a random 256-bit token is unique by construction and found by a
plain index; the lookup joins its family on the member and the family.
"""

from __future__ import annotations

from ..sql.tokens import SqlTokens

# The member key of a token no member granted (the CHECK of oauth_access_tokens).
BRAND_OWN = ""


class PostgresqlTokens(SqlTokens):
    _FAMILY_OF_TOKEN = "f.member_id = t.member_id AND f.id = t.family_id"

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
