"""Token families, their grants, authorization codes and refresh tokens in PostgreSQL:
:class:`brand_gateway.repositories.AuthorizationRepository`.

Every row here is its member's (``member_id`` first in each key; the family's carried by its
grants, codes and refresh tokens, with composite foreign keys to the family, so a family
carries grants of its own member only). Family ids are random and the hashes of random
256-bit codes and tokens unique by construction: each is found by a plain index where the
caller names no member. Authorization details are a JSON array, as text.

What SQLCipher's write lock gives a redemption, a row lock gives here: inside a write
transaction :meth:`~PostgresqlAuthorizations.code` and
:meth:`~PostgresqlAuthorizations.refresh_token` lock the row they read (``FOR NO KEY
UPDATE``), so of two hosts redeeming one code or refresh token at once, the second waits for
the first and then reads it used (a replay). A revocation is one conditional ``UPDATE`` of the
family (whether this call revoked it) and one of its access tokens, in one transaction (the
caller's, or its own).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from consent.postgresql import locking
from vault.postgresql import PostgresqlRepository

from ..authorizations import Family, FamilyEnd
from ..repositories import CodeRecord, RefreshTokenRecord

FAMILY_COLUMNS = ("id, client_id, member_id, authorization_details, created_at, expires_at,"
                  " revoked_at, revoked_reason")
_FAMILIES = f"SELECT {FAMILY_COLUMNS} FROM oauth_token_families"
# The family's member, or NULL for an unknown family: refused as SQLite's foreign key refuses
# it (a ConstraintViolationError).
_MEMBER_OF_FAMILY = "(SELECT member_id FROM oauth_token_families WHERE id = ?)"


def family_from_row(row: Any) -> Family:
    """A :class:`Family` from a row of ``oauth_token_families`` (:data:`FAMILY_COLUMNS`)."""
    return Family(row["id"], row["client_id"], row["member_id"],
                  tuple(json.loads(row["authorization_details"])), row["created_at"],
                  row["expires_at"], row["revoked_at"],
                  None if row["revoked_reason"] is None else FamilyEnd(row["revoked_reason"]))


class PostgresqlAuthorizations(PostgresqlRepository):
    # -- families ---------------------------------------------------------------------------
    def insert_family(self, family_id: str, *, client_id: str, member_id: str,
                      authorization_details: Sequence[dict[str, Any]], created_at: int,
                      expires_at: int, grant_ids: Sequence[str]) -> None:
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO oauth_token_families (member_id, id, client_id,"
                " authorization_details, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (member_id, family_id, client_id, json.dumps(list(authorization_details)),
                 created_at, expires_at))
            if grant_ids:
                self._db.executemany(
                    "INSERT INTO oauth_family_grants (member_id, grant_id, family_id)"
                    " VALUES (?, ?, ?)",
                    [(member_id, grant_id, family_id) for grant_id in grant_ids])

    def family(self, family_id: str) -> Family | None:
        row = self._db.one(f"{_FAMILIES} WHERE id = ?", (family_id,))
        return None if row is None else family_from_row(row)

    def families_for_member(self, member_id: str) -> list[Family]:
        return [family_from_row(row) for row in self._db.all(
            f"{_FAMILIES} WHERE member_id = ? ORDER BY created_at DESC", (member_id,))]

    def grant_ids(self, family_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT grant_id FROM oauth_family_grants WHERE family_id = ?"
            ' ORDER BY grant_id COLLATE "C"', (family_id,))]

    def families_with_grant(self, grant_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT family_id FROM oauth_family_grants WHERE grant_id = ?", (grant_id,))]

    def revoke(self, family_id: str, reason: FamilyEnd, now: int) -> bool:
        with self._db.transaction():
            changed = self._db.execute(
                "UPDATE oauth_token_families SET revoked_at = ?, revoked_reason = ?"
                " WHERE id = ? AND revoked_at IS NULL",
                (now, FamilyEnd(reason).value, family_id)).rowcount
            self._db.execute(
                f"UPDATE oauth_access_tokens SET revoked_at = ? WHERE member_id ="
                f" {_MEMBER_OF_FAMILY} AND family_id = ? AND revoked_at IS NULL",
                (now, family_id, family_id))
        return bool(changed)

    def expired_unrevoked(self, now: int) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT id FROM oauth_token_families WHERE revoked_at IS NULL"
            " AND expires_at <= ?", (now,))]

    def unrevoked_for_client(self, client_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT id FROM oauth_token_families WHERE client_id = ? AND revoked_at IS NULL",
            (client_id,))]

    # -- codes ------------------------------------------------------------------------------
    def insert_code(self, code_hash: bytes, *, family_id: str, client_id: str,
                    redirect_uri: str, code_challenge: str, code_challenge_method: str,
                    issued_at: int, expires_at: int) -> None:
        self._db.execute(
            "INSERT INTO oauth_authorization_codes (member_id, code_hash, family_id,"
            " client_id, redirect_uri, code_challenge, code_challenge_method, issued_at,"
            f" expires_at) VALUES ({_MEMBER_OF_FAMILY}, ?, ?, ?, ?, ?, ?, ?, ?)",
            (family_id, code_hash, family_id, client_id, redirect_uri, code_challenge,
             code_challenge_method, issued_at, expires_at))

    def code(self, code_hash: bytes) -> CodeRecord | None:
        row = self._db.one(
            "SELECT family_id, client_id, redirect_uri, code_challenge, code_challenge_method,"
            " expires_at, used_at FROM oauth_authorization_codes WHERE code_hash = ?"
            + locking(self._db), (code_hash,))
        if row is None:
            return None
        return CodeRecord(row["family_id"], row["client_id"], row["redirect_uri"],
                          row["code_challenge"], row["code_challenge_method"],
                          row["expires_at"], row["used_at"])

    def use_code(self, code_hash: bytes, now: int) -> None:
        self._db.execute("UPDATE oauth_authorization_codes SET used_at = ?"
                         " WHERE code_hash = ?", (now, code_hash))

    # -- refresh tokens ---------------------------------------------------------------------
    def insert_refresh_token(self, token_hash: bytes, family_id: str, issued_at: int
                             ) -> None:
        self._db.execute(
            "INSERT INTO oauth_refresh_tokens (member_id, token_hash, family_id, issued_at)"
            f" VALUES ({_MEMBER_OF_FAMILY}, ?, ?, ?)",
            (family_id, token_hash, family_id, issued_at))

    def refresh_token(self, token_hash: bytes) -> RefreshTokenRecord | None:
        row = self._db.one(
            "SELECT r.used_at, r.family_id, f.client_id FROM oauth_refresh_tokens AS r"
            " JOIN oauth_token_families AS f ON f.member_id = r.member_id AND f.id = r.family_id"
            " WHERE r.token_hash = ?" + locking(self._db, of="r"), (token_hash,))
        return None if row is None else RefreshTokenRecord(row["family_id"], row["client_id"],
                                                           row["used_at"])

    def use_refresh_token(self, token_hash: bytes, now: int) -> None:
        self._db.execute("UPDATE oauth_refresh_tokens SET used_at = ? WHERE token_hash = ?",
                         (now, token_hash))
