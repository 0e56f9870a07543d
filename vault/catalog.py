"""The typed catalog of profile attributes a member can fill in.

Every attribute has a key, a category, a data type, a sensitivity flag (special-category data in
the sense of GDPR Art. 9, such as health or religion, and anything that reveals it) and the rules
its values must meet. :func:`coerce` is the one place those rules are enforced in the domain; the
web and API schemas are generated from the same definitions.

Invariant: keys are never renamed or reused once released (sealed values are bound to them);
``CATALOG_VERSION`` changes whenever an attribute is added.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pycountry

from .email_addresses import check_email
from .errors import ValidationError

CATALOG_VERSION = "2026-11.1"


class Category(StrEnum):
    IDENTITY = "identity"
    CONTACT = "contact"
    DEMOGRAPHICS = "demographics"
    PREFERENCES = "preferences"
    INTERESTS = "interests"
    MOTIVATIONS = "motivations"


CATEGORY_LABELS = {
    Category.IDENTITY: "Identity",
    Category.CONTACT: "Contact",
    Category.DEMOGRAPHICS: "Demographics",
    Category.PREFERENCES: "Preferences",
    Category.INTERESTS: "Interests",
    Category.MOTIVATIONS: "Motivations and persona",
}


class DataType(StrEnum):
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    INTEGER = "integer"
    CHOICE = "choice"
    CHOICES = "choices"      # several of a fixed list
    COUNTRY = "country"      # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class Attribute:
    key: str
    label: str
    category: Category
    type: DataType
    sensitive: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""
    autocomplete: str = "off"
    extra: dict[str, Any] = field(default_factory=dict)


_INTERESTS = (
    "cycling", "running", "outdoors", "travel", "cooking", "food-and-drink", "fashion",
    "home-and-garden", "technology", "gaming", "music", "film-and-tv", "books", "sport",
    "fitness", "parenting", "pets", "finance", "cars", "photography", "art-and-design",
)

ATTRIBUTES: tuple[Attribute, ...] = (
    # identity
    Attribute("given_name", "Given name", Category.IDENTITY, DataType.TEXT, max_length=100,
              autocomplete="given-name"),
    Attribute("family_name", "Family name", Category.IDENTITY, DataType.TEXT, max_length=100,
              autocomplete="family-name"),
    Attribute("preferred_name", "Preferred name", Category.IDENTITY, DataType.TEXT,
              max_length=100, autocomplete="nickname"),
    Attribute("date_of_birth", "Date of birth", Category.IDENTITY, DataType.DATE,
              autocomplete="bday", help="YYYY-MM-DD"),
    # contact
    Attribute("contact_email", "Contact e-mail", Category.CONTACT, DataType.EMAIL,
              max_length=254, autocomplete="email",
              help="May differ from your login address."),
    Attribute("phone", "Phone", Category.CONTACT, DataType.PHONE, max_length=20,
              autocomplete="tel", help="International format, e.g. +31 20 123 4567"),
    Attribute("street_address", "Street address", Category.CONTACT, DataType.TEXT,
              max_length=200, autocomplete="street-address"),
    Attribute("postal_code", "Postal code", Category.CONTACT, DataType.TEXT, max_length=16,
              autocomplete="postal-code"),
    Attribute("city", "City", Category.CONTACT, DataType.TEXT, max_length=100,
              autocomplete="address-level2"),
    Attribute("country", "Country", Category.CONTACT, DataType.COUNTRY,
              autocomplete="country", help="Two-letter code, e.g. NL"),
    # demographics
    Attribute("gender", "Gender", Category.DEMOGRAPHICS, DataType.CHOICE,
              choices=("female", "male", "non-binary", "self-described", "prefer-not-to-say")),
    Attribute("household_size", "People in household", Category.DEMOGRAPHICS, DataType.INTEGER,
              minimum=1, maximum=20),
    Attribute("occupation", "Occupation", Category.DEMOGRAPHICS, DataType.TEXT, max_length=100),
    Attribute("income_band", "Household income band", Category.DEMOGRAPHICS, DataType.CHOICE,
              choices=("under-20k", "20k-40k", "40k-60k", "60k-100k", "over-100k")),
    Attribute("religion", "Religion or belief", Category.DEMOGRAPHICS, DataType.TEXT,
              sensitive=True, max_length=100),
    Attribute("health_conditions", "Health conditions", Category.DEMOGRAPHICS, DataType.TEXT,
              sensitive=True, max_length=500),
    # preferences
    Attribute("preferred_language", "Preferred language", Category.PREFERENCES, DataType.CHOICE,
              choices=("en", "nl", "de", "fr", "es", "it", "pt", "pl", "sv")),
    Attribute("preferred_channel", "Preferred contact channel", Category.PREFERENCES,
              DataType.CHOICE, choices=("email", "sms", "post", "phone", "app", "none")),
    Attribute("contact_frequency", "How often brands may contact me", Category.PREFERENCES,
              DataType.CHOICE, choices=("never", "monthly", "weekly", "as-needed")),
    Attribute("dietary_requirements", "Dietary requirements", Category.PREFERENCES,
              DataType.CHOICES, sensitive=True,
              choices=("vegetarian", "vegan", "halal", "kosher", "gluten-free", "lactose-free",
                       "nut-allergy"),
              help="Marked sensitive: it can reveal health or religion."),
    Attribute("clothing_size", "Clothing size", Category.PREFERENCES, DataType.CHOICE,
              choices=("XS", "S", "M", "L", "XL", "XXL")),
    Attribute("budget_currency", "Currency", Category.PREFERENCES, DataType.CHOICE,
              choices=("EUR", "GBP", "USD", "CHF", "SEK", "PLN")),
    # interests
    Attribute("interests", "Interests", Category.INTERESTS, DataType.CHOICES, choices=_INTERESTS),
    Attribute("hobbies", "Other hobbies", Category.INTERESTS, DataType.TEXT, max_length=300),
    # motivations / persona
    Attribute("purchase_drivers", "What matters most when I buy", Category.MOTIVATIONS,
              DataType.CHOICES,
              choices=("price", "quality", "sustainability", "convenience", "brand",
                       "service", "innovation", "local")),
    Attribute("price_sensitivity", "Price sensitivity", Category.MOTIVATIONS, DataType.CHOICE,
              choices=("low", "medium", "high")),
    Attribute("tech_adoption", "New products: I am", Category.MOTIVATIONS, DataType.CHOICE,
              choices=("early-adopter", "early-majority", "late-majority", "sceptic")),
    Attribute("life_stage", "Life stage", Category.MOTIVATIONS, DataType.CHOICE,
              choices=("student", "young-professional", "family", "empty-nester", "retired")),
    Attribute("values_statement", "In my own words", Category.MOTIVATIONS, DataType.TEXT,
              max_length=1000, help="What you want brands to know about you."),
)

BY_KEY: dict[str, Attribute] = {a.key: a for a in ATTRIBUTES}
#: The text attributes that may hold line breaks (the page's textareas).
MULTILINE = frozenset({"health_conditions", "values_statement"})

_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")
#: The example the catalog's dates give (the only one is a date of birth: decades ago).
DATE_EXAMPLE = "1990-05-17"
_DATE_FORMAT = f"Enter a date as YYYY-MM-DD, for example {DATE_EXAMPLE}."
# C0 controls except tab and line ends, DEL, and the C1 range (NEL, CSI, ...).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Unicode's bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
# invisible, they make the text after them read in another direction (a comment ending in
# U+202E showed reversed, "Trojan Source", CVE-2021-42574) wherever it is shown.
DIRECTION_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_DIRECTION = re.compile(f"[{DIRECTION_CONTROLS}]")


def is_country_code(code: str) -> bool:
    """Whether ``code`` is an ISO 3166-1 alpha-2 country code, by pycountry's copy of the
    standard's list: the one check of a country wherever one is given (profile, intents,
    settings), so a made-up pair such as ``XX`` is refused everywhere alike."""
    return len(code) == 2 and code.isascii() and code.isalpha() and \
        pycountry.countries.get(alpha_2=code.upper()) is not None


def attribute(key: str) -> Attribute:
    try:
        return BY_KEY[key]
    except KeyError:
        raise ValidationError({key: ["Unknown attribute."]}) from None


def typed_length(text: str) -> int:
    """``text``'s length as a page's ``maxlength`` counts it: a browser sends each line break
    as CR LF (HTML's form submission) and counts it as one character."""
    return len(text) - text.count("\r\n")


def clean_text(value: str, *, max_length: int, multiline: bool = False) -> str:
    """Strip, refuse control characters (text direction controls included), enforce the
    length; raise ``ValueError`` with a reason.

    A line break counts as one character, as the page's ``maxlength`` counts it: a browser
    sends each as CR LF (HTML's form submission), so a textarea the browser let fill to its
    limit would otherwise be refused as too long, by one character a line."""
    if not isinstance(value, str):
        raise ValueError("Enter text.")
    value = value.strip()
    if _CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        raise ValueError("Remove the control characters: they are not allowed." if multiline
                         else "Remove the line breaks and control characters: they are not"
                         " allowed.")
    if _DIRECTION.search(value):
        raise ValueError("Remove the invisible characters that change the text's direction:"
                         " they are not allowed.")
    if typed_length(value) > max_length:
        raise ValueError(f"Use at most {max_length} characters.")
    return value


def coerce(key: str, value: Any, *, today: dt.date | None = None) -> Any:
    """The canonical value of ``value`` for attribute ``key``, or :class:`ValidationError`.

    ``None`` and the empty string mean "not set" and come back as ``None``. ``today`` bounds
    dates of birth (the caller's clock; the system date if not given).
    """
    spec = attribute(key)
    try:
        return _coerce(spec, value, today or dt.date.today())
    except ValueError as exc:
        raise ValidationError({key: [str(exc)]}) from None


def _coerce(spec: Attribute, value: Any, today: dt.date) -> Any:
    if value is None or value == "" or value == []:
        return None
    kind = spec.type
    if kind is DataType.CHOICES:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise ValueError("Tick only the boxes shown.")
        unknown = sorted(set(values) - set(spec.choices))
        if unknown:
            raise ValueError("Choose from the list; not one of the choices: "
                             + ", ".join(unknown[:3]))
        return [c for c in spec.choices if c in set(values)]
    if kind is DataType.INTEGER:
        whole = f"Enter a whole number from {spec.minimum} to {spec.maximum}."
        if isinstance(value, bool):
            raise ValueError(whole)
        if isinstance(value, str):
            if not re.fullmatch(r"[+-]?\d{1,9}", value.strip()):
                raise ValueError(whole)
            value = int(value)
        if not isinstance(value, int):
            raise ValueError(whole)
        if spec.minimum is not None and value < spec.minimum:
            raise ValueError(whole)
        if spec.maximum is not None and value > spec.maximum:
            raise ValueError(whole)
        return value
    if kind is DataType.DATE:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(_DATE_FORMAT) from None
        if not isinstance(value, dt.date):
            raise ValueError(_DATE_FORMAT)
        if spec.key == "date_of_birth" and not dt.date(1900, 1, 1) <= value <= today:
            raise ValueError("Enter a date from 1900-01-01 to today.")
        return value.isoformat()
    text = clean_text(value, max_length=spec.max_length,
                      multiline=spec.key in MULTILINE)
    if not text:
        return None
    if kind is DataType.EMAIL:
        text = check_email(text)     # ValueError with the reason, in plain words
    if kind is DataType.PHONE and not _PHONE.match(text):
        raise ValueError("Enter a phone number: digits, spaces, an optional leading +.")
    if kind is DataType.COUNTRY:
        text = text.upper()
        if not is_country_code(text):
            raise ValueError("Enter the two-letter country code of a real country (ISO 3166-1),"
                             " such as NL.")
    if kind is DataType.CHOICE and text not in spec.choices:
        raise ValueError("Choose from the list; that is not one of the choices.")
    return text


TOUCHPOINTS: tuple[tuple[str, str], ...] = (
    ("awareness", "Awareness (ads, word of mouth)"),
    ("consideration", "Consideration (research, comparing)"),
    ("purchase", "Purchase (shop, checkout)"),
    ("delivery", "Delivery"),
    ("onboarding", "Onboarding and first use"),
    ("usage", "Everyday use"),
    ("support", "Customer support"),
    ("billing", "Billing and payment"),
    ("returns", "Returns and refunds"),
    ("loyalty", "Loyalty and renewal"),
)
TOUCHPOINT_KEYS = frozenset(k for k, _ in TOUCHPOINTS)
