"""vault.passwords: NIST SP 800-63B rules with reasons, argon2id at or above ASVS costs."""

from __future__ import annotations

import pytest

from tests.conftest import GOOD_PASSWORD, TEST_HASHING
from vault.errors import KeyMaterialError, ValidationError
from vault.passwords import (
    ASVS_MIN_MEMORY_KIB,
    ASVS_MIN_TIME_COST,
    MAX_LENGTH,
    MIN_LENGTH,
    HashingCost,
    PasswordHasher,
    normalise,
    problems,
)

pytestmark = pytest.mark.real_hashing      # the hashes themselves: fresh salts, each time

CONTEXT = ("alice", "alice@example.org")
WORDS = ("quiet lantern orbit mosaic ferry velvet thunder pebble harbor jigsaw walrus "
         "saffron glacier trumpet nebula cobalt meadow falcon origami tundra ") * 4
FULLWIDTH = "ｃｏｒｒｅｃｔ\u3000ｈｏｒｓｅ\u3000ｂａｔｔｅｒｙ\u3000ｓｔａｐｌｅ"


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(TEST_HASHING)


def passphrase(length: int) -> str:
    assert len(WORDS) >= length
    return WORDS[:length - 1] + "Z"  # never ends in a space


@pytest.mark.parametrize("password", ["", "a", "short", "fourteen chars", "é" * 14,
                                      "e\u0301" * 8])  # 16 code points, 8 after NFKC
def test_fewer_than_15_characters_is_refused_with_a_reason(password):
    reasons = problems(password)
    assert len(reasons) == 1
    assert str(MIN_LENGTH) in reasons[0]
    assert f"you have {len(normalise(password))}" in reasons[0]


@pytest.mark.parametrize("password", ["passwordstandard", "1234567890qwerty",
                                      "PasswordStandard"])
def test_a_long_common_password_is_refused_as_common(password):
    assert problems(password) == ["This password is on a list of commonly used passwords."]


@pytest.mark.parametrize("password", ["passwordpassword", "aaaaaaaaaaaaaaaaaaaa",
                                      "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjkl"])
def test_a_long_guessable_password_is_refused_with_a_reason(password):
    reasons = problems(password)
    assert len(reasons) == 1 and len(reasons[0]) > 10


@pytest.mark.parametrize("password", ["alice-loves-bikes-a-lot", "my ALICE@example.org key",
                                      "my vrmvault passphrase rocks"])
def test_the_email_local_part_or_site_name_is_refused(password):
    assert problems(password, context=CONTEXT) == [
        "Do not use your e-mail address or the name of this site in your password."
    ]


def test_register_reports_the_password_reason(vault):
    with pytest.raises(ValidationError) as caught:
        vault.members.register("marguerite@example.org", "marguerite rides her bike daily")
    assert list(caught.value.errors) == ["password"]
    assert "e-mail" in caught.value.errors["password"][0]
    assert vault.data.one("SELECT count(*) FROM members")[0] == 0


@pytest.mark.parametrize("password", [
    GOOD_PASSWORD,
    "fifteen chars?q",
    "Ünïcødé façade 🚲 naïve über straße 熊猫喜欢吃竹子",
    "Żółć gęślą jaźń — 東京タワー ελληνικά ✓",
    FULLWIDTH,
])
def test_good_passphrases_are_accepted(password):
    assert problems(password, context=CONTEXT) == []


@pytest.mark.parametrize("length", [15, 64, 65, 72, 73, 100, 200, MAX_LENGTH])
def test_long_passphrases_are_accepted(length):
    # NIST SP 800-63B: at least 64 characters permitted; the module allows up to 256.
    password = passphrase(length)
    assert len(password) == length
    assert problems(password, context=CONTEXT) == []


def test_long_pasted_unicode_is_accepted():
    password = ("Ünïcødé façade 🚲 naïve über straße 熊猫喜欢吃竹子 Żółć gęślą jaźń 東京タワー "
                "ελληνικά ✓ ") * 2
    assert len(password) > 64
    assert problems(password.strip(), context=CONTEXT) == []


def test_more_than_the_maximum_is_refused_with_a_reason():
    assert problems(passphrase(MAX_LENGTH) + "x") == [f"Use at most {MAX_LENGTH} characters."]


def test_a_non_string_is_refused():
    assert problems(None) == ["Enter a password."]  # type: ignore[arg-type]


# -- hashing ------------------------------------------------------------------------------
def test_hashes_are_salted_argon2id_at_the_configured_cost(hasher):
    one, two = hasher.hash(GOOD_PASSWORD), hasher.hash(GOOD_PASSWORD)
    assert one.startswith("$argon2id$") and two.startswith("$argon2id$")
    assert f"m={TEST_HASHING.memory_kib},t={TEST_HASHING.time_cost},p=1" in one
    assert one != two
    assert GOOD_PASSWORD not in one


def test_verify(hasher):
    stored = hasher.hash(GOOD_PASSWORD)
    assert hasher.verify(stored, GOOD_PASSWORD) is True
    assert hasher.verify(stored, GOOD_PASSWORD + " ") is False
    assert hasher.verify(stored, GOOD_PASSWORD.upper()) is False
    assert hasher.verify(None, "decoy password for timing equality") is False
    assert hasher.verify("not a hash", GOOD_PASSWORD) is False


@pytest.mark.parametrize("typed, stored", [
    (FULLWIDTH, GOOD_PASSWORD),                     # fullwidth forms and ideographic spaces
    (GOOD_PASSWORD, FULLWIDTH),
    ("ﬁne print on the ﬂoor mat", "fine print on the floor mat"),  # ligatures
    ("cafe\u0301 au lait tonight", "caf\u00e9 au lait tonight"),    # combining accent
])
def test_compatibility_forms_verify_against_the_normalised_password(hasher, typed, stored):
    assert typed != stored
    assert hasher.verify(hasher.hash(stored), typed) is True


def test_a_member_signed_up_in_fullwidth_can_log_in_in_ascii(vault):
    member = vault.members.register("zoe@example.org", FULLWIDTH)
    assert vault.members.authenticate("zoe@example.org", GOOD_PASSWORD, client="c") == member


@pytest.mark.parametrize("time_cost, memory_kib", [
    (ASVS_MIN_TIME_COST - 1, ASVS_MIN_MEMORY_KIB),
    (ASVS_MIN_TIME_COST, ASVS_MIN_MEMORY_KIB - 1),
    (1, 8 * 1024),
    (0, 64 * 1024),
])
def test_costs_below_the_asvs_minimum_are_refused(time_cost, memory_kib):
    with pytest.raises(KeyMaterialError):
        HashingCost(time_cost=time_cost, memory_kib=memory_kib, parallelism=1)


def test_the_asvs_minimum_and_the_default_are_accepted():
    assert ASVS_MIN_MEMORY_KIB == 19456 and ASVS_MIN_TIME_COST == 2
    HashingCost(time_cost=2, memory_kib=19456, parallelism=1)
    default = HashingCost()
    assert default.memory_kib >= ASVS_MIN_MEMORY_KIB and default.time_cost >= ASVS_MIN_TIME_COST


def test_a_hash_at_a_lower_cost_needs_a_rehash(hasher):
    stronger = PasswordHasher(HashingCost(time_cost=3, memory_kib=19456, parallelism=1))
    old = hasher.hash(GOOD_PASSWORD)
    assert stronger.needs_rehash(old) is True
    assert hasher.needs_rehash(old) is False
    assert stronger.verify(old, GOOD_PASSWORD) is True
