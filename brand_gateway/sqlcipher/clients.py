"""Brands' OAuth clients in SQLCipher: :class:`brand_gateway.repositories.ClientRepository`
(:class:`brand_gateway.sql.clients.SqlClients`: the same statements on both engines)."""

from __future__ import annotations

from ..sql.clients import SqlClients


class SqlcipherClients(SqlClients):
    _BYTEWISE = ""
