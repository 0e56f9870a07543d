"""Brands' OAuth clients in PostgreSQL: :class:`brand_gateway.repositories.ClientRepository`
(:class:`brand_gateway.sql.clients.SqlClients`: the same statements on both engines).

Lists are JSON arrays as text; the secret's keyed hash is ``bytea``. ``oauth_clients`` is
shared (under Citus a reference table, like ``brands``); names and ids order by their bytes,
as on SQLite.
"""

from __future__ import annotations

from ..sql.clients import SqlClients


class PostgresqlClients(SqlClients):
    _BYTEWISE = ' COLLATE "C"'
