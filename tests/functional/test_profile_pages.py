"""The profile page: saving, showing again, and refusing bad values without saving any of them."""

from __future__ import annotations

import re

import pytest

from vault.catalog import ATTRIBUTES, DataType

from .pages import error_summary, field_errors, fields_with_errors, flashes, form_fields

VALID = {
    "given_name": "Alice",
    "family_name": "van Dijk",
    "date_of_birth": "1990-05-17",
    "contact_email": "alice.contact@example.org",
    "phone": "+31 20 123 4567",
    "city": "Utrecht",
    "country": "nl",
    "gender": "female",
    "household_size": "3",
    "preferred_language": "nl",
    "interests": ["cycling", "books"],
    "dietary_requirements": ["vegetarian"],
    "values_statement": "I like brands that repair\nwhat they sell.",
}
STORED = {
    "given_name": "Alice",
    "family_name": "van Dijk",
    "date_of_birth": "1990-05-17",
    "contact_email": "alice.contact@example.org",
    "phone": "+31 20 123 4567",
    "city": "Utrecht",
    "country": "NL",
    "gender": "female",
    "household_size": 3,
    "preferred_language": "nl",
    "interests": ["cycling", "books"],
    "dietary_requirements": ["vegetarian"],
    "values_statement": "I like brands that repair\nwhat they sell.",
}


def checked(page: str, key: str, choice: str) -> bool:
    return re.search(rf'name="{key}" value="{choice}"\s*checked', page) is not None


def selected(page: str, choice: str) -> bool:
    return f'<option value="{choice}" selected>' in page


def test_saved_values_are_stored_and_shown_again(alice, vault):
    response = alice.auth.post("/member/profile", VALID)
    assert response.status_code == 302
    assert vault.profile.get(alice.id) == STORED

    page = alice.client.get("/member/profile").get_data(as_text=True)
    assert "Your profile is saved." in flashes(page)
    assert 'name="given_name"' in page and 'value="Alice"' in page
    assert 'value="van Dijk"' in page
    assert 'value="1990-05-17"' in page
    assert 'value="NL"' in page
    assert 'value="3"' in page
    assert selected(page, "female") and selected(page, "nl")
    assert checked(page, "interests", "cycling") and checked(page, "interests", "books")
    assert not checked(page, "interests", "gaming")
    assert "I like brands that repair\nwhat they sell.</textarea>" in page


def test_dashboard_counts_filled_in_attributes(alice):
    alice.auth.post("/member/profile", {"given_name": "Alice", "date_of_birth": "1990-05-17"})
    page = alice.client.get("/member/").get_data(as_text=True)
    assert re.search(r"Identity</th>\s*<td><meter[^>]*value=\"2\"", page)


def test_the_page_as_rendered_can_be_saved_with_most_fields_left_blank(alice, vault):
    # What a browser sends for a fresh profile where only the given name was typed: every
    # field of the form, the blank ones as empty strings.
    page = alice.client.get("/member/profile").get_data(as_text=True)
    fields = [(k, "Alice" if k == "given_name" else v)
              for k, v in form_fields(page, "/member/profile")]
    assert ("household_size", "") in fields and ("date_of_birth", "") in fields

    response = alice.client.post("/member/profile", data=_multi(fields))
    assert response.status_code == 302, fields_with_errors(response.get_data(as_text=True))
    assert vault.profile.get(alice.id) == {"given_name": "Alice"}


def test_resubmitting_the_page_as_rendered_keeps_every_value(alice, vault):
    alice.auth.post("/member/profile", VALID)
    page = alice.client.get("/member/profile").get_data(as_text=True)

    response = alice.client.post("/member/profile",
                                 data=_multi(form_fields(page, "/member/profile")))
    assert response.status_code == 302, fields_with_errors(response.get_data(as_text=True))
    assert vault.profile.get(alice.id) == STORED


def test_an_empty_value_clears_an_attribute(alice, vault):
    alice.auth.post("/member/profile", {"given_name": "Alice", "city": "Utrecht"})
    response = alice.auth.post("/member/profile", {"given_name": "Alice", "city": ""})
    assert response.status_code == 302
    assert vault.profile.get(alice.id) == {"given_name": "Alice"}


def test_unticked_checkboxes_clear_a_choices_attribute(alice, vault):
    alice.auth.post("/member/profile", {"interests": ["cycling", "books"],
                                        "purchase_drivers": ["price"], "given_name": "Alice"})
    assert vault.profile.get(alice.id)["interests"] == ["cycling", "books"]

    # Nothing ticked: browsers send no field at all for the list.
    response = alice.auth.post("/member/profile", {"given_name": "Alice"})
    assert response.status_code == 302
    assert vault.profile.get(alice.id) == {"given_name": "Alice"}
    page = alice.client.get("/member/profile").get_data(as_text=True)
    assert not checked(page, "interests", "cycling")


SEEDED = {"given_name": "Alice", "city": "Utrecht", "interests": ["cycling"]}


@pytest.fixture
def seeded(alice, vault):
    vault.profile.update(alice.id, SEEDED)
    return alice


HOUSEHOLD = "People in household: Enter a whole number from 1 to 20."
BIRTH_RANGE = "Date of birth: Enter a date from 1900-01-01 to today."
COUNTRY = "Country: Enter the two-letter country code of a real country (ISO 3166-1), such as NL."
ONE_LINE = "Remove the line breaks and control characters: they are not allowed."


