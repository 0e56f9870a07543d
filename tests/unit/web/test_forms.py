"""The member pages' forms: both kinds of validation at once, in words a member reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from vault.errors import ValidationError
from web.forms import (
    FORM,
    DeleteAccountForm,
    FeedbackForm,
    NarrowForm,
    ProfileForm,
    SignupForm,
    TermsForm,
    check_signup,
    load,
    member_words,
)

SCHEMAS = [SignupForm, DeleteAccountForm, FeedbackForm, NarrowForm, ProfileForm, TermsForm]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
def test_every_field_has_a_label(schema: type) -> None:
    form = schema()
    for name, field in form.fields.items():
        assert field.metadata.get("label"), name
        assert form.label(field.data_key or name) == field.metadata["label"]


def test_the_schema_and_the_domain_check_are_both_reported() -> None:
    def check(values: dict[str, Any]) -> None:
        assert "rating" not in values        # refused by the schema: not passed on
        raise ValidationError({"brand_id": ["Choose a brand from the list."],
                               "rating": ["Enter a whole number from 1 to 5."]})

    with pytest.raises(ValidationError) as caught:
        load(FeedbackForm(), {"brand_id": "brand_x", "touchpoint": "purchase", "rating": "lots",
                              "occurred_on": "2026-01-02"}, check=check)
    assert caught.value.errors == {
        "rating": ["Rating (1-5): Enter a whole number from 1 to 5."],
        "brand_id": ["Brand: Choose a brand from the list."]}


def test_a_passing_form_is_checked_and_returned() -> None:
    seen: list[dict[str, Any]] = []
    loaded = load(NarrowForm(), {"fields": ["city"], "ends_on": "2027-01-02"},
                  check=seen.append)
    assert loaded == {"selected": ["city"], "ends_on": dt.date(2027, 1, 2)} == seen[0]


def test_a_domain_key_is_shown_at_its_field_of_the_form() -> None:
    words = member_words(NarrowForm(), {"ends_at": ["Choose an earlier end."]})
    assert words == {"ends_on": ["End on: Choose an earlier end."]}


def test_unknown_fields_are_said_about_the_form_without_their_names() -> None:
    with pytest.raises(ValidationError) as caught:
        load(SignupForm(), {"email": "a@example.org", "password": "x", "is_admin": "1",
                            "member_id": "2"})
    assert list(caught.value.errors) == [FORM]
    message = " ".join(caught.value.errors[FORM])
    assert "is_admin" not in message and "member_id" not in message
    assert "Reload the page" in message


def test_a_domain_rule_about_the_whole_form_passes_unchanged() -> None:
    words = member_words(NarrowForm(), {"grant": ["This grant is no longer active."]})
    assert words == {FORM: ["This grant is no longer active."]}


def test_member_words_is_idempotent_and_never_shows_library_defaults() -> None:
    raw = {"max_days": ["Not a valid integer."], "agreement": ["Missing data for required field."]}
    once = member_words(TermsForm(), raw)
    assert once == {"max_days": ["Longest grant I allow, in days: Enter a whole number."],
                    "agreement": ["The term I offer brands: Fill this in."]}
    assert member_words(TermsForm(), once) == once


def test_sign_up_reports_the_address_and_the_password_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        check_signup({"email": "not an address", "password": "short"})
    assert set(caught.value.errors) == {"email", "password"}
    check_signup({"email": "alice@example.org", "password": "correct horse battery staple"})
