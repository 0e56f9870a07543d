"""brand_gateway.rar: the ``authorization_details`` of a member-data request (RFC 9396 sec. 2, 5),
parsed all or nothing, DPV categories expanded to vault fields, sensitive data only by name."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from brand_gateway import rar
from brand_gateway.errors import InvalidAuthorizationDetailsError
from brand_gateway.rar import (
    CATEGORY_FIELDS,
    DETAIL_TYPE,
    MemberDataDetail,
    parse,
)
from consent.grants import MAX_RETENTION_DAYS
from consent.model import Mode
from consent.vocabulary import FIELD_CATEGORY, PURPOSES, SENSITIVE_FIELDS

API = "https://vault.example/api/v1"
BASE: dict[str, Any] = {"type": DETAIL_TYPE, "purpose": "dpv:ServiceProvision",
                        "datatypes": ["given_name"]}
# RFC 6749 sec. 4.1.2.1 / 5.2: the only characters an error_description may hold.
ERROR_DESCRIPTION = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]+$")


def one(**changes: Any) -> str:
    return json.dumps([BASE | changes])


def without(key: str) -> str:
    return json.dumps([{k: v for k, v in BASE.items() if k != key}])


# -- what is accepted ---------------------------------------------------------------------------
def test_a_minimal_detail_gets_the_defaults() -> None:
    (detail,) = parse(one())
    assert detail == MemberDataDetail("dpv:ServiceProvision", ("given_name",),
                                      rar.DEFAULT_DURATION_DAYS, rar.DEFAULT_RETENTION_DAYS)


def test_fields_are_listed_once_in_catalogue_order() -> None:
    (detail,) = parse(one(datatypes=["feedback", "city", "given_name", "city"]))
    order = list(FIELD_CATEGORY)
    assert detail.fields == ("given_name", "city", "feedback")
    assert list(detail.fields) == sorted(detail.fields, key=order.index)


def test_a_dpv_category_stands_for_its_vault_fields() -> None:
    (detail,) = parse(one(datatypes=["pd:Name", "pd:City"]))
    assert detail.fields == ("given_name", "family_name", "preferred_name", "city")


def test_a_category_never_covers_a_sensitive_field() -> None:
    (detail,) = parse(one(datatypes=["pd:Preference"]))
    assert "dietary_requirements" in SENSITIVE_FIELDS
    assert "dietary_requirements" not in detail.fields
    assert detail.fields                      # the category's other fields are there
    assert not any(set(fields) & SENSITIVE_FIELDS for fields in CATEGORY_FIELDS.values())


@pytest.mark.parametrize("category", ["pd:Religion", "pd:MedicalHealth"])
def test_a_category_of_only_sensitive_data_is_unknown(category: str) -> None:
    with pytest.raises(InvalidAuthorizationDetailsError) as raised:
        parse(one(datatypes=[category]))
    assert "field by field" in raised.value.description


@pytest.mark.parametrize("datatypes", [["survey"], ["city", "survey"]])
def test_survey_answers_are_refused_with_a_reason(datatypes: list[str]) -> None:
    """Survey answers are granted by joining a community and read through the survey API;
    the consent flow refuses them, alone or among other fields, and says where they come from."""
    with pytest.raises(InvalidAuthorizationDetailsError) as raised:
        parse(one(datatypes=datatypes))
    assert "survey API" in raised.value.description
    assert ERROR_DESCRIPTION.match(raised.value.description)


def test_the_opinion_category_does_not_cover_survey_answers() -> None:
    (detail,) = parse(one(datatypes=["pd:Opinion"]))
    assert "feedback" in detail.fields and "survey" not in detail.fields


@pytest.mark.parametrize("field", sorted(SENSITIVE_FIELDS))
def test_a_sensitive_field_may_be_asked_for_by_name(field: str) -> None:
    (detail,) = parse(one(datatypes=[field]))
    assert detail.fields == (field,)


def test_several_purposes_each_with_their_own_fields_and_terms() -> None:
    raw = json.dumps([BASE, {"type": DETAIL_TYPE, "purpose": "dpv:CustomerCare",
                             "datatypes": ["contact_email"], "actions": ["read"],
                             "duration_days": 7, "retention_days": 0}])
    first, second = parse(raw)
    assert (first.purpose, second.purpose) == ("dpv:ServiceProvision", "dpv:CustomerCare")
    assert (second.fields, second.duration_days, second.retention_days) == \
        (("contact_email",), 7, 0)


@pytest.mark.parametrize("days", [1, rar.MAX_DURATION_DAYS])
def test_durations_at_the_bounds(days: int) -> None:
    assert parse(one(duration_days=days))[0].duration_days == days


def test_retention_up_to_the_grants_maximum() -> None:
    assert parse(one(retention_days=MAX_RETENTION_DAYS))[0].retention_days == MAX_RETENTION_DAYS


def test_locations_must_name_this_vaults_api() -> None:
    (detail,) = parse(one(locations=[API]), locations=[API])
    assert detail.fields == ("given_name",)
    with pytest.raises(InvalidAuthorizationDetailsError):
        parse(one(locations=["https://evil.example/api"]), locations=[API])
    with pytest.raises(InvalidAuthorizationDetailsError):
        parse(one(locations=[API]))                      # no API known: none can be named


def test_every_purpose_of_the_vocabulary_is_accepted() -> None:
    raw = json.dumps([BASE | {"purpose": p.code} for p in PURPOSES])
    assert [d.purpose for d in parse(raw)] == [p.code for p in PURPOSES]


# -- what is refused, always as a whole ---------------------------------------------------------
INVALID: dict[str, str | None] = {
    "missing": None,
    "empty": "",
    "blank": "   ",
    "not-json": "[{",
    "null": "null",
    "object": json.dumps(BASE),
    "empty-array": "[]",
    "array-of-strings": json.dumps(["given_name"]),
    "too-long": json.dumps([BASE | {"datatypes": ["given_name"] * 2000}]),
    "too-many": json.dumps([BASE] * (rar.MAX_DETAILS + 1)),
    "no-type": without("type"),
    "other-type": one(type="payment_initiation"),
    "type-case": one(type=DETAIL_TYPE.upper()),
    "unknown-member": one(identifier="x"),
    "no-purpose": without("purpose"),
    "unknown-purpose": one(purpose="dpv:Surveillance"),
    "purpose-not-string": one(purpose=["dpv:ServiceProvision"]),
    "duplicate-purpose": json.dumps([BASE, BASE | {"datatypes": ["city"]}]),
    "no-datatypes": without("datatypes"),
    "empty-datatypes": one(datatypes=[]),
    "datatypes-string": one(datatypes="given_name"),
    "datatype-number": one(datatypes=[1]),
    "unknown-field": one(datatypes=["shoe_size"]),
    "unknown-category": one(datatypes=["pd:ShoeSize"]),
    "vault-category-selector": one(datatypes=["category:contact"]),
    "sensitive-category": one(datatypes=["pd:Religion"]),
    "too-many-datatypes": one(datatypes=["given_name"] * (rar.MAX_DATATYPES + 1)),
    "write": one(actions=["write"]),
    "no-actions": one(actions=[]),
    "actions-string": one(actions="read"),
    "duration-zero": one(duration_days=0),
    "duration-over": one(duration_days=rar.MAX_DURATION_DAYS + 1),
    "duration-string": one(duration_days="30"),
    "duration-float": one(duration_days=30.0),
    "duration-bool": one(duration_days=True),
    "duration-null": one(duration_days=None),
    "retention-negative": one(retention_days=-1),
    "retention-over": one(retention_days=MAX_RETENTION_DAYS + 1),
    "locations-empty": one(locations=[]),
    "locations-string": one(locations=API),
    "second-bad": json.dumps([BASE, {"type": DETAIL_TYPE, "purpose": "dpv:CustomerCare",
                                     "datatypes": ["nope"]}]),
    "quote-in-member": one(**{"it's": 1}),
    "quote-in-datatype": one(datatypes=['a"b']),
    "backslash-in-datatype": one(datatypes=["a\\b"]),
    "non-ascii-datatype": one(datatypes=["pr\u00e9nom"]),
    "control-in-datatype": one(datatypes=["a\nb"]),
    "long-datatype": one(datatypes=["x" * 5000]),
}


@pytest.mark.parametrize("raw", INVALID.values(), ids=INVALID.keys())
def test_invalid_details_are_refused_with_the_rfc_9396_error(raw: str | None) -> None:
    with pytest.raises(InvalidAuthorizationDetailsError) as raised:
        parse(raw, locations=[API])
    error = raised.value
    assert error.error == "invalid_authorization_details"
    assert error.description and ERROR_DESCRIPTION.match(error.description)
    assert len(error.description) < 300


# -- what the parsed details give -------------------------------------------------------------
def test_the_brand_request_of_a_detail() -> None:
    (detail,) = parse(one(datatypes=["given_name", "city"], duration_days=14,
                          retention_days=3))
    request = detail.brand_request("brand_1")
    assert request.brand_id == "brand_1"
    assert request.purpose == "dpv:ServiceProvision"
    assert request.fields == frozenset({"given_name", "city"})
    assert (request.days, request.retention_days) == (14, 3)
    assert request.mode is Mode.INDIVIDUAL
    assert request.onward_sharing is False


def test_as_granted_lists_only_the_chosen_fields_in_order() -> None:
    (detail,) = parse(one(datatypes=["feedback", "given_name", "city"]))
    granted = detail.as_granted({"feedback", "given_name"}, grant_id="grant_1", ends_at=99)
    assert granted == {"type": DETAIL_TYPE, "purpose": "dpv:ServiceProvision",
                       "datatypes": ["given_name", "feedback"], "actions": ["read"],
                       "duration_days": rar.DEFAULT_DURATION_DAYS,
                       "retention_days": rar.DEFAULT_RETENTION_DAYS,
                       "grant_id": "grant_1", "expires_at": 99}


def test_the_metadata_names_the_type() -> None:
    assert rar.metadata() == {"authorization_details_types_supported": [DETAIL_TYPE]}
