"""What a member's export reads of the gateway's tables, what both engines share:
:class:`brand_gateway.repositories.GatewayExportRepository`.

Reads only; never a code, token or refresh-token hash, nor a PKCE challenge. A notification is
found by the brand's pseudonym of the member inside the webhook payload (the engine's JSON
function), one row per endpoint of the brand. The placeholders of that query are built from
the number of pseudonyms only; every value is a parameter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from vault.sql import SqlRepository

from ..repositories import FamilyExportRecord, NotificationRecord
from .authorizations import family_from_row


class SqlGatewayExport(SqlRepository, ABC):
    # What orders text by its bytes: nothing on SQLite (its default collation), ' COLLATE "C"'
    # on PostgreSQL.
    _BYTEWISE: ClassVar[str]
    # The engine's expression of the subject (``data.subject``) of an outbox row's payload.
    _SUBJECT: ClassVar[str]

    @abstractmethod
    def _of_family(self, member_id: str, family_id: str) -> tuple[str, tuple[str, ...]]:
        """The condition that a row of a family's grants, codes or tokens is the family
        ``family_id``'s (the member ``member_id``'s), and its parameters."""

    def identifiers(self, member_id: str) -> list[tuple[str, str]]:
        return [(row["brand_id"], row["pairwise_id"]) for row in self._db.all(
            "SELECT brand_id, pairwise_id FROM pairwise_subjects WHERE member_id = ?"
            f" ORDER BY brand_id{self._BYTEWISE}", (member_id,))]

    def brands_told(self, member_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT brand_id FROM (SELECT brand_id FROM pairwise_subjects WHERE member_id = ?"
            " UNION SELECT brand_id FROM agreements WHERE member_id = ?"
            " UNION SELECT brand_id FROM grants WHERE member_id = ?"
            " UNION SELECT brand_id FROM receipts WHERE member_id = ?) AS told"
            f" ORDER BY brand_id{self._BYTEWISE}", (member_id,) * 4)]

    def authorizations(self, member_id: str) -> list[FamilyExportRecord]:
        families = self._db.all(
            "SELECT f.id, f.client_id, f.member_id, f.authorization_details, f.created_at,"
            " f.expires_at, f.revoked_at, f.revoked_reason, c.brand_id"
            " FROM oauth_token_families AS f"
            " JOIN oauth_clients AS c ON c.client_id = f.client_id"
            f" WHERE f.member_id = ? ORDER BY f.created_at, f.id{self._BYTEWISE}", (member_id,))
        result = []
        for f in families:
            of_family, family = self._of_family(member_id, f["id"])
            grants = tuple(r[0] for r in self._db.all(
                f"SELECT grant_id FROM oauth_family_grants WHERE {of_family}"
                f" ORDER BY grant_id{self._BYTEWISE}", family))
            code = self._db.one(
                "SELECT redirect_uri, issued_at, used_at FROM oauth_authorization_codes"
                f" WHERE {of_family} ORDER BY issued_at LIMIT 1", family)
            access = self._db.one(
                "SELECT count(*), min(issued_at), max(issued_at), max(expires_at)"
                f" FROM oauth_access_tokens WHERE {of_family}", family)
            refresh = self._db.one(
                f"SELECT count(*), max(issued_at) FROM oauth_refresh_tokens WHERE {of_family}",
                family)
            result.append(FamilyExportRecord(
                family_from_row(f), f["brand_id"], grants,
                code["redirect_uri"] if code else None, code["issued_at"] if code else None,
                code["used_at"] if code else None, access[0], access[1], access[2], access[3],
                refresh[0], refresh[1]))
        return result

    def notifications(self, subjects: Sequence[tuple[str, str]]) -> list[NotificationRecord]:
        if not subjects:
            return []
        pairs = ", ".join("(CAST(? AS TEXT), CAST(? AS TEXT))" for _ in subjects)
        return [NotificationRecord(r["brand_id"], r["event_type"], r["event_id"], r["status"],
                                   r["created_at"], r["delivered_at"]) for r in self._db.all(
            "SELECT c.brand_id, o.event_type, o.event_id, o.status, o.created_at,"
            " o.delivered_at FROM webhook_outbox AS o"
            " JOIN oauth_clients AS c ON c.client_id = o.client_id"
            f" WHERE (c.brand_id, {self._SUBJECT}) IN (VALUES {pairs})"
            " ORDER BY o.created_at, o.id",
            tuple(value for pair in subjects for value in pair))]
