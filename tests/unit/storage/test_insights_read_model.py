"""Contract of the insights read model (``brand_gateway/insights/repositories.py``), written
to through the other contracts only (grants, journal entries): the COUNTING RULE at ``now``,
one bounded value per member and touchpoint, one snapshot per read."""

from __future__ import annotations

import pytest

from consent.model import Grant, GrantStatus, Mode
from consent.vocabulary import expand
from vault.brands import Brand
from vault.repositories import FeedbackRow

from .conftest import Repositories, add_member

PURPOSE = "dpv:ServiceOptimisation"


@pytest.fixture
def brand(repositories: Repositories) -> str:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    assert repositories.brands.insert(Brand("brand_2", "Atlas", ()), 1)
    return "brand_1"


def _grant(grant_id: str, member_id: str, *, fields: frozenset[str] = frozenset({"feedback"}),
           brand_id: str = "brand_1", starts_at: int = 100, ends_at: int = 1_000) -> Grant:
    return Grant(grant_id, member_id, brand_id, PURPOSE, fields, Mode.AGGREGATE, starts_at,
                 ends_at, 30, False, None, "EU", "vrmvault member page", "SD-BASE", 1,
                 GrantStatus.ACTIVE, None, 1, starts_at, starts_at, expand(fields))


def _journal(repositories: Repositories, member_id: str,
             entries: list[tuple[str, int, int | None]], brand_id: str = "brand_1") -> None:
    feedback = repositories.feedback
    number = feedback.member_number(member_id)
    assert number is not None
    with feedback.transaction():
        first = feedback.next_ids()
        feedback.insert_many([(first + n, number, FeedbackRow(0, brand_id, touchpoint, rating,
                                                              nps, None, "2026-01-01", 50))
                              for n, (touchpoint, rating, nps) in enumerate(entries)])


def test_the_counting_rule_at_the_time_asked(repositories: Repositories, brand: str) -> None:
    model = repositories.insight_read_model
    alice, bob, carol = (add_member(repositories, n) for n in (1, 2, 3))
    repositories.grants.insert(_grant("grant_a", alice))
    repositories.grants.insert(_grant("grant_b", bob, starts_at=500))       # later
    repositories.grants.insert(_grant("grant_c", carol, fields=frozenset({"city"})))
    for member_id in (alice, bob, carol):
        _journal(repositories, member_id, [("delivery", 5, 10)] * 3)
    assert model.journal_counts(brand, PURPOSE, "nps", 99) == {}             # none started
    assert model.journal_counts(brand, PURPOSE, "nps", 200) == {("delivery", 2): 1}
    assert model.journal_counts(brand, PURPOSE, "nps", 600) == {("delivery", 2): 2}
    assert model.journal_counts(brand, PURPOSE, "rating", 600) == {("delivery", 8): 2}
    assert model.journal_counts(brand, PURPOSE, "nps", 1_000) == {}          # both ended
    assert model.journal_counts("brand_2", PURPOSE, "nps", 600) == {}
    assert model.journal_counts(brand, "dpv:Marketing", "nps", 600) == {}
    assert sorted(v.member_key for v in model.journal_values(brand, PURPOSE, 600)) == sorted(
        repositories.feedback.member_number(m) for m in (alice, bob))
    repositories.grants.withdraw("grant_a", 700)
    assert model.journal_counts(brand, PURPOSE, "nps", 700) == {("delivery", 2): 1}
    assert list(model.counting_members(brand, PURPOSE, "feedback", 700).values()) == [bob]


