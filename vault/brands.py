"""Brands as the vault knows them: a name and the categories they trade in.

The brand gateway makes brands OAuth clients; here they are what feedback is about.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

from .catalog import clean_text
from .clock import Clock
from .errors import ConflictError, NotFoundError, ValidationError
from .repositories import BrandRepository


@dataclass(frozen=True)
class Brand:
    id: str
    name: str
    categories: tuple[str, ...]


#: The longest brand name, wherever a brand is registered (the console's field says this one).
MAX_NAME = 100


def same_name(one: str, other: str) -> bool:
    """Whether two brand names read the same: equal once compatibility-normalised (NFKC),
    case-folded and with their runs of spaces made one."""
    def key(name: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return key(one) == key(other)


class BrandDirectory:
    def __init__(self, *, brands: BrandRepository, clock: Clock) -> None:
        self._brands = brands
        self._clock = clock

    def add(self, name: str, categories: tuple[str, ...] = ()) -> Brand:
        try:
            name = clean_text(name, max_length=MAX_NAME)
        except ValueError as exc:
            raise ValidationError({"name": [str(exc)]}) from None
        if not name:
            raise ValidationError({"name": ["A brand needs a name."]})
        brand = Brand("brand_" + os.urandom(8).hex(), name, tuple(categories))
        # Members tell brands apart by name (consent screens, receipts, intents): one that
        # differs from another only by case, spacing or a look-alike form (a full-width letter)
        # is refused as the same name is.
        taken = next((b.name for b in self._brands.all() if same_name(b.name, name)), None)
        if taken is not None or not self._brands.insert(brand, int(self._clock())):
            raise ConflictError(f"a brand named {taken or name!r} exists already")
        return brand

    def all(self) -> list[Brand]:
        return self._brands.all()

    def get(self, brand_id: str) -> Brand:
        row = self._brands.get(brand_id)
        if row is None:
            raise NotFoundError("no such brand")
        return row
