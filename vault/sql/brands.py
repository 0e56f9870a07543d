"""Brands (name and categories): :class:`vault.repositories.BrandRepository`. The reads are
the same statements on both engines; each engine's module adds a brand, refusing one whose id
or name is taken (the table's constraints), and says how names sort (as SQLite does: bytes
compared)."""

from __future__ import annotations

import json
from typing import Any

from ..brands import Brand
from . import SqlRepository


def _brand(row: Any) -> Brand:
    return Brand(row["id"], row["name"], tuple(json.loads(row["categories"])))


class SqlBrands(SqlRepository):
    #: How :meth:`all` orders brands by name (SQLite compares text as bytes).
    _BY_NAME = "ORDER BY name"

    def all(self) -> list[Brand]:
        return [_brand(row) for row in self._db.all(
            f"SELECT id, name, categories FROM brands {self._BY_NAME}")]

    def get(self, brand_id: str) -> Brand | None:
        row = self._db.one("SELECT id, name, categories FROM brands WHERE id = ?", (brand_id,))
        return None if row is None else _brand(row)

    def exists(self, brand_id: str) -> bool:
        return self._db.one("SELECT 1 FROM brands WHERE id = ?", (brand_id,)) is not None
