"""Access tokens, what both engines share: :class:`brand_gateway.repositories.TokenRepository`.

:meth:`SqlTokens.find` is the brand API's token lookup: token and family in one indexed join,
so a family revoked or ended is seen by the very next lookup. Revocations are single
conditional ``UPDATE``\\ s: the first time stays.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from vault.sql import SqlRepository

from ..tokens import AccessToken


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


class SqlTokens(SqlRepository):
    # The engine's join of a token (``t``) to its family (``f``).
    _FAMILY_OF_TOKEN: ClassVar[str]

    def find(self, token_hash: bytes) -> AccessToken | None:
        row = self._db.one(
            "SELECT t.token_hash, t.client_id, t.grant_type, t.scope, t.issued_at, t.expires_at,"
            " t.revoked_at, t.family_id, f.member_id, f.expires_at AS family_expires_at,"
            " f.revoked_at AS family_revoked_at, f.authorization_details"
            " FROM oauth_access_tokens AS t LEFT JOIN oauth_token_families AS f"
            f" ON {self._FAMILY_OF_TOKEN} WHERE t.token_hash = ?", (token_hash,))
        return None if row is None else _token(row)

    def revoke(self, token_hash: bytes, now: int) -> None:
        self._db.execute("UPDATE oauth_access_tokens SET revoked_at = ? WHERE token_hash = ?"
                         " AND revoked_at IS NULL", (now, token_hash))

    def revoke_for_client(self, client_id: str, now: int) -> int:
        return int(self._db.execute(
            "UPDATE oauth_access_tokens SET revoked_at = ? WHERE client_id = ?"
            " AND revoked_at IS NULL", (now, client_id)).rowcount)

    def delete_expired(self, before: int) -> int:
        # By oauth_access_tokens_by_expiry; one statement, as Citus runs it on every shard.
        with self._db.transaction():
            return int(self._db.execute("DELETE FROM oauth_access_tokens WHERE expires_at < ?",
                                        (before,)).rowcount)