# Each message names the field as its label does and says what to do.
@pytest.mark.parametrize(("field", "value", "message"), [
    ("household_size", "abc", HOUSEHOLD),
    ("household_size", "0", HOUSEHOLD),
    ("household_size", "21", HOUSEHOLD),
    ("country", "Netherlands", COUNTRY),
    ("country", "XX", COUNTRY),                 # two letters, but no country's
    ("country", "zz", COUNTRY),
    ("date_of_birth", "2999-01-01", BIRTH_RANGE),
    ("date_of_birth", "1899-12-31", BIRTH_RANGE),
    # A plausible date of birth as the example, not a date of this year.
    ("date_of_birth", "17/05/1990", "Date of birth: Enter a date as YYYY-MM-DD, for example"
                                    " 1990-05-17."),
    ("gender", "robot", "Gender: Choose from the list; that is not one of the choices."),
    ("contact_email", "not an address",
     "Contact e-mail: Enter an e-mail address like name@example.org."),
    ("phone", "call me maybe",
     "Phone: Enter a phone number: digits, spaces, an optional leading +."),
    ("interests", "knitting", "Interests: Choose from the list; not one of the choices: knitting"),
    ("given_name", "x" * 5000, "Given name: Use at most 100 characters."),
    ("values_statement", "y" * 1001, "In my own words: Use at most 1000 characters."),
    # 1,001 characters as the page counts them (a line break is one), 1,011 as sent.
    ("values_statement", ("y" * 90 + "\r\n") * 10 + "y" * 91,
     "In my own words: Use at most 1000 characters."),
    ("given_name", "Ali\x00ce", "Given name: " + ONE_LINE),
    ("city", "Utrecht\nAmsterdam", "City: " + ONE_LINE),
    ("preferred_name", "\u2067Ali\u2069ce", "Preferred name: Remove the invisible characters"
                                           " that change the text's direction: they are not"
                                           " allowed."),
])
def test_an_invalid_value_is_shown_next_to_its_field_and_nothing_is_saved(
        seeded, vault, field, value, message):
    # Valid changes sent along with the bad one must not be saved either (all or nothing).
    form = {"given_name": "Bob", "city": "Leiden", "interests": ["books"],
            "preferred_language": "de", field: value}
    response = seeded.auth.post("/member/profile", form)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert fields_with_errors(page) == {field}
    assert field_errors(page, field) == [message]
    assert f'aria-describedby="{field}' in page or field in {"interests"}
    assert "Please correct the field marked below." in error_summary(page)
    assert vault.profile.get(seeded.id) == SEEDED


@pytest.mark.parametrize("field", ["values_statement", "health_conditions"])
def test_a_textarea_filled_to_its_maxlength_with_line_breaks_is_saved(alice, vault, field):
    """A browser lets a textarea hold ``maxlength`` characters counting each line break as
    one, and sends each as CR LF (HTML's form submission): what it let through is saved, not
    refused as too long by one character per line."""
    limit = next(spec.max_length for spec in ATTRIBUTES if spec.key == field)
    page = alice.client.get("/member/profile").get_data(as_text=True)
    assert re.search(rf'<textarea id="{field}" name="{field}" rows="3" maxlength="{limit}"',
                     page)
    value = ("w" * 49 + "\r\n") * (limit // 50 - 1) + "w" * 50     # `limit` characters
    response = alice.auth.post("/member/profile", {field: value})
    assert response.status_code == 302
    assert vault.profile.get(alice.id)[field] == value


def test_several_invalid_values_are_all_reported(seeded, vault):
    response = seeded.auth.post("/member/profile", {
        "household_size": "25", "country": "Netherlands", "gender": "robot",
        "date_of_birth": "2999-01-01", "given_name": "Bob"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert fields_with_errors(page) == {"household_size", "country", "gender", "date_of_birth"}
    assert "Please correct the fields marked below." in error_summary(page)
    assert vault.profile.get(seeded.id) == SEEDED


def test_the_refused_form_keeps_what_was_typed(seeded):
    response = seeded.auth.post("/member/profile", {"given_name": "Bob", "country": "Narnia"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="Bob"' in page and 'value="Narnia"' in page


@pytest.mark.parametrize("field", ["shoe_size", "member_id", "email_index"])
def test_an_unknown_attribute_is_refused(seeded, vault, field):
    response = seeded.auth.post("/member/profile", {"given_name": "Bob", field: "42"})
    assert response.status_code == 422
    assert "Reload the page and try again." in error_summary(response.get_data(as_text=True))
    assert vault.profile.get(seeded.id) == SEEDED


def test_every_catalog_attribute_is_on_the_page(alice):
    page = alice.client.get("/member/profile").get_data(as_text=True)
    for spec in ATTRIBUTES:
        assert f'name="{spec.key}"' in page, spec.key
        if spec.sensitive:
            label = re.search(rf"{re.escape(spec.label)}\s*<span class=\"badge\">sensitive",
                              page)
            assert label, f"{spec.key} is not marked sensitive"
    integer_specs = [s for s in ATTRIBUTES if s.type is DataType.INTEGER]
    for spec in integer_specs:
        assert re.search(rf'id="{spec.key}"\s+name="{spec.key}"\s+type="number"', page)


def _multi(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for key, value in fields:
        data.setdefault(key, []).append(value)
    return data
