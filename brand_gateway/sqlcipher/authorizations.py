"""Token families, their grants, authorization codes and refresh tokens in SQLCipher:
:class:`brand_gateway.repositories.AuthorizationRepository` (what both engines share is
:class:`brand_gateway.sql.authorizations.SqlAuthorizations`). The store's write lock serialises
a redemption.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..authorizations import FamilyEnd
from ..repositories import RefreshTokenRecord
from ..sql.authorizations import SqlAuthorizations


class SqlcipherAuthorizations(SqlAuthorizations):
    _BYTEWISE = ""

    # -- families ---------------------------------------------------------------------------
    def insert_family(self, family_id: str, *, client_id: str, member_id: str,
                      authorization_details: Sequence[dict[str, Any]], created_at: int,
                      expires_at: int, grant_ids: Sequence[str]) -> None:
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO oauth_token_families (id, client_id, member_id,"
                " authorization_details, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (family_id, client_id, member_id, json.dumps(list(authorization_details)),
                 created_at, expires_at))
            for grant_id in grant_ids:
                self._db.execute("INSERT INTO oauth_family_grants (grant_id, family_id)"
                                 " VALUES (?, ?)", (grant_id, family_id))

    def revoke(self, family_id: str, reason: FamilyEnd, now: int) -> bool:
        with self._db.transaction():
            changed = self._db.execute(
                "UPDATE oauth_token_families SET revoked_at = ?, revoked_reason = ?"
                " WHERE id = ? AND revoked_at IS NULL",
                (now, FamilyEnd(reason).value, family_id)).rowcount
            self._db.execute(
                "UPDATE oauth_access_tokens SET revoked_at = ? WHERE family_id = ?"
                " AND revoked_at IS NULL", (now, family_id))
        return bool(changed)

    # -- codes ------------------------------------------------------------------------------
    def insert_code(self, code_hash: bytes, *, family_id: str, client_id: str,
                    redirect_uri: str, code_challenge: str, code_challenge_method: str,
                    issued_at: int, expires_at: int) -> None:
        self._db.execute(
            "INSERT INTO oauth_authorization_codes (code_hash, family_id, client_id,"
            " redirect_uri, code_challenge, code_challenge_method, issued_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (code_hash, family_id, client_id, redirect_uri, code_challenge,
             code_challenge_method, issued_at, expires_at))

    # -- refresh tokens ---------------------------------------------------------------------
    def insert_refresh_token(self, token_hash: bytes, family_id: str, issued_at: int
                             ) -> None:
        self._db.execute(
            "INSERT INTO oauth_refresh_tokens (token_hash, family_id, issued_at)"
            " VALUES (?, ?, ?)", (token_hash, family_id, issued_at))

    def refresh_token(self, token_hash: bytes) -> RefreshTokenRecord | None:
        row = self._db.one(
            "SELECT r.used_at, r.family_id, f.client_id FROM oauth_refresh_tokens r"
            " JOIN oauth_token_families f ON f.id = r.family_id WHERE r.token_hash = ?",
            (token_hash,))
        return None if row is None else RefreshTokenRecord(row["family_id"], row["client_id"],
                                                           row["used_at"])
