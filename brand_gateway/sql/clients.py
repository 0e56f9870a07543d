"""Brands' OAuth clients, what both engines share:
:class:`brand_gateway.repositories.ClientRepository`.

Redirect URIs, grant types, scopes and accepted agreements are JSON arrays; the secret is kept
only as its keyed hash. No member owns a client: every read joins the client's brand for its
name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from vault.sql import SqlRepository

from ..clients import OAuthClient
from ..repositories import ClientRecord

_SELECT = (
    "SELECT c.client_id, c.brand_id, c.client_secret_hash, c.redirect_uris,"
    " c.token_endpoint_auth_method, c.grant_types, c.status, c.created_at,"
    " c.secret_rotated_at, c.scopes, c.accepted_agreements, b.name AS brand_name"
    " FROM oauth_clients AS c JOIN brands AS b ON b.id = c.brand_id"
)
_BY_ID = f"{_SELECT} WHERE c.client_id = ?"


def _client(row: Any) -> OAuthClient:
    return OAuthClient(
        client_id=row["client_id"], brand_id=row["brand_id"], brand_name=row["brand_name"],
        redirect_uris=tuple(json.loads(row["redirect_uris"])),
        token_endpoint_auth_method=row["token_endpoint_auth_method"],
        grant_types=tuple(json.loads(row["grant_types"])), status=row["status"],
        created_at=row["created_at"], secret_rotated_at=row["secret_rotated_at"],
        scopes=tuple(json.loads(row["scopes"])),
        accepted_agreements=tuple(json.loads(row["accepted_agreements"])),
    )


class SqlClients(SqlRepository):
    # What orders text by its bytes: nothing on SQLite (its default collation), ' COLLATE "C"'
    # on PostgreSQL.
    _BYTEWISE: ClassVar[str]

    def insert(self, client_id: str, *, brand_id: str, secret_hash: bytes,
               redirect_uris: Sequence[str], auth_method: str, grant_types: Sequence[str],
               created_at: int, scopes: Sequence[str], accepted_agreements: Sequence[str]
               ) -> None:
        self._db.execute(
            "INSERT INTO oauth_clients (client_id, brand_id, client_secret_hash,"
            " redirect_uris, token_endpoint_auth_method, grant_types, status, created_at,"
            " secret_rotated_at, scopes, accepted_agreements)"
            " VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)",
            (client_id, brand_id, secret_hash, json.dumps(list(redirect_uris)), auth_method,
             json.dumps(list(grant_types)), created_at, created_at,
             json.dumps(list(scopes)), json.dumps(list(accepted_agreements))))

    def all(self) -> list[OAuthClient]:
        return [_client(row) for row in self._db.all(
            f"{_SELECT} ORDER BY b.name{self._BYTEWISE}, c.created_at,"
            f" c.client_id{self._BYTEWISE}")]

    def get(self, client_id: str) -> OAuthClient | None:
        row = self._db.one(_BY_ID, (client_id,))
        return None if row is None else _client(row)

    def with_secret_hash(self, client_id: str) -> ClientRecord | None:
        row = self._db.one(_BY_ID, (client_id,))
        return None if row is None else ClientRecord(_client(row),
                                                     bytes(row["client_secret_hash"]))

    def disable(self, client_id: str) -> None:
        self._db.execute("UPDATE oauth_clients SET status = 'disabled' WHERE client_id = ?",
                         (client_id,))

    def set_secret_hash(self, client_id: str, secret_hash: bytes, now: int) -> None:
        self._db.execute("UPDATE oauth_clients SET client_secret_hash = ?,"
                         " secret_rotated_at = ? WHERE client_id = ?",
                         (secret_hash, now, client_id))
