"""Brands' names as the gateway shows them, what both engines share:
:class:`brand_gateway.repositories.BrandNameRepository` (the ``brands`` table is the vault's)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from typing import Any

from vault.sql import SqlRepository


class SqlBrandNames(SqlRepository, ABC):
    def names(self, brand_ids: Collection[str] | None = None) -> dict[str, str]:
        if brand_ids is None:
            rows = self._db.all("SELECT id, name FROM brands")
        elif not brand_ids:
            return {}
        else:
            rows = self._named(sorted(brand_ids))
        return {row["id"]: row["name"] for row in rows}

    @abstractmethod
    def _named(self, brand_ids: list[str]) -> list[Any]:
        """The ``(id, name)`` rows of the brands ``brand_ids`` (some)."""
