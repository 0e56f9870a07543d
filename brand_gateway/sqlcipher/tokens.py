"""Access tokens in SQLCipher: :class:`brand_gateway.repositories.TokenRepository`.

:meth:`SqlcipherTokens.find` is the brand API's token lookup: token and family in one indexed
join (``token_hash`` is the primary key), so a family revoked or ended is seen by the very next
lookup.
"""

from __future__ import annotations

import json
from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..tokens import AccessToken

_FIND = ("SELECT t.*, f.member_id, f.expires_at AS family_expires_at,"
         " f.revoked_at AS family_revoked_at, f.authorization_details"
         " FROM oauth_access_tokens t LEFT JOIN oauth_token_families f ON f.id = t.family_id"
         " WHERE t.token_hash = ?")


class SqlcipherTokens(SqlcipherRepository):
    def insert(self, token_hash: bytes, *, client_id: str, grant_type: str, scope: str,
               issued_at: int, expires_at: int, family_id: str | None) -> None:
        self._db.execute(
            "INSERT INTO oauth_access_tokens (token_hash, client_id, grant_type, scope,"
            " issued_at, expires_at, family_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_hash, client_id, grant_type, scope, issued_at, expires_at, family_id))

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
