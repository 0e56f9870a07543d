"""Token families, their grants, authorization codes and refresh tokens, what both engines
share: :class:`brand_gateway.repositories.AuthorizationRepository`.

Authorization details are a JSON array; codes and refresh tokens are kept by their SHA-256. A
code or refresh token is redeemed once: inside a write transaction the read of one is locked
where the engine needs it, so of two redemptions at once the second reads it used (a replay).
A revocation changes the family and its access tokens in one transaction (the caller's, or its
own).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from vault.sql import SqlRepository

from ..authorizations import Family, FamilyEnd
from ..repositories import CodeRecord

FAMILY_COLUMNS = ("id, client_id, member_id, authorization_details, created_at, expires_at,"
                  " revoked_at, revoked_reason")
_FAMILIES = f"SELECT {FAMILY_COLUMNS} FROM oauth_token_families"


def family_from_row(row: Any) -> Family:
    """A :class:`Family` from a row of ``oauth_token_families`` (:data:`FAMILY_COLUMNS`)."""
    return Family(row["id"], row["client_id"], row["member_id"],
                  tuple(json.loads(row["authorization_details"])), row["created_at"],
                  row["expires_at"], row["revoked_at"],
                  None if row["revoked_reason"] is None else FamilyEnd(row["revoked_reason"]))


class SqlAuthorizations(SqlRepository):
    # What orders text by its bytes: nothing on SQLite (its default collation), ' COLLATE "C"'
    # on PostgreSQL.
    _BYTEWISE: ClassVar[str]

    def _locking(self, of: str = "") -> str:
        """What a read a redemption is decided on adds to lock the rows it reads (of the table
        aliased ``of``), where the engine's write transaction does not already hold them."""
        return ""

    # -- families ---------------------------------------------------------------------------
    def family(self, family_id: str) -> Family | None:
        row = self._db.one(f"{_FAMILIES} WHERE id = ?", (family_id,))
        return None if row is None else family_from_row(row)

    def families_for_member(self, member_id: str) -> list[Family]:
        return [family_from_row(row) for row in self._db.all(
            f"{_FAMILIES} WHERE member_id = ? ORDER BY created_at DESC", (member_id,))]

    def grant_ids(self, family_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT grant_id FROM oauth_family_grants WHERE family_id = ?"
            f" ORDER BY grant_id{self._BYTEWISE}", (family_id,))]

    def families_with_grant(self, grant_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT family_id FROM oauth_family_grants WHERE grant_id = ?", (grant_id,))]

    def update_family(self, family_id: str, *, authorization_details: Sequence[dict[str, Any]],
                      expires_at: int) -> None:
        self._db.execute(
            "UPDATE oauth_token_families SET authorization_details = ?, expires_at = ?"
            " WHERE id = ?", (json.dumps(list(authorization_details)), expires_at, family_id))

    def expired_unrevoked(self, now: int) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT id FROM oauth_token_families WHERE revoked_at IS NULL"
            " AND expires_at <= ?", (now,))]

    def unrevoked_for_client(self, client_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT id FROM oauth_token_families WHERE client_id = ? AND revoked_at IS NULL",
            (client_id,))]

    # -- codes ------------------------------------------------------------------------------
    def code(self, code_hash: bytes) -> CodeRecord | None:
        row = self._db.one(
            "SELECT family_id, client_id, redirect_uri, code_challenge, code_challenge_method,"
            " expires_at, used_at FROM oauth_authorization_codes WHERE code_hash = ?"
            + self._locking(), (code_hash,))
        if row is None:
            return None
        return CodeRecord(row["family_id"], row["client_id"], row["redirect_uri"],
                          row["code_challenge"], row["code_challenge_method"],
                          row["expires_at"], row["used_at"])

    def use_code(self, code_hash: bytes, now: int) -> None:
        self._db.execute("UPDATE oauth_authorization_codes SET used_at = ?"
                         " WHERE code_hash = ?", (now, code_hash))

    # -- refresh tokens ---------------------------------------------------------------------
    def use_refresh_token(self, token_hash: bytes, now: int) -> None:
        self._db.execute("UPDATE oauth_refresh_tokens SET used_at = ? WHERE token_hash = ?",
                         (now, token_hash))