def test_one_value_per_member_and_touchpoint(repositories: Repositories, brand: str) -> None:
    model = repositories.insight_read_model
    alice = add_member(repositories, 1)
    repositories.grants.insert(_grant("grant_a", alice))
    _journal(repositories, alice, [("delivery", 1, 0)] * 499 + [("delivery", 5, 10)]
             + [("support", 3, None)])
    # Mean score 0.02: a detractor; mean rating 1.008: level 0 (1.0); no score at support.
    assert model.journal_counts(brand, PURPOSE, "nps", 200) == {("delivery", 0): 1}
    assert model.journal_counts(brand, PURPOSE, "rating", 200) == {("delivery", 0): 1,
                                                                   ("support", 4): 1}
    with pytest.raises(ValueError):
        model.journal_counts(brand, PURPOSE, "comments", 200)


def test_a_survey_of_another_brand_is_none(repositories: Repositories, brand: str) -> None:
    assert repositories.insight_read_model.survey_questions(brand, "srv_" + "0" * 24) is None
    assert repositories.insight_read_model.survey_counts(brand, "srv_" + "0" * 24, PURPOSE,
                                                         200) == {}


def test_a_member_holding_two_grants_for_the_purpose_counts_once(
        repositories: Repositories, brand: str) -> None:
    """A grant to the brand's app and one given for its community (or a care case) live side
    by side for one purpose: the member is still one member, one cell per touchpoint, the bound
    every release's noise is derived from; while either grant holds, and not after both."""
    model = repositories.insight_read_model
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    repositories.grants.insert(_grant("grant_a", alice))                       # 100..1000
    repositories.grants.insert(_grant("grant_a2", alice, starts_at=300, ends_at=2_000))
    repositories.grants.insert(_grant("grant_b", bob))
    for member_id in (alice, bob):
        _journal(repositories, member_id, [("delivery", 5, 10)])
    assert model.journal_counts(brand, PURPOSE, "nps", 200) == {("delivery", 2): 2}
    assert model.journal_counts(brand, PURPOSE, "nps", 500) == {("delivery", 2): 2}
    assert model.journal_counts(brand, PURPOSE, "rating", 500) == {("delivery", 8): 2}
    assert model.journal_counts(brand, PURPOSE, "nps", 1_500) == {("delivery", 2): 1}
    assert model.journal_counts(brand, PURPOSE, "nps", 2_000) == {}
    repositories.grants.withdraw("grant_a2", 600)
    assert model.journal_counts(brand, PURPOSE, "nps", 600) == {("delivery", 2): 2}
    repositories.grants.withdraw("grant_a", 700)
    assert model.journal_counts(brand, PURPOSE, "nps", 700) == {("delivery", 2): 1}
    # The list of members with several rows keeps nothing of a member who has none left.
    repositories.grants.insert(_grant("grant_a3", alice, starts_at=700, ends_at=2_000))
    repositories.grants.insert(_grant("grant_a4", alice, starts_at=700, ends_at=2_000))
    assert model.journal_counts(brand, PURPOSE, "nps", 800) == {("delivery", 2): 2}
    assert repositories.erasures.delete_member_rows(alice) > 0
    assert model.journal_counts(brand, PURPOSE, "nps", 800) == {("delivery", 2): 1}
    assert model._db.one("SELECT count(*) FROM insight_eligibility_repeats")[0] == 0


def test_a_care_case_s_grant_counts_in_no_insight(repositories: Repositories,
                                                  brand: str) -> None:
    """A grant collected as a care request covers one entry for the brand to get back to the
    member (community/care.py): it makes the member count nowhere, even for its purpose."""
    from dataclasses import replace

    from consent.model import CARE_ASKED

    model = repositories.insight_read_model
    alice = add_member(repositories, 1)
    repositories.grants.insert(replace(_grant("grant_care", alice), collection_method=CARE_ASKED))
    _journal(repositories, alice, [("delivery", 1, 0), ("support", 4, 8)])
    assert model.journal_counts(brand, PURPOSE, "nps", 200) == {}
    assert model.counting_members(brand, PURPOSE, "feedback", 200) == {}
    repositories.grants.withdraw("grant_care", 300)         # and moving it adds none either
    assert model.journal_counts(brand, PURPOSE, "nps", 300) == {}
