"""Brands as the vault knows them: a name and the categories they trade in.

The brand gateway makes brands OAuth clients; here they are what feedback is about.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .catalog import clean_text
from .clock import Clock
from .errors import ConflictError, ConstraintViolationError, NotFoundError, ValidationError
from .storage import Database


@dataclass(frozen=True)
class Brand:
    id: str
    name: str
    categories: tuple[str, ...]


class BrandDirectory:
    def __init__(self, *, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def add(self, name: str, categories: tuple[str, ...] = ()) -> Brand:
        try:
            name = clean_text(name, max_length=100)
        except ValueError as exc:
            raise ValidationError({"name": [str(exc)]}) from None
        if not name:
            raise ValidationError({"name": ["A brand needs a name."]})
        brand = Brand("brand_" + os.urandom(8).hex(), name, tuple(categories))
        try:
            self._db.execute(
                "INSERT INTO brands (id, name, categories, created_at) VALUES (?, ?, ?, ?)",
                (brand.id, brand.name, json.dumps(list(categories)), int(self._clock())),
            )
        except ConstraintViolationError:
            raise ConflictError(f"a brand named {name!r} exists already") from None
        return brand

    def all(self) -> list[Brand]:
        return [self._brand(r) for r in self._db.all("SELECT * FROM brands ORDER BY name")]

    def get(self, brand_id: str) -> Brand:
        row = self._db.one("SELECT * FROM brands WHERE id = ?", (brand_id,))
        if row is None:
            raise NotFoundError("no such brand")
        return self._brand(row)

    @staticmethod
    def _brand(row: object) -> Brand:
        return Brand(row["id"], row["name"], tuple(json.loads(row["categories"])))  # type: ignore[index]
