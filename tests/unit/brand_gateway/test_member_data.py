"""The brand API's filtering rules without HTTP or a store: tokens and policies built by hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brand_gateway.api_errors import InsufficientScopeError, InvalidTokenError, QueryError
from brand_gateway.member_data import (
    delegated_member,
    member_access,
    release_feedback,
    release_profile,
)
from brand_gateway.rar import DETAIL_TYPE
from brand_gateway.tokens import AccessToken
from consent.decision import MemberPolicy
from consent.model import Grant, GrantStatus, Mode, PersonalTerms
from consent.vocabulary import expand
from vault.feedback import FeedbackEntry

NOW = 1_800_000_000
PURPOSE = "dpv:Personalisation"
CARE = "dpv:CustomerCare"


def grant(grant_id: str, fields: set[str], *, purpose: str = PURPOSE,
          status: GrantStatus = GrantStatus.ACTIVE, ends_at: int = NOW + 3600,
          mode: Mode = Mode.INDIVIDUAL) -> Grant:
    return Grant(grant_id, "m1", "b1", purpose, frozenset(fields), mode, NOW - 10, ends_at, 30,
                 False, None, "EU", "test", "SD-BASE-ATP", 1, status, None, 1, NOW, NOW,
                 expand(frozenset(fields)))


def policy(*grants: Grant, purposes: tuple[str, ...] = (PURPOSE, CARE)) -> MemberPolicy:
    return MemberPolicy(PersonalTerms("m1", "SD-BASE-ATP", frozenset(purposes), 365, True),
                        grants)


def detail(grant_id: str, datatypes: list[str], purpose: str = PURPOSE) -> dict[str, Any]:
    return {"type": DETAIL_TYPE, "purpose": purpose, "datatypes": datatypes,
            "actions": ["read"], "grant_id": grant_id}


def token(*details: dict[str, Any], member: str | None = "m1",
          family: str | None = "fam_1") -> AccessToken:
    return AccessToken(b"h", "client_1", "authorization_code", "", NOW, NOW + 600, None,
                       family_id=family, member_id=member, authorization_details=details)


def test_the_decision_is_taken_per_field_on_the_tokens_grants():
    narrowed = grant("g1", {"given_name"})
    access = member_access(token(detail("g1", ["given_name", "city"])), policy(narrowed), NOW)
    purpose = access.for_purpose(None)
    assert purpose.authorized == ("given_name", "city")
    assert purpose.allowed == ("given_name",)
    assert purpose.grant_ids(["given_name", "city"]) == ["g1"]


def test_a_grant_the_token_does_not_name_releases_nothing():
    # The member also granted city in another grant (another authorization): not this token's.
    other = grant("g2", {"city"})
    access = member_access(token(detail("g1", ["given_name", "city"])),
                           policy(grant("g1", {"given_name"}), other), NOW)
    assert access.for_purpose(PURPOSE).allowed == ("given_name",)


@pytest.mark.parametrize("ended", [
    grant("g1", {"given_name"}, status=GrantStatus.WITHDRAWN),
    grant("g1", {"given_name"}, ends_at=NOW),
], ids=["withdrawn", "expired"])
def test_a_token_whose_grants_all_ended_is_invalid(ended):
    with pytest.raises(InvalidTokenError):
        member_access(token(detail("g1", ["given_name"])), policy(ended), NOW)


def test_a_token_naming_no_grant_of_the_policy_is_invalid():
    with pytest.raises(InvalidTokenError):
        member_access(token(detail("g9", ["given_name"])), policy(grant("g1", {"given_name"})),
                      NOW)


@pytest.mark.parametrize("brand_level", [
    token(detail("g1", ["given_name"]), member=None, family=None),
    token(),
    token({"type": "other-type", "purpose": PURPOSE, "datatypes": ["given_name"]}),
    token(detail("g1", ["given_name"]) | {"actions": ["write"]}),
], ids=["client credentials", "no details", "foreign type", "no read action"])
def test_only_a_member_authorization_reaches_member_data(brand_level):
    with pytest.raises(InsufficientScopeError):
        delegated_member(brand_level)


def test_an_aggregate_only_grant_releases_no_individual_field():
    aggregate = grant("g1", {"given_name"}, mode=Mode.AGGREGATE)
    access = member_access(token(detail("g1", ["given_name"])), policy(aggregate), NOW)
    assert access.for_purpose(PURPOSE).allowed == ()


def test_purposes_must_be_named_when_there_are_several():
    access = member_access(
        token(detail("g1", ["given_name"]), detail("g2", ["city"], CARE)),
        policy(grant("g1", {"given_name"}), grant("g2", {"city"}, purpose=CARE)), NOW)
    with pytest.raises(QueryError):
        access.for_purpose(None)
    assert access.for_purpose(CARE).allowed == ("city",)
    with pytest.raises(InsufficientScopeError):
        access.for_purpose("dpv:Marketing")


def _purpose(fields: set[str], datatypes: list[str]):
    return member_access(token(detail("g1", datatypes)), policy(grant("g1", fields)),
                         NOW).for_purpose(None)


def test_withheld_lists_unfilled_and_unallowed_alike():
    purpose = _purpose({"given_name", "city"}, ["given_name", "city"])
    release = release_profile(purpose, ["given_name", "city", "phone"],
                              lambda fields: {"given_name": "Ann", "phone": "+31 1"})
    assert release.values == {"given_name": "Ann"}
    assert release.withheld == ("city", "phone")
    assert release.grant_ids == ["g1"]


def test_nothing_is_read_when_nothing_may_be_released():
    purpose = _purpose({"given_name"}, ["given_name"])

    def must_not_read(fields: Any) -> dict[str, Any]:
        raise AssertionError("the profile was read")

    release = release_profile(purpose, ["phone", "city", "phone"], must_not_read)
    assert release.values == {} and release.withheld == ("phone", "city")


def test_the_default_request_is_the_tokens_profile_fields():
    purpose = _purpose({"given_name", "feedback"}, ["given_name", "feedback"])
    release = release_profile(purpose, None, lambda fields: {"given_name": "Ann"})
    assert release.values == {"given_name": "Ann"} and release.withheld == ()


def test_only_the_fields_that_may_be_released_are_read():
    purpose = _purpose({"given_name", "city"}, ["given_name", "city", "phone"])
    asked: list[list[str]] = []

    def read(fields: Any) -> dict[str, Any]:
        asked.append(list(fields))
        return {"given_name": "Ann", "city": "Leiden"}

    release = release_profile(purpose, ["phone", "city", "given_name"], read)
    assert asked == [["city", "given_name"]]
    assert release.values == {"city": "Leiden", "given_name": "Ann"}
    assert release.withheld == ("phone",)


def test_survey_answers_are_never_read_as_a_profile_field():
    """Even a grant covering ``survey`` (a community's) releases no survey answer here: they
    reach brands only through the survey API."""
    purpose = _purpose({"given_name", "survey"}, ["given_name", "survey"])
    asked: list[list[str]] = []

    def read(fields: Any) -> dict[str, Any]:
        asked.append(list(fields))
        return {"given_name": "Ann"}

    assert release_profile(purpose, None, read).values == {"given_name": "Ann"}
    release = release_profile(purpose, ["survey"], read)
    assert release.values == {} and release.withheld == ("survey",)
    assert asked == [["given_name"]]


def _entry(entry_id: int, brand: str) -> FeedbackEntry:
    return FeedbackEntry(entry_id, brand, "purchase", 4, None, f"c{entry_id}", "2027-01-01", NOW)


def test_feedback_is_only_about_the_brand_and_paged():
    purpose = _purpose({"feedback"}, ["feedback"])
    entries = [_entry(1, "b1"), _entry(2, "b2"), _entry(3, "b1"), _entry(4, "b1")]
    release = release_feedback(purpose, "b1", lambda: entries, limit=2, offset=1)
    assert [e.id for e in release.entries] == [3, 4]
    assert release.total == 3 and release.withheld == () and release.grant_ids == ["g1"]


def test_feedback_not_allowed_is_withheld_without_reading():
    purpose = _purpose({"given_name"}, ["given_name", "feedback"])

    def must_not_read() -> list[FeedbackEntry]:
        raise AssertionError("the journal was read")

    release = release_feedback(purpose, "b1", must_not_read, limit=10)
    assert release.entries == [] and release.withheld == ("feedback",)


@settings(max_examples=200, deadline=None)
@given(bounds=st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=1,
                       max_size=3),
       second=st.integers(-4, 4), fraction=st.floats(0, 1, exclude_max=True))
def test_what_a_token_may_read_is_the_same_for_every_moment_of_a_second(bounds, second,
                                                                        fraction):
    """The brand read remembers a judgement for the second it was made in
    (``MemberDataReads.access``): that is sound only while no grant boundary falls inside a
    second, which this checks over grants starting and ending around the moment."""
    grants = [replace(grant(f"g{i}", {"given_name", "city"}), starts_at=NOW + start,
                      ends_at=NOW + start + max(length, 0) + 1)
              for i, (start, length) in enumerate(bounds)]
    read = token(*(detail(g.id, ["given_name", "city"]) for g in grants))

    def judged(at: float) -> object:
        try:
            return member_access(read, policy(*grants), at)
        except InvalidTokenError as refused:
            return str(refused)

    moment = NOW + second + fraction           # a float, as the clock gives it
    assert judged(moment) == judged(int(moment))
