"""vault.feedback: the journal, its validation, ownership, ids and per-touchpoint summaries."""

from __future__ import annotations

import pytest

from tests.conftest import GOOD_PASSWORD
from vault.errors import IntegrityError, NotFoundError, ValidationError
from vault.feedback import MAX_COMMENT, FeedbackEntry, TouchpointSummary

TODAY = "2027-01-15"  # the FrozenClock's default start, 1_800_000_000, in UTC


@pytest.fixture
def entry(brand):
    def make(**overrides):
        return {"brand_id": brand.id, "touchpoint": "usage", "rating": 4, "nps": 9,
                "comment": "Smooth ride", "occurred_on": "2026-12-24"} | overrides
    return make


@pytest.fixture
def bob(vault) -> str:
    return vault.members.register("bob@example.org", GOOD_PASSWORD)


def table(vault) -> list[tuple]:
    return [tuple(r) for r in vault.data.all("SELECT * FROM feedback ORDER BY id")]


def test_add_and_get(vault, clock, member_id, brand, entry):
    entry_id = vault.feedback.add(member_id, entry())
    assert vault.feedback.get(member_id, entry_id) == FeedbackEntry(
        entry_id, brand.id, "usage", 4, 9, "Smooth ride", "2026-12-24", int(clock())
    )


def test_defaults_and_string_numbers(vault, member_id, entry):
    raw = entry(rating=" 5 ", nps="", comment=None)
    del raw["occurred_on"]
    got = vault.feedback.get(member_id, vault.feedback.add(member_id, raw))
    assert (got.rating, got.nps, got.comment, got.occurred_on) == (5, None, "", TODAY)
    assert vault.data.one("SELECT comment_sealed FROM feedback")[0] is None


def test_the_comment_is_sealed_and_bound_to_its_entry(vault, member_id, entry):
    first = vault.feedback.add(member_id, entry(comment="ZEBRA-MARKER-7781"))
    second = vault.feedback.add(member_id, entry(comment="other"))
    sealed = vault.data.one("SELECT comment_sealed FROM feedback WHERE id = ?", (first,))[0]
    assert b"ZEBRA" not in sealed
    vault.data.execute("UPDATE feedback SET comment_sealed = ? WHERE id = ?", (sealed, second))
    with pytest.raises(IntegrityError):
        vault.feedback.get(member_id, second)


def test_list_is_newest_first(vault, member_id, bob, entry):
    a = vault.feedback.add(member_id, entry(occurred_on="2026-01-01"))
    b = vault.feedback.add(member_id, entry(occurred_on="2026-06-01"))
    c = vault.feedback.add(member_id, entry(occurred_on="2026-06-01"))
    vault.feedback.add(bob, entry())
    assert [e.id for e in vault.feedback.for_member(member_id)] == [c, b, a]
    assert vault.feedback.for_member("0" * 32) == []


def test_update(vault, clock, member_id, brand, entry):
    entry_id = vault.feedback.add(member_id, entry())
    clock.advance(60)
    other_brand = vault.brands.add("Other Brand")
    updated = vault.feedback.update(member_id, entry_id, entry(
        brand_id=other_brand.id, touchpoint="support", rating=2, nps=3, comment="Changed",
        occurred_on="2026-12-25"))
    assert updated == FeedbackEntry(entry_id, other_brand.id, "support", 2, 3, "Changed",
                                    "2026-12-25", int(clock()))
    assert vault.feedback.get(member_id, entry_id) == updated
    cleared = vault.feedback.update(member_id, entry_id, entry(comment=""))
    assert cleared.comment == ""


def test_delete(vault, member_id, entry):
    keep = vault.feedback.add(member_id, entry())
    gone = vault.feedback.add(member_id, entry())
    vault.feedback.delete(member_id, gone)
    with pytest.raises(NotFoundError):
        vault.feedback.get(member_id, gone)
    with pytest.raises(NotFoundError):
        vault.feedback.delete(member_id, gone)
    assert [e.id for e in vault.feedback.for_member(member_id)] == [keep]


