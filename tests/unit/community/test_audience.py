"""community.audience: the counting rule and criteria, without any store."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from community.audience import (
    PERSONA_ATTRIBUTES,
    Cohort,
    Criterion,
    counting_grants,
    counts,
    eligible,
    individual_grants,
    parse_criteria,
)
from consent.model import Grant, GrantStatus, Mode
from consent.vocabulary import SENSITIVE_FIELDS, expand

NOW = 1_800_000_000
TODAY = dt.date(2027, 1, 15)
GRANT = Grant("g1", "m1", "b1", "dpv:ResearchAndDevelopment",
              frozenset({"survey", "country", "religion"}), Mode.AGGREGATE, NOW - 10, NOW + 10,
              30, False, None, "EU", "test", "SD-BASE-A", 1, GrantStatus.ACTIVE, None, 1, NOW,
              NOW, covered=expand({"survey", "country", "religion"}))


def test_persona_attributes_are_never_sensitive() -> None:
    assert PERSONA_ATTRIBUTES and not set(PERSONA_ATTRIBUTES) & SENSITIVE_FIELDS


@pytest.mark.parametrize(("grant", "counted"), [
    (GRANT, True),
    (replace(GRANT, brand_id="b2"), False),
    (replace(GRANT, purpose="dpv:Marketing"), False),
    (replace(GRANT, status=GrantStatus.WITHDRAWN), False),
    (replace(GRANT, status=GrantStatus.RELEASED), False),
    (replace(GRANT, ends_at=NOW), False),
    (replace(GRANT, starts_at=NOW + 1), False),
])
def test_the_counting_rule(grant: Grant, counted: bool) -> None:
    live = counting_grants([grant], "b1", ["dpv:ResearchAndDevelopment"], NOW)
    assert counts(live, "survey") is counted


def test_a_sensitive_field_never_counts_and_individual_needs_the_mode() -> None:
    assert counts([GRANT], "country") and not counts([GRANT], "religion")
    assert individual_grants([GRANT]) == []
    assert individual_grants([replace(GRANT, mode=Mode.INDIVIDUAL)])


def test_criteria_match_only_counted_attributes() -> None:
    (country,) = parse_criteria([{"attribute": "country", "any_of": ["nl"]}])
    assert country == Criterion("country", any_of=("NL",))
    assert eligible([GRANT], [country], {"country": "NL"}, today=TODAY)
    assert not eligible([GRANT], [country], {"country": "BE"}, today=TODAY)
    (size,) = parse_criteria([{"attribute": "household_size", "min": 2}])
    assert not eligible([GRANT], [size], {"household_size": 3}, today=TODAY)   # not granted
    (age,) = parse_criteria([{"attribute": "date_of_birth", "min": 18, "max": 30}])
    assert age.matches("2000-01-15", today=TODAY) and not age.matches("2009-01-16", today=TODAY)
    assert not age.matches("not a date", today=TODAY)


def test_cohorts_are_thresholded_and_rounded() -> None:
    assert Cohort.of(49) == Cohort(None, 50) and Cohort.of(49).text == "fewer than 50"
    assert Cohort.of(50).reported == 50 and Cohort.of(59).reported == 50
    assert Cohort.of(1234).text == "at least 1230"
