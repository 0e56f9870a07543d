"""vault.catalog: every attribute type coerces good values and names the field on bad ones."""

from __future__ import annotations

import datetime as dt

import pytest

from vault.catalog import ATTRIBUTES, BY_KEY, DataType, clean_text, coerce
from vault.errors import ValidationError

VALID = {
    DataType.TEXT: "Some text",
    DataType.EMAIL: "name@example.org",
    DataType.PHONE: "+31 20 123 4567",
    DataType.DATE: "1990-05-17",
    DataType.COUNTRY: "NL",
}
INVALID = {
    DataType.EMAIL: "not-an-email",
    DataType.PHONE: "call me maybe",
    DataType.DATE: "17/05/1990",
    DataType.INTEGER: "many",
    DataType.CHOICE: "not-a-choice",
    DataType.CHOICES: ["not-a-choice"],
    DataType.COUNTRY: "Netherlands",
}


def valid_sample(attribute):
    if attribute.type is DataType.CHOICE:
        return attribute.choices[0]
    if attribute.type is DataType.CHOICES:
        return [attribute.choices[0]]
    if attribute.type is DataType.INTEGER:
        return attribute.minimum
    return VALID[attribute.type]


def invalid_sample(attribute):
    if attribute.type is DataType.TEXT:
        return "x" * (attribute.max_length + 1)
    return INVALID[attribute.type]


def rejects(key, value) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        coerce(key, value)
    assert list(caught.value.errors) == [key]
    assert caught.value.errors[key] and all(caught.value.errors[key])
    return caught.value.errors[key]


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: a.key)
def test_every_attribute_accepts_a_valid_value(attribute):
    assert coerce(attribute.key, valid_sample(attribute)) == valid_sample(attribute)


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: a.key)
def test_every_attribute_rejects_an_invalid_value_naming_the_field(attribute):
    rejects(attribute.key, invalid_sample(attribute))


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: a.key)
@pytest.mark.parametrize("empty", [None, "", []])
def test_empty_means_not_set(attribute, empty):
    assert coerce(attribute.key, empty) is None


@pytest.mark.parametrize("key, raw, canonical", [
    ("given_name", "  Alice  ", "Alice"),
    ("country", "nl", "NL"),
    ("household_size", "3", 3),
    ("household_size", " +4 ", 4),
    ("household_size", 20, 20),
    ("date_of_birth", dt.date(1990, 5, 17), "1990-05-17"),
    ("date_of_birth", dt.datetime(1990, 5, 17, 13, 0), "1990-05-17"),
    ("date_of_birth", "1900-01-01", "1900-01-01"),
    ("interests", "cycling", ["cycling"]),
    ("interests", ["music", "cycling", "music"], ["cycling", "music"]),  # catalog order, once
    ("dietary_requirements", ("vegan", "halal"), ["vegan", "halal"]),
    ("contact_email", "a.b+c@example.co.uk", "a.b+c@example.co.uk"),
    ("phone", "(020) 123-4567", "(020) 123-4567"),
    ("health_conditions", "line one\nline two", "line one\nline two"),
    ("given_name", "Ünïcødé 熊猫", "Ünïcødé 熊猫"),
    ("hobbies", "   ", None),
])
def test_values_are_canonicalised(key, raw, canonical):
    assert coerce(key, raw) == canonical


@pytest.mark.parametrize("key, raw", [
    ("household_size", 0),
    ("household_size", 21),
    ("household_size", True),
    ("household_size", 2.5),
    ("household_size", "2.0"),
    ("household_size", "1234567890"),
    ("date_of_birth", "1899-12-31"),
    ("date_of_birth", "2999-01-01"),
    ("date_of_birth", 19900517),
    ("date_of_birth", "yesterday"),
    ("gender", "Female"),           # choices are exact
    ("interests", ["cycling", 3]),
    ("interests", {"cycling": True}),
    ("country", "NLD"),
    ("country", "N1"),
    ("country", "XX"),               # two letters, but no country's (ISO 3166-1 alpha-2)
    ("country", "zz"),
    ("contact_email", "a@b"),
    ("contact_email", "a b@example.org"),
    ("phone", "12345"),
    ("phone", "+31 20 123 4567 89 01"),  # 21 characters
    ("given_name", 42),
    ("given_name", ["Alice"]),
    ("given_name", "two\nlines"),
])
def test_invalid_values_are_rejected(key, raw):
    rejects(key, raw)


def test_an_unknown_attribute_is_rejected_by_name():
    rejects("shoe_size", "42")


@pytest.mark.parametrize("attribute",
                         [a for a in ATTRIBUTES if a.type is DataType.TEXT], ids=lambda a: a.key)
def test_text_up_to_max_length_is_accepted_and_beyond_is_not(attribute):
    assert coerce(attribute.key, "x" * attribute.max_length) == "x" * attribute.max_length
    assert f"{attribute.max_length}" in rejects(attribute.key, "x" * (attribute.max_length + 1))[0]


@pytest.mark.parametrize("char", [
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f",
])
@pytest.mark.parametrize("key", ["given_name", "health_conditions", "values_statement"])
def test_control_characters_are_rejected(key, char):
    rejects(key, f"before{char}after")


@pytest.mark.parametrize("char", ["\x85", "\x9b"])
def test_c1_control_characters_are_rejected(char):
    # U+0080..U+009F are control characters too (Unicode category Cc): NEL is a line break,
    # CSI starts a terminal escape sequence as ESC [ does.
    rejects("given_name", f"before{char}after")


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                                  "\u2066", "\u2067", "\u2068", "\u2069"])
@pytest.mark.parametrize("key", ["preferred_name", "values_statement"])
def test_text_direction_controls_are_rejected(key, char):
    # Invisible, they show the text after them reversed or reordered (CVE-2021-42574).
    with pytest.raises(ValidationError) as caught:
        coerce(key, f"before{char}after")
    assert caught.value.errors[key] == [
        "Remove the invisible characters that change the text's direction: they are not"
        " allowed."]


def test_multiline_only_where_the_catalog_allows_it():
    assert coerce("values_statement", "one\r\ntwo") == "one\r\ntwo"
    for key in ("given_name", "city", "hobbies", "contact_email"):
        rejects(key, "one\rtwo")


def test_clean_text_reasons():
    with pytest.raises(ValueError, match="text"):
        clean_text(3, max_length=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="5"):
        clean_text("123456", max_length=5)
    assert clean_text("  12345  ", max_length=5) == "12345"


def test_a_line_break_counts_as_one_character_as_a_browser_counts_it():
    # A textarea's maxlength counts a line break once; the form sends it as CR LF.
    assert clean_text("ab\r\ncd", max_length=5, multiline=True) == "ab\r\ncd"
    assert clean_text("ab\ncd", max_length=5, multiline=True) == "ab\ncd"
    with pytest.raises(ValueError, match="at most 5"):
        clean_text("ab\r\ncde", max_length=5, multiline=True)


def test_sensitive_flags():
    for key in ("religion", "health_conditions", "dietary_requirements"):
        assert BY_KEY[key].sensitive, key
    for key in ("given_name", "contact_email", "interests", "gender", "country"):
        assert not BY_KEY[key].sensitive, key


def test_catalog_shape():
    assert len(BY_KEY) == len(ATTRIBUTES)
    for attribute in ATTRIBUTES:
        if attribute.type in (DataType.CHOICE, DataType.CHOICES):
            assert attribute.choices and len(set(attribute.choices)) == len(attribute.choices)
        if attribute.type is DataType.INTEGER:
            assert attribute.minimum is not None and attribute.maximum is not None
