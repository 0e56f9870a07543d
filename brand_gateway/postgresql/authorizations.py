"""Token families, their grants, authorization codes and refresh tokens in PostgreSQL:
:class:`brand_gateway.repositories.AuthorizationRepository` (what both engines share is
:class:`brand_gateway.sql.authorizations.SqlAuthorizations`).

Every row here is its member's (``member_id`` first in each key; the family's carried by its
grants, codes and refresh tokens, with composite foreign keys to the family, so a family
carries grants of its own member only). Family ids are random and the hashes of random
256-bit codes and tokens unique by construction: each is found by a plain index where the
caller names no member. Authorization details are a JSON array, as text. Grant ids order by
their bytes, as on SQLite.

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
from vault.postgresql.database import Database

from ..authorizations import FamilyEnd
from ..repositories import RefreshTokenRecord
from ..sql.authorizations import SqlAuthorizations

# The family's member, or NULL for an unknown family: refused as SQLite's foreign key refuses
# it (a ConstraintViolationError).
_MEMBER_OF_FAMILY = "(SELECT member_id FROM oauth_token_families WHERE id = ?)"


class PostgresqlAuthorizations(SqlAuthorizations):
    _db: Database
    _BYTEWISE = ' COLLATE "C"'

    def _locking(self, of: str = "") -> str:
        return locking(self._db, of)

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
            " WHERE r.token_hash = ?" + self._locking(of="r"), (token_hash,))
        return None if row is None else RefreshTokenRecord(row["family_id"], row["client_id"],
                                                           row["used_at"])
