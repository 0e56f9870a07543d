"""Brands (name and categories) in SQLCipher: :class:`vault.repositories.BrandRepository`."""

from __future__ import annotations

import json
from typing import Any

from ..brands import Brand
from ..errors import ConstraintViolationError
from . import SqlcipherRepository


def _brand(row: Any) -> Brand:
    return Brand(row["id"], row["name"], tuple(json.loads(row["categories"])))


class SqlcipherBrands(SqlcipherRepository):
    def insert(self, brand: Brand, created_at: int) -> bool:
        try:
            self._db.execute(
                "INSERT INTO brands (id, name, categories, created_at) VALUES (?, ?, ?, ?)",
                (brand.id, brand.name, json.dumps(list(brand.categories)), created_at))
        except ConstraintViolationError:
            return False
        return True

    def all(self) -> list[Brand]:
        return [_brand(row) for row in self._db.all(
            "SELECT id, name, categories FROM brands ORDER BY name")]

    def get(self, brand_id: str) -> Brand | None:
        row = self._db.one("SELECT id, name, categories FROM brands WHERE id = ?", (brand_id,))
        return None if row is None else _brand(row)

    def exists(self, brand_id: str) -> bool:
        return self._db.one("SELECT 1 FROM brands WHERE id = ?", (brand_id,)) is not None
