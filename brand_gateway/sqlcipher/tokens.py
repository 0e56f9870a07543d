"""Access tokens in SQLCipher: :class:`brand_gateway.repositories.TokenRepository` (what both
engines share is :class:`brand_gateway.sql.tokens.SqlTokens`). ``token_hash`` is the primary
key; a token's family is found by its id."""

from __future__ import annotations

from ..sql.tokens import SqlTokens


class SqlcipherTokens(SqlTokens):
    _FAMILY_OF_TOKEN = "f.id = t.family_id"

    def insert(self, token_hash: bytes, *, client_id: str, grant_type: str, scope: str,
               issued_at: int, expires_at: int, family_id: str | None) -> None:
        self._db.execute(
            "INSERT INTO oauth_access_tokens (token_hash, client_id, grant_type, scope,"
            " issued_at, expires_at, family_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_hash, client_id, grant_type, scope, issued_at, expires_at, family_id))
