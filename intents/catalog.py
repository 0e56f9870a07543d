"""What an intent is made of: its category, money, and a coarse place.

- Categories are identifiers from :data:`CATEGORIES`, never renamed or reused once released
  (brands register for them and filter by them). None reveals special-category data (GDPR
  Art. 9: health, religion, politics, sexual life, trade-union membership): an intent is shown
  to every brand of its category.
- Money is an ISO 4217 code (pycountry's list of current currencies, without funds, precious
  metals and the testing codes) and an amount in the currency's minor units (CLDR's digits,
  through Babel), so amounts compare and sort as integers; the API and the pages write them
  as decimal strings ("749.00").
- A place is coarse by construction: an ISO 3166-1 country, an ISO 3166-2 region of it, and
  optionally a city name; anything that looks like an address is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pycountry
from babel.numbers import get_currency_precision

from vault.catalog import is_country_code
from vault.errors import ValidationError


@dataclass(frozen=True)
class IntentCategory:
    id: str
    label: str


CATEGORIES: tuple[IntentCategory, ...] = tuple(IntentCategory(*pair) for pair in (
    ("bicycles", "Bicycles"), ("travel", "Travel"), ("insurance", "Insurance"),
    ("groceries", "Groceries"), ("electronics", "Electronics"),
    ("home-services", "Home services"), ("automotive", "Cars"),
    ("motorcycles", "Motorcycles"), ("furniture", "Furniture"),
    ("appliances", "Household appliances"), ("clothing", "Clothing"),
    ("footwear", "Shoes"), ("jewellery", "Jewellery and watches"), ("beauty", "Beauty"),
    ("sports", "Sports equipment"), ("outdoor", "Outdoor and camping"),
    ("fitness", "Fitness equipment"), ("toys", "Toys and games"),
    ("baby", "Baby and children"), ("pets", "Pet supplies"), ("books", "Books"),
    ("music", "Musical instruments"), ("streaming", "Films, music and streaming"),
    ("software", "Software"), ("computers", "Computers"), ("phones", "Mobile phones"),
    ("mobile-plans", "Mobile and phone plans"), ("energy", "Energy and utilities"),
    ("broadband", "Broadband and internet"), ("banking", "Banking"),
    ("loans", "Loans and mortgages"), ("real-estate", "Buying a home"),
    ("rentals", "Renting a home"), ("moving", "Moving house"), ("cleaning", "Cleaning"),
    ("gardening", "Gardening"), ("home-improvement", "Home improvement"),
    ("tools", "Tools and hardware"), ("office", "Office supplies"),
    ("courses", "Courses and training"), ("tickets", "Events and tickets"),
    ("restaurants", "Restaurants"), ("catering", "Catering"), ("weddings", "Weddings"),
    ("photography", "Photography"), ("car-rental", "Car rental"), ("hotels", "Hotels"),
    ("flights", "Flights"), ("cruises", "Cruises"), ("gifts", "Gifts and flowers"),
))
CATEGORY_BY_ID: dict[str, IntentCategory] = {c.id: c for c in CATEGORIES}
assert len(CATEGORY_BY_ID) == len(CATEGORIES) == 50

# Codes in ISO 4217's list that are not money a member budgets in: bond-market units, precious
# metals, the IMF's SDR, the "testing" and "no currency" codes, and fund codes.
_NOT_MONEY = frozenset({"XAU", "XAG", "XPD", "XPT", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC",
                        "XBD", "XTS", "XXX", "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN",
                        "UYI", "UYW"})
CURRENCIES: frozenset[str] = frozenset(
    c.alpha_3 for c in pycountry.currencies if c.alpha_3 not in _NOT_MONEY)
#: The largest amount accepted, in major units.
MAX_MAJOR = 10 ** 12

_AMOUNT = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,4})?")
_CITY = re.compile(r"[^\W\d_]+(?:[ '.\-/][^\W\d_]+)*\.?")
_STREETISH = re.compile(r"\b(street|str|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|"
                        r"way|strasse|straße|rue|calle|via|platz|square|sq|apt|apartment|"
                        r"suite|floor|house|no)\b", re.IGNORECASE)
MAX_CITY = 60


def check_category(value: object, *, field: str = "category") -> str:
    if not isinstance(value, str) or value not in CATEGORY_BY_ID:
        raise ValidationError({field: ["Choose one of the categories of the catalog."]})
    return value


def check_currency(value: object, *, field: str = "currency") -> str:
    if not isinstance(value, str) or value not in CURRENCIES:
        raise ValidationError({field: ["An ISO 4217 currency code, such as EUR or USD."]})
    return value


def minor_digits(currency: str) -> int:
    """How many decimals the currency's amounts have (JPY 0, EUR 2, BHD 3; CLDR's data)."""
    return int(get_currency_precision(currency))


def parse_amount(value: object, currency: str, *, field: str, positive: bool = False) -> int:
    """The amount written as a decimal string ("749", "749.5", "749.50"), in minor units."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, int) \
        and not isinstance(value, bool) else None
    digits = minor_digits(currency)
    if text is None or not _AMOUNT.fullmatch(text.strip()):
        return _amount_error(field, "An amount such as 749.00, not negative.")
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        return _amount_error(field, "An amount such as 749.00, not negative.")
    if -amount.as_tuple().exponent > digits:  # type: ignore[operator]
        return _amount_error(field, f"{currency} amounts have at most {digits} decimals.")
    if amount > MAX_MAJOR:
        return _amount_error(field, f"At most {MAX_MAJOR:,} {currency}.")
    if positive and amount <= 0:
        return _amount_error(field, "More than zero.")
    return int(amount.scaleb(digits))


