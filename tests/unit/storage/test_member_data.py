"""Contracts of the member data repositories: brands, profile values and feedback
(``vault/repositories.py``)."""

from __future__ import annotations

import pytest

from vault.brands import Brand
from vault.errors import ConstraintViolationError
from vault.repositories import FeedbackRow, TouchpointCounts

from .conftest import Repositories, add_member


def test_brands_are_listed_by_name_and_names_are_unique(repositories: Repositories) -> None:
    brands = repositories.brands
    velo, atlas = Brand("brand_1", "Velo", ("bikes", "outdoor")), Brand("brand_2", "Atlas", ())
    assert brands.insert(velo, 10) and brands.insert(atlas, 11)
    assert not brands.insert(Brand("brand_3", "Velo", ()), 12)
    assert not brands.insert(Brand("brand_1", "Other", ()), 12)
    assert brands.all() == [atlas, velo]
    assert brands.get("brand_1") == velo and brands.get("brand_3") is None
    assert brands.exists("brand_2") and not brands.exists("brand_3")


def test_profile_values_are_set_replaced_read_in_part_and_removed(
        repositories: Repositories) -> None:
    profile = repositories.profile
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    profile.put(alice, "city", b"sealed Utrecht", 10)
    profile.put(alice, "country", b"sealed NL", 10)
    profile.put(alice, "city", b"sealed Delft", 11)
    profile.put(bob, "city", b"sealed Paris", 10)
    assert sorted(profile.values(alice)) == [("city", b"sealed Delft"),
                                             ("country", b"sealed NL")]
    assert profile.values(alice, ["city", "given_name"]) == [("city", b"sealed Delft")]
    assert profile.values(alice, []) == []
    profile.remove(alice, "city")
    assert profile.values(alice) == [("country", b"sealed NL")]
    profile.put_many([(bob, "country", b"sealed FR", 12), (bob, "given_name", b"s", 12)])
    assert len(profile.values(bob)) == 3


def _entry(touchpoint: str, rating: int, nps: int | None, *, brand: str = "brand_1",
           comment: bytes | None = None, on: str = "2026-01-01") -> FeedbackRow:
    return FeedbackRow(0, brand, touchpoint, rating, nps, comment, on, 50)


@pytest.fixture
def brand(repositories: Repositories) -> str:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    assert repositories.brands.insert(Brand("brand_2", "Atlas", ()), 1)
    return "brand_1"


def test_feedback_ids_grow_and_are_never_reused(repositories: Repositories, brand: str) -> None:
    feedback = repositories.feedback
    alice = add_member(repositories, 1)
    number = feedback.member_number(alice)
    assert number is not None and feedback.member_number("f" * 32) is None
    bob = add_member(repositories, 2)
    assert feedback.member_numbers([alice, "f" * 32, bob]) == {
        alice: number, bob: feedback.member_number(bob)}
    assert feedback.member_numbers([]) == {}
    with feedback.transaction():
        first = feedback.next_ids()
        feedback.insert_many([(first, number, _entry("usage", 4, 9)),
                              (first + 1, number, _entry("purchase", 2, None))])
    assert feedback.delete(alice, first + 1) is True
    with feedback.transaction():
        assert feedback.next_ids() == first + 2
    # An entry of no member fails the whole batch on both engines.
    with pytest.raises(ConstraintViolationError), feedback.transaction():
        feedback.insert_many([(first + 2, number, _entry("usage", 3, 7)),
                              (first + 3, 999_999, _entry("usage", 3, 7))])
    assert [e.id for e in feedback.for_member(alice)] == [first]


def test_feedback_is_the_members_own_ordered_and_counted(repositories: Repositories,
                                                         brand: str) -> None:
    feedback = repositories.feedback
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    with feedback.transaction():
        first = feedback.next_ids()
        feedback.insert_many([
            (first, feedback.member_number(alice) or 0,
             _entry("usage", 5, 10, comment=b"sealed", on="2026-01-01")),
            (first + 1, feedback.member_number(alice) or 0, _entry("usage", 1, 3, on="2026-02-01")),
            (first + 2, feedback.member_number(alice) or 0, _entry("purchase", 3, None,
                                                                  on="2026-02-01")),
            (first + 3, feedback.member_number(bob) or 0,
             _entry("usage", 4, 7, brand="brand_2", on="2026-03-01")),
        ])
    assert [e.id for e in feedback.for_member(alice)] == [first + 2, first + 1, first]
    assert feedback.get(alice, first) == FeedbackRow(first, "brand_1", "usage", 5, 10,
                                                     b"sealed", "2026-01-01", 50)
    assert feedback.get(bob, first) is None                  # not bob's
    assert feedback.update(bob, FeedbackRow(first, "brand_1", "usage", 1, 0, None,
                                            "2026-01-01", 60)) is False
    assert feedback.delete(bob, first) is False
    changed = FeedbackRow(first, "brand_2", "delivery", 2, None, None, "2026-01-02", 60)
    assert feedback.update(alice, changed) is True
    assert feedback.get(alice, first) == changed
    assert feedback.by_touchpoint() == [
        TouchpointCounts("delivery", 1, 2.0, 0, 0, 0),
        TouchpointCounts("purchase", 1, 3.0, 0, 0, 0),
        TouchpointCounts("usage", 2, 2.5, 0, 1, 2)]
    assert feedback.by_touchpoint("brand_2") == [
        TouchpointCounts("delivery", 1, 2.0, 0, 0, 0),
        TouchpointCounts("usage", 1, 4.0, 0, 0, 1)]
