"""Contracts of closing the loop (``community/repositories.py``): care cases change state only
once each way, live means neither closed nor ended; "we did" posts reach only the members who
gave the brand feedback at that touchpoint, and their releases count only the members the
counting rule lets count."""

from __future__ import annotations

import pytest

from community.repositories import CareCaseRow, WeDidRow
from consent.model import Grant, GrantStatus, Mode
from consent.vocabulary import expand
from vault.brands import Brand
from vault.repositories import FeedbackRow

from .conftest import Repositories, add_member


@pytest.fixture
def brands(repositories: Repositories) -> tuple[str, str]:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    assert repositories.brands.insert(Brand("brand_2", "Atlas", ()), 1)
    return "brand_1", "brand_2"


def _case(case_id: str, member_id: str, brand_id: str, *, opened_at: int = 100,
          ends_at: int = 1_000) -> CareCaseRow:
    return CareCaseRow(case_id, member_id, brand_id, "g_" + case_id, "feedback", "7", None,
                       "open", None, opened_at, ends_at, None, None, None)


def test_cases_are_stored_listed_and_change_state_once(repositories: Repositories,
                                                       brands: tuple[str, str]) -> None:
    cases = repositories.care_cases
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    cases.insert(_case("c1", alice, brands[0], opened_at=100))
    cases.insert(_case("c2", alice, brands[1], opened_at=200))
    cases.insert(_case("c3", bob, brands[0], opened_at=300, ends_at=400))
    assert cases.get("c1") == _case("c1", alice, brands[0])
    assert cases.get("c9") is None
    assert [c.id for c in cases.for_member(alice)] == ["c2", "c1"]          # newest first
    assert [c.id for c in cases.for_brand(brands[0], live_at=None, limit=10, offset=0)] == [
        "c3", "c1"]
    assert [c.id for c in cases.for_brand(brands[0], live_at=500, limit=10, offset=0)] == [
        "c1"]                                                                # c3 has ended
    assert [c.id for c in cases.for_brand(brands[0], live_at=None, limit=1, offset=1)] == [
        "c1"]
    assert [c.id for c in cases.live_for(alice, brands[0], 500)] == ["c1"]
    assert [c.id for c in cases.ended_unclosed(500)] == ["c3"]

    assert cases.answer("c1", b"sealed", 150) is True
    answered = cases.get("c1")
    assert answered is not None and answered.state == "answered"
    assert answered.answer_sealed == b"sealed" and answered.answered_at == 150
    assert cases.answer("c3", b"late", 500) is False                          # ended
    assert cases.close("c1", "brand", 160) is True
    assert cases.close("c1", "member", 170) is False                          # once
    closed = cases.get("c1")
    assert closed is not None and (closed.state, closed.closed_by, closed.closed_at) == (
        "closed", "brand", 160)
    assert cases.answer("c1", b"again", 180) is False
    assert cases.live_for(alice, brands[0], 500) == []


def test_a_case_rolls_back_with_its_transaction(repositories: Repositories,
                                                brands: tuple[str, str]) -> None:
    cases = repositories.care_cases
    alice = add_member(repositories, 1)
    with pytest.raises(RuntimeError), cases.transaction():
        cases.insert(_case("c1", alice, brands[0]))
        raise RuntimeError("the grant failed")
    assert cases.get("c1") is None


def _post(post_id: str, brand_id: str, touchpoint: str, posted_at: int) -> WeDidRow:
    return WeDidRow(post_id, brand_id, "touchpoint", touchpoint, "said", "did", "2027-01-01",
                    '{"epsilon": 1.0}', posted_at, None)


def _feedback(repositories: Repositories, member_id: str, brand_id: str, touchpoint: str,
              rating: int, nps: int | None, on: str) -> None:
    feedback = repositories.feedback
    number = feedback.member_number(member_id)
    assert number is not None
    with feedback.transaction():
        first = feedback.next_ids()
        feedback.insert_many([(first, number, FeedbackRow(
            0, brand_id, touchpoint, rating, nps, None, on, 50))])


def _grant(grant_id: str, member_id: str, brand_id: str, *, fields: frozenset[str],
           purpose: str = "dpv:ServiceOptimisation", mode: Mode = Mode.AGGREGATE,
           starts_at: int = 10, ends_at: int = 1_000) -> Grant:
    return Grant(grant_id, member_id, brand_id, purpose, fields, mode, starts_at, ends_at, 30,
                 False, None, "EU", "test", "SD-BASE-A", 1, GrantStatus.ACTIVE, None, 1,
                 starts_at, starts_at, expand(fields))


def test_posts_reach_the_members_who_took_part_and_are_withdrawn_once(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    posts = repositories.wedid
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    _feedback(repositories, alice, brands[0], "delivery", 2, None, "2027-01-01")
    _feedback(repositories, bob, brands[1], "delivery", 4, 9, "2027-01-01")
    posts.insert(_post("p1", brands[0], "delivery", 100))
    posts.insert(_post("p2", brands[0], "purchase", 200))
    posts.insert(_post("p3", brands[1], "delivery", 300))
    assert posts.get("p1") == _post("p1", brands[0], "delivery", 100)
    assert [p.id for p in posts.for_member(alice)] == ["p1"]      # her brand, her touchpoint
    assert [p.id for p in posts.for_member(bob)] == ["p3"]
    assert [p.id for p in posts.for_brand(brands[0], withdrawn=False, limit=10, offset=0)] == [
        "p2", "p1"]
    assert posts.withdraw("p1", brands[1], 400) is False          # another brand's
    assert posts.withdraw("p1", brands[0], 400) is True
    assert posts.withdraw("p1", brands[0], 500) is False          # once
    assert posts.for_member(alice) == []
    assert [p.id for p in posts.for_brand(brands[0], withdrawn=False, limit=10, offset=0)] == [
        "p2"]
    assert [p.id for p in posts.for_brand(brands[0], withdrawn=True, limit=1, offset=1)] == [
        "p1"]


def test_a_release_counts_only_members_the_counting_rule_lets_count(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    grants = repositories.grants
    members = [add_member(repositories, n) for n in range(1, 8)]
    for member_id in members:
        _feedback(repositories, member_id, brands[0], "delivery", 3, 7, "2027-01-02")
    alice, bob, carol, dan, erin, fay, gus = members
    grants.insert(_grant("g1", alice, brands[0], fields=frozenset({"feedback"})))
    grants.insert(_grant("g2", bob, brands[0], fields=frozenset({"category:feedback"}),
                         mode=Mode.INDIVIDUAL))                         # individual counts too
    grants.insert(_grant("g3", carol, brands[0], fields=frozenset({"city"})))  # not feedback
    grants.insert(_grant("g4", dan, brands[0], fields=frozenset({"feedback"}),
                         purpose="dpv:CustomerCare"))                   # another purpose
    grants.insert(_grant("g5", erin, brands[0], fields=frozenset({"feedback"}), ends_at=500))
    grants.insert(_grant("g6", fay, brands[0], fields=frozenset({"feedback"})))
    grants.withdraw("g6", 20)
    grants.insert(_grant("g7", gus, brands[1], fields=frozenset({"feedback"})))  # other brand
    rows = repositories.wedid.touchpoint_ratings(brands[0], "delivery",
                                                 "dpv:ServiceOptimisation", 600)
    numbers = {repositories.feedback.member_number(m) for m in (alice, bob)}
    assert {row[0] for row in rows} == numbers
    assert all(row[1:] == ("2027-01-02", 3, 7) for row in rows)
    assert repositories.wedid.touchpoint_ratings(brands[0], "purchase",
                                                 "dpv:ServiceOptimisation", 600) == []