def test_ids_are_never_reused(vault, member_id, entry):
    ids = [vault.feedback.add(member_id, entry()) for _ in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    vault.feedback.delete(member_id, ids[-1])
    vault.feedback.delete(member_id, ids[0])
    fresh = vault.feedback.add(member_id, entry())
    assert fresh == ids[-1] + 1
    vault.feedback.delete(member_id, fresh)
    assert vault.feedback.add(member_id, entry()) == fresh + 1


def test_another_member_can_neither_read_nor_change_an_entry(vault, member_id, bob, entry):
    entry_id = vault.feedback.add(member_id, entry())
    before = table(vault)
    with pytest.raises(NotFoundError):
        vault.feedback.get(bob, entry_id)
    with pytest.raises(NotFoundError):
        vault.feedback.update(bob, entry_id, entry(comment="hijacked", rating=1))
    with pytest.raises(NotFoundError):
        vault.feedback.delete(bob, entry_id)
    assert table(vault) == before
    assert vault.feedback.for_member(bob) == []
    assert vault.feedback.get(member_id, entry_id).comment == "Smooth ride"


INVALID = [
    ({"rating": 0}, "rating"),
    ({"rating": 6}, "rating"),
    ({"rating": None}, "rating"),
    ({"rating": 4.5}, "rating"),
    ({"rating": True}, "rating"),
    ({"rating": "four"}, "rating"),
    ({"rating": "+-3"}, "rating"),
    ({"rating": "²"}, "rating"),
    ({"nps": 11}, "nps"),
    ({"nps": -1}, "nps"),
    ({"touchpoint": "teleportation"}, "touchpoint"),
    ({"touchpoint": None}, "touchpoint"),
    ({"touchpoint": ["usage"]}, "touchpoint"),
    ({"occurred_on": "2027-01-16"}, "occurred_on"),   # tomorrow by the frozen clock
    ({"occurred_on": "1999-12-31"}, "occurred_on"),
    ({"occurred_on": "24/12/2026"}, "occurred_on"),
    ({"brand_id": "brand_unknown"}, "brand_id"),
    ({"brand_id": ""}, "brand_id"),
    ({"brand_id": 7}, "brand_id"),
    ({"comment": "x" * (MAX_COMMENT + 1)}, "comment"),
    ({"comment": "escape \x1b[31m"}, "comment"),
    ({"comment": 42}, "comment"),
    ({"member_id": "someone-else"}, "member_id"),
    ({"id": 1}, "id"),
]


@pytest.mark.parametrize("overrides, field", INVALID,
                         ids=[f"{f}={o[f]!r}"[:30] for o, f in INVALID])
def test_invalid_input_is_refused_and_changes_nothing(vault, member_id, entry, overrides, field):
    existing = vault.feedback.add(member_id, entry())
    before = table(vault)
    with pytest.raises(ValidationError) as caught:
        vault.feedback.add(member_id, entry(**overrides))
    assert list(caught.value.errors) == [field]
    with pytest.raises(ValidationError) as caught:
        vault.feedback.update(member_id, existing, entry(**overrides))
    assert list(caught.value.errors) == [field]
    assert table(vault) == before


def test_every_bad_field_is_named_at_once(vault, member_id, entry):
    with pytest.raises(ValidationError) as caught:
        vault.feedback.add(member_id, entry(rating=9, nps=12, touchpoint="x", extra=1))
    assert set(caught.value.errors) == {"rating", "nps", "touchpoint", "extra"}


@pytest.mark.parametrize("overrides", [
    {"rating": 1}, {"rating": 5}, {"nps": 0}, {"nps": 10}, {"nps": None},
    {"occurred_on": TODAY}, {"occurred_on": "2000-01-01"},
    {"comment": "x" * MAX_COMMENT}, {"comment": "two\nlines"},
])
def test_boundary_values_are_accepted(vault, member_id, entry, overrides):
    vault.feedback.add(member_id, entry(**overrides))


def test_by_touchpoint_on_a_hand_checked_example(vault, member_id, bob, brand, entry):
    other = vault.brands.add("Other Brand")
    for who, touchpoint, rating, nps in [
        (member_id, "usage", 5, 10), (member_id, "usage", 4, 9), (bob, "usage", 3, 6),
        (bob, "usage", 2, None),
        (member_id, "support", 1, 7), (bob, "support", 2, None),
        (bob, "delivery", 5, None),
    ]:
        vault.feedback.add(who, entry(touchpoint=touchpoint, rating=rating, nps=nps))
    vault.feedback.add(bob, entry(brand_id=other.id, touchpoint="usage", rating=1, nps=0))
    assert vault.feedback.by_touchpoint(brand.id) == [
        TouchpointSummary("delivery", 1, 5.0, None),
        TouchpointSummary("support", 2, 1.5, 0.0),
        # 4 entries, mean (5+4+3+2)/4; NPS over the 3 scored: 2 promoters, 1 detractor
        TouchpointSummary("usage", 4, 3.5, 33.3),
    ]
    usage_all = [s for s in vault.feedback.by_touchpoint() if s.touchpoint == "usage"]
    # with the other brand's (1, 0): 5 entries, mean 15/5, NPS (2 - 2) / 4 scored
    assert usage_all == [TouchpointSummary("usage", 5, 3.0, 0.0)]
    assert vault.feedback.by_touchpoint("brand_nobody") == []


def test_check_names_an_unknown_brand_with_every_other_error_and_writes_nothing(vault, entry):
    with pytest.raises(ValidationError) as caught:
        vault.feedback.check(entry(brand_id="brand_0000000000000000", rating=9, nps="ten"))
    assert set(caught.value.errors) == {"brand_id", "rating", "nps"}
    with pytest.raises(ValidationError) as caught:
        vault.feedback.check(entry(brand_id="brand_0000000000000000"))
    assert caught.value.errors == {"brand_id": ["Choose a brand from the list."]}
    assert table(vault) == []
