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


# Code points that draw nothing (Unicode's default ignorables that are not format characters,
# category Cf, which the key drops as a class): the combining grapheme joiner, Hangul fillers,
# Mongolian and other variation selectors. "Velo Bikes" with a zero-width space after it, or
# a name of a zero-width space alone, read as "Velo Bikes" and as no name at all.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0") | frozenset(
    chr(c) for c in (*range(0x180B, 0x1810), *range(0xFE00, 0xFE10)))


def name_key(name: str) -> str:
    """A brand name as it is compared: compatibility-normalised (NFKC), case-folded, without
    the characters that draw nothing, and its runs of spaces made one."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    visible = "".join(c for c in folded
                      if unicodedata.category(c) != "Cf" and c not in _INVISIBLE)
    return " ".join(visible.split())


def same_name(one: str, other: str) -> bool:
    """Whether two brand names read the same: equal keys (:func:`name_key`), or keys that
    Unicode's confusables (UTS #39, through the ``confusables`` package) say look alike, as
    "Ѕpokesmith" with a Cyrillic DZE and "Spokesmith", or "Ve1o" and "Velo"."""
    first, second = name_key(one), name_key(other)
    if first == second:
        return True
    # Imported on a brand's registration only: its table holds about 20 MB, which no served
    # page or read needs.
    from confusables import is_confusable
    return bool(is_confusable(first, second))


class BrandDirectory:
    def __init__(self, *, brands: BrandRepository, clock: Clock) -> None:
        self._brands = brands
        self._clock = clock

    def add(self, name: str, categories: tuple[str, ...] = ()) -> Brand:
        try:
            name = clean_text(name, max_length=MAX_NAME)
        except ValueError as exc:
            raise ValidationError({"name": [str(exc)]}) from None
        if not name_key(name):          # empty, or only characters that draw nothing
            raise ValidationError({"name": ["A brand needs a name."]})
        brand = Brand("brand_" + os.urandom(8).hex(), name, tuple(categories))
        # Members tell brands apart by name (consent screens, receipts, intents): one that
        # differs from another only by case, spacing, a look-alike form (a full-width letter,
        # a Cyrillic or Greek look-alike) or characters that draw nothing is refused as the
        # same name is.
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