def _amount_error(field: str, message: str) -> int:
    raise ValidationError({field: [message]})


def format_amount(minor: int, currency: str) -> str:
    """``minor`` units as a decimal string with the currency's decimals: 74950 EUR -> 749.50."""
    digits = minor_digits(currency)
    return str(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))


def check_location(country: object, region: object, city: object
                   ) -> tuple[str | None, str | None, str | None]:
    """A coarse place: country (ISO 3166-1 alpha-2), region (an ISO 3166-2 code of it), city
    (a name, only with a country); each may be left out. One error per bad part."""
    errors: dict[str, list[str]] = {}
    return _location(_blank(country), _blank(region), _blank(city), errors)


def _location(country: str | None, region: str | None, city: str | None,
              errors: dict[str, list[str]]) -> tuple[str | None, str | None, str | None]:
    if country is not None:
        country = country.upper()
        if not is_country_code(country):
            errors["country"] = ["An ISO 3166-1 country code, such as DE or US."]
    if region is not None:
        region = region.upper()
        found = pycountry.subdivisions.get(code=region)
        if found is None:
            errors["region"] = ["An ISO 3166-2 region code, such as DE-BE or US-CA."]
        elif country is None:
            country = found.country_code
        elif found.country_code != country:
            errors["region"] = ["That region is not in the country given."]
    if city is not None:
        if _looks_like_address(city):
            errors["city"] = ["Give a city or region, not an address."]
        elif len(city) > MAX_CITY or not _CITY.fullmatch(city):
            errors["city"] = [f"A city name: letters, spaces and - ' . only, at most "
                              f"{MAX_CITY} characters."]
        elif country is None:
            errors["country"] = ["Give the country of the city."]
    if errors:
        raise ValidationError(errors)
    return country, region, city


def check_region_filter(value: str) -> str:
    """A brand's region filter: a country (``DE``) or a region (``DE-BE``)."""
    code = value.strip().upper()
    if not is_country_code(code) and \
            pycountry.subdivisions.get(code=code) is None:
        raise ValidationError({"region": ["An ISO 3166-1 country or ISO 3166-2 region code."]})
    return code


def _blank(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError({"location": ["Text, please."]})
    value = value.strip()
    return value or None


def _looks_like_address(text: str) -> bool:
    return (any(ch.isdigit() for ch in text) or "," in text or "@" in text
            or "#" in text or bool(_STREETISH.search(text)))
