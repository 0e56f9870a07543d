"""The profile attributes insights may count, as public categories: what a brand may ask a
distribution of, or break an answer down by.

Only non-sensitive attributes of the community's fields are here; every sensitive one
(``vault/catalog.py``: ``sensitive=True``), every free-text one and every contact detail is
refused, as a measure and as a breakdown. Each attribute reads one profile field and turns its
value into one of a public list of categories (a group seen only in the data would itself tell
that someone is in it): age bands from the date of birth (on the clock's date), regions from the
country, household sizes capped at "5+". A value that fits no category does not count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vault.catalog import BY_KEY

AGE_BANDS = ("under-25", "25-34", "35-44", "45-54", "55-64", "65-plus")
REGIONS = ("northern-europe", "western-europe", "southern-europe", "eastern-europe",
           "north-america", "elsewhere")
HOUSEHOLD_SIZES = ("1", "2", "3", "4", "5+")
_REGION_OF = {
    **dict.fromkeys(("DK", "EE", "FI", "IE", "IS", "LT", "LV", "NO", "SE", "GB"),
                    "northern-europe"),
    **dict.fromkeys(("AT", "BE", "CH", "DE", "FR", "LI", "LU", "MC", "NL"), "western-europe"),
    **dict.fromkeys(("AD", "ES", "GR", "HR", "IT", "MT", "PT", "SI", "SM", "VA", "CY"),
                    "southern-europe"),
    **dict.fromkeys(("BG", "CZ", "HU", "PL", "RO", "SK", "UA", "MD", "BY"), "eastern-europe"),
    **dict.fromkeys(("US", "CA"), "north-america"),
}


@dataclass(frozen=True)
class Persona:
    """One attribute as insights count it: the profile ``field`` it reads (what a grant must
    cover), its public ``categories``, and whether a member may be in several of them."""

    name: str
    field: str
    categories: tuple[str, ...]
    multiple: bool
    categorise: Callable[[Any, dt.date], Any]     # the value -> a category (or a list), or None


def _choice(categories: tuple[str, ...]) -> Callable[[Any, dt.date], Any]:
    def categorise(value: Any, today: dt.date) -> Any:
        return value if value in categories else None
    return categorise


def _choices(categories: tuple[str, ...]) -> Callable[[Any, dt.date], Any]:
    def categorise(value: Any, today: dt.date) -> Any:
        if not isinstance(value, list):
            return None
        picked = [item for item in value if item in categories]
        return picked or None
    return categorise


def age_band(value: Any, today: dt.date) -> str | None:
    try:
        born = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < 0:
        return None
    for limit, band in ((25, "under-25"), (35, "25-34"), (45, "35-44"), (55, "45-54"),
                        (65, "55-64")):
        if age < limit:
            return band
    return "65-plus"


def region(value: Any, today: dt.date) -> str | None:
    if not isinstance(value, str) or len(value) != 2:
        return None
    return _REGION_OF.get(value.upper(), "elsewhere")


def household(value: Any, today: dt.date) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return str(value) if value < 5 else "5+"


def _from_catalog(key: str, *, multiple: bool = False) -> Persona:
    categories = BY_KEY[key].choices
    return Persona(key, key, categories, multiple,
                   _choices(categories) if multiple else _choice(categories))


PERSONAS: dict[str, Persona] = {persona.name: persona for persona in (
    _from_catalog("interests", multiple=True),
    _from_catalog("purchase_drivers", multiple=True),
    _from_catalog("price_sensitivity"),
    _from_catalog("tech_adoption"),
    _from_catalog("life_stage"),
    Persona("household_size", "household_size", HOUSEHOLD_SIZES, False, household),
    Persona("age_band", "date_of_birth", AGE_BANDS, False, age_band),
    Persona("region", "country", REGIONS, False, region),
)}
#: What an answer may be broken down by: one category per member.
BREAKDOWNS = tuple(name for name, persona in PERSONAS.items() if not persona.multiple)


def refusal(name: str, *, breakdown: bool) -> str | None:
    """Why ``name`` cannot be used (as a breakdown, if ``breakdown``), in words; None if it can."""
    allowed = BREAKDOWNS if breakdown else tuple(PERSONAS)
    if name in allowed:
        return None
    spec = BY_KEY.get(name)
    if spec is not None and spec.sensitive:
        return (f"{spec.label} is a sensitive attribute (GDPR Art. 9): insights never use it,"
                " as a measure or a breakdown.")
    if breakdown and name in PERSONAS:
        return ("A member may hold several of these at once; break down by one of: "
                + ", ".join(BREAKDOWNS) + ".")
    return "Insights count only these attributes: " + ", ".join(allowed) + "."
