"""vault.profile: sealed catalog values, all-or-nothing updates, clearing."""

from __future__ import annotations

import json

import pytest

from tests.conftest import GOOD_PASSWORD
from vault.errors import IntegrityError, ValidationError
from vault.profile import _aad

GOOD = {
    "given_name": "Alice",
    "date_of_birth": "1990-05-17",
    "household_size": "3",
    "country": "nl",
    "interests": ["music", "cycling"],
    "religion": "Quaker",
    "health_conditions": "asthma\nhay fever",
}
CANONICAL = GOOD | {"household_size": 3, "country": "NL", "interests": ["cycling", "music"]}


def rows(vault, member_id) -> dict[str, tuple[bytes, int]]:
    return {
        r["attribute"]: (r["value_sealed"], r["updated_at"])
        for r in vault.data.all(
            "SELECT attribute, value_sealed, updated_at FROM profile_values WHERE member_id = ?",
            (member_id,),
        )
    }


def test_a_new_member_has_an_empty_profile(vault, member_id):
    assert vault.profile.get(member_id) == {}


def test_update_returns_and_stores_canonical_values(vault, member_id, clock):
    assert vault.profile.update(member_id, GOOD) == CANONICAL
    assert vault.profile.get(member_id) == CANONICAL
    stored = rows(vault, member_id)
    assert set(stored) == set(GOOD)
    assert {updated for _, updated in stored.values()} == {int(clock())}


def test_values_are_sealed(vault, member_id):
    vault.profile.update(member_id, GOOD)
    for attribute, (sealed, _) in rows(vault, member_id).items():
        encoded = json.dumps(CANONICAL[attribute]).encode()
        # A value of a few bytes (a household size "3") turns up in random ciphertext by chance;
        # from six bytes on, a chance match is below 1e-12 per value.
        if len(encoded) >= 6:
            assert encoded not in sealed
        assert sealed[:1] == b"\x01" and len(sealed) >= 1 + 12 + 16 + len(encoded)
        assert b"Quaker" not in sealed and b"asthma" not in sealed


def test_an_update_changes_only_what_it_names(vault, member_id, clock):
    vault.profile.update(member_id, GOOD)
    clock.advance(60)
    vault.profile.update(member_id, {"given_name": "Alicia"})
    assert vault.profile.get(member_id) == CANONICAL | {"given_name": "Alicia"}
    assert rows(vault, member_id)["given_name"][1] == int(clock())
    assert rows(vault, member_id)["country"][1] == int(clock()) - 60


@pytest.mark.parametrize("empty", [None, "", "   ", []])
def test_an_empty_value_clears(vault, member_id, empty):
    vault.profile.update(member_id, GOOD)
    key = "interests" if empty == [] else "given_name"
    assert key not in vault.profile.update(member_id, {key: empty})
    profile = vault.profile.get(member_id)
    assert key not in profile and key not in rows(vault, member_id)
    assert profile == {k: v for k, v in CANONICAL.items() if k != key}


def test_clearing_an_unset_attribute_is_harmless(vault, member_id):
    assert vault.profile.update(member_id, {"city": ""}) == {}
    assert vault.profile.get(member_id) == {}


@pytest.mark.parametrize("bad", [
    {"household_size": "lots"},
    {"country": "Netherlands"},
    {"shoe_size": "42"},
    {"given_name": "x" * 101},
    {"given_name": "bell\x07"},
    {"interests": ["cycling", "base-jumping"]},
])
def test_one_bad_field_saves_nothing(vault, member_id, clock, bad):
    vault.profile.update(member_id, GOOD)
    before = rows(vault, member_id)
    clock.advance(60)
    changes = {"given_name": "Changed", "city": "Utrecht", "religion": ""} | bad
    with pytest.raises(ValidationError) as caught:
        vault.profile.update(member_id, changes)
    assert list(caught.value.errors) == list(bad)
    assert rows(vault, member_id) == before
    assert vault.profile.get(member_id) == CANONICAL


def test_every_bad_field_is_named(vault, member_id):
    with pytest.raises(ValidationError) as caught:
        vault.profile.update(member_id, {"household_size": 0, "gender": "x", "nope": 1,
                                         "city": "Utrecht"})
    assert set(caught.value.errors) == {"household_size", "gender", "nope"}
    assert vault.profile.get(member_id) == {}


def test_profiles_are_per_member(vault, member_id):
    other = vault.members.register("bob@example.org", GOOD_PASSWORD)
    vault.profile.update(member_id, GOOD)
    vault.profile.update(other, {"given_name": "Bob"})
    assert vault.profile.get(other) == {"given_name": "Bob"}
    assert vault.profile.get(member_id) == CANONICAL


def test_a_value_copied_to_another_member_does_not_open(vault, member_id):
    other = vault.members.register("bob@example.org", GOOD_PASSWORD)
    vault.profile.update(member_id, {"religion": "Quaker"})
    sealed = rows(vault, member_id)["religion"][0]
    vault.data.execute(
        "INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
        " VALUES (?, 'religion', ?, 0)", (other, sealed),
    )
    with pytest.raises(IntegrityError):
        vault.profile.get(other)


def test_attributes_no_longer_in_the_catalog_are_skipped_on_read(vault, member_id):
    vault.profile.update(member_id, {"city": "Utrecht"})
    vault.data.execute(
        "INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
        " VALUES (?, 'retired_attribute', x'00', 0)", (member_id,),
    )
    assert vault.profile.get(member_id) == {"city": "Utrecht"}


def test_read_opens_each_value_it_returns(vault, member_id):
    vault.profile.update(member_id, GOOD)
    wanted = ["interests", "given_name", "household_size", "city"]     # city: not filled in
    assert vault.profile.read(member_id, wanted) == {
        k: CANONICAL[k] for k in ("interests", "given_name", "household_size")}


def test_read_refuses_a_sealed_text_that_is_not_one_json_value(vault, member_id):
    # read() parses its values in one go; a value of two JSON values must not shift the rest
    # (only someone holding the member's key could seal one).
    vault.profile.update(member_id, {"city": "Utrecht", "country": "NL"})
    sealed = vault.key_store.cipher(member_id).seal(_aad(member_id, "city"), b'"Utrecht","x"')
    vault.data.execute("UPDATE profile_values SET value_sealed = ? WHERE member_id = ?"
                       " AND attribute = 'city'", (sealed, member_id))
    with pytest.raises(IntegrityError):
        vault.profile.read(member_id, ["city", "country"])
