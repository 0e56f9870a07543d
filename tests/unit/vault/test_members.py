"""vault.members: sign-up, authentication, throttling and the TOTP second factor."""

from __future__ import annotations

import pyotp
import pytest

from tests.conftest import GOOD_PASSWORD, turn_on_totp
from vault.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    SecondFactorRequiredError,
    ThrottledError,
    ValidationError,
)
from vault.keys import Pseudonymiser
from vault.members import Member
from vault.throttle import FREE_FAILURES

ALICE = "alice@example.org"
WRONG = "wrong horse battery staple"


def counts(vault) -> tuple[int, int]:
    return (vault.data.one("SELECT count(*) FROM members")[0],
            vault.keys_database.one("SELECT count(*) FROM member_keys")[0])


def auth_error(vault, email: str, password: str, client: str = "203.0.113.7") -> Exception:
    with pytest.raises(AuthenticationError) as caught:
        vault.members.authenticate(email, password, client=client)
    return caught.value


def code_at(secret: str, when: float) -> str:
    return pyotp.TOTP(secret).at(when)


# -- sign-up ------------------------------------------------------------------------------
def test_register_stores_the_member(vault, clock, member_id):
    assert len(member_id) == 32 and int(member_id, 16) >= 0
    assert vault.members.get(member_id) == Member(member_id, ALICE, int(clock()), False)
    assert vault.members.exists(member_id)
    assert counts(vault) == (1, 1)


def test_the_login_address_is_normalised_and_only_blind_indexed(vault):
    member = vault.members.register("  Bob@Example.ORG ", GOOD_PASSWORD)
    assert vault.members.get(member).email == "bob@example.org"
    row = vault.data.one("SELECT * FROM members WHERE id = ?", (member,))
    blind = Pseudonymiser(vault.master.derive("blind-index"))
    assert row["email_index"] == blind.digest("bob@example.org")
    assert b"bob" not in row["email_sealed"].lower()
    assert row["password_hash"].startswith("$argon2id$")


@pytest.mark.parametrize("again", [
    ALICE, "ALICE@example.org", "  Alice@Example.Org  ", "ａｌｉｃｅ@example.org",
])
def test_a_duplicate_address_is_a_conflict(vault, member_id, again):
    before = counts(vault)
    with pytest.raises(ConflictError):
        vault.members.register(again, "another fine passphrase here")
    assert counts(vault) == before


def test_accounts_made_many_at_once_sign_in_and_a_taken_address_undoes_the_batch(
        vault, member_id):
    members, password_hash = vault.members, vault.password_hasher.hash(GOOD_PASSWORD)
    made = ["carol@example.org", "dave@example.org"]
    with vault.accounts.transaction(), vault.key_store.transaction():
        ids = members.insert_many([(e, members.email_index(e)) for e in made],
                                  password_hash=password_hash)
    vault.key_store.forget_cached()             # read back through the wrapped keys
    assert [members.get(i).email for i in ids] == made
    assert members.authenticate("dave@example.org", GOOD_PASSWORD, client="c") == ids[1]
    before = counts(vault)
    with pytest.raises(ConflictError), vault.accounts.transaction(), \
            vault.key_store.transaction():
        members.insert_many([(e, members.email_index(e)) for e in ("erin@example.org", ALICE)],
                            password_hash=password_hash)
    assert counts(vault) == before              # no account and no key of the batch is left


@pytest.mark.parametrize("email", [
    "", "   ", "no-at-sign", "a@b", "@example.org", "a b@example.org", "x" * 65 + "@example.org",
    "a\x00b@example.org", 123, None, "a@" + "x" * 260 + ".org",
])
def test_an_invalid_address_is_refused(vault, email):
    with pytest.raises(ValidationError) as caught:
        vault.members.register(email, GOOD_PASSWORD)
    assert list(caught.value.errors) == ["email"]
    assert counts(vault) == (0, 0)


@pytest.mark.parametrize("password", ["too short", "passwordstandard", "alice in wonderland!"])
def test_a_weak_password_is_refused_and_nothing_is_stored(vault, password):
    with pytest.raises(ValidationError) as caught:
        vault.members.register(ALICE, password)
    assert list(caught.value.errors) == ["password"] and caught.value.errors["password"]
    assert counts(vault) == (0, 0)


def test_get_an_unknown_member(vault):
    with pytest.raises(NotFoundError):
        vault.members.get("0" * 32)
    assert not vault.members.exists("0" * 32)


# -- authentication -----------------------------------------------------------------------
@pytest.mark.parametrize("typed", [ALICE, " ALICE@example.org ", "Alice@EXAMPLE.org"])
def test_the_right_credentials_authenticate(vault, member_id, typed):
    assert vault.members.authenticate(typed, GOOD_PASSWORD, client="c") == member_id


def test_wrong_address_and_wrong_password_look_the_same(vault, member_id):
    wrong_password = auth_error(vault, ALICE, WRONG)
    wrong_address = auth_error(vault, "mallory@example.org", GOOD_PASSWORD)
    malformed = auth_error(vault, "not an address", GOOD_PASSWORD)
    for error in (wrong_password, wrong_address, malformed):
        assert type(error) is AuthenticationError
        assert str(error) == str(wrong_password) and error.status == 401


def test_the_password_is_case_and_space_sensitive(vault, member_id):
    auth_error(vault, ALICE, GOOD_PASSWORD.upper())
    auth_error(vault, ALICE, GOOD_PASSWORD + " ")


def test_failures_throttle_the_address_until_the_clock_moves(vault, clock, member_id):
    for attempt in range(FREE_FAILURES):
        auth_error(vault, ALICE, WRONG, client=f"client-{attempt}")
    with pytest.raises(ThrottledError) as caught:
        vault.members.authenticate(ALICE, GOOD_PASSWORD, client="a-fresh-client")
    assert caught.value.retry_after > 0
    clock.advance(caught.value.retry_after - 1)
    with pytest.raises(ThrottledError) as again:
        vault.members.authenticate(ALICE, GOOD_PASSWORD, client="a-fresh-client")
    assert again.value.retry_after == 1
    clock.advance(1)
    assert vault.members.authenticate(ALICE, GOOD_PASSWORD, client="a-fresh-client") == member_id


def test_failures_throttle_the_client_across_addresses(vault, member_id):
    for attempt in range(FREE_FAILURES):
        auth_error(vault, f"nobody{attempt}@example.org", WRONG, client="198.51.100.9")
    with pytest.raises(ThrottledError):
        vault.members.authenticate(ALICE, GOOD_PASSWORD, client="198.51.100.9")
    assert vault.members.authenticate(ALICE, GOOD_PASSWORD, client="192.0.2.1") == member_id


def test_a_success_clears_the_address(vault, member_id):
    for attempt in range(FREE_FAILURES - 1):
        auth_error(vault, ALICE, WRONG, client=f"a{attempt}")
    vault.members.authenticate(ALICE, GOOD_PASSWORD, client="ok")
    for attempt in range(FREE_FAILURES - 1):
        auth_error(vault, ALICE, WRONG, client=f"b{attempt}")
    assert vault.members.authenticate(ALICE, GOOD_PASSWORD, client="ok2") == member_id


def test_throttle_rows_hold_no_address_or_client_in_clear(vault, member_id):
    auth_error(vault, ALICE, WRONG, client="198.51.100.9")
    rows = vault.data.all("SELECT subject FROM login_throttle")
    assert len(rows) == 2
    for row in rows:
        assert b"alice" not in row["subject"] and b"198.51" not in row["subject"]


# -- TOTP ---------------------------------------------------------------------------------
@pytest.fixture
def secret(vault, clock, member_id) -> str:
    secret = vault.members.new_totp_secret()
    vault.members.enable_totp(member_id, secret, code_at(secret, clock.now))
    return secret


def test_enabling_totp_needs_a_right_code(vault, clock, member_id):
    secret = vault.members.new_totp_secret()
    for code in ("000000" if code_at(secret, clock.now) != "000000" else "111111", "12345", "",
                 "abcdef"):
        with pytest.raises(ValidationError) as caught:
            vault.members.enable_totp(member_id, secret, code)
        assert list(caught.value.errors) == ["code"]
    assert vault.members.get(member_id).totp_enabled is False
    code = code_at(secret, clock.now)
    vault.members.enable_totp(member_id, secret, f" {code[:3]} {code[3:]} ")
    assert vault.members.get(member_id).totp_enabled is True
    assert secret.encode() not in vault.data.one(
        "SELECT totp_sealed FROM members WHERE id = ?", (member_id,))[0]


def test_a_password_login_then_needs_the_second_factor(vault, member_id, secret):
    with pytest.raises(SecondFactorRequiredError) as caught:
        vault.members.authenticate(ALICE, GOOD_PASSWORD, client="c")
    assert caught.value.member_id == member_id
    assert isinstance(caught.value, AuthenticationError)
    error = auth_error(vault, ALICE, WRONG)  # a wrong password still says nothing about TOTP
    assert type(error) is AuthenticationError


def test_a_code_verifies_once(vault, clock, member_id, secret):
    with pytest.raises(AuthenticationError):  # the enrolment code is spent already
        vault.members.verify_totp(member_id, code_at(secret, clock.now), client="c")
    clock.advance(30)
    code = code_at(secret, clock.now)
    vault.members.verify_totp(member_id, code, client="c")
    with pytest.raises(AuthenticationError):
        vault.members.verify_totp(member_id, code, client="c")


def test_codes_within_one_step_are_accepted_and_older_ones_not(vault, clock, member_id, secret):
    clock.advance(300)
    with pytest.raises(AuthenticationError):
        vault.members.verify_totp(member_id, code_at(secret, clock.now - 60), client="c")
    vault.members.verify_totp(member_id, code_at(secret, clock.now - 30), client="c")
    vault.members.verify_totp(member_id, code_at(secret, clock.now + 30), client="c")


def test_a_wrong_code_fails_and_is_throttled(vault, clock, member_id, secret):
    clock.advance(30)
    right = code_at(secret, clock.now)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(FREE_FAILURES):
        with pytest.raises(AuthenticationError):
            vault.members.verify_totp(member_id, wrong, client="c")
    with pytest.raises(ThrottledError):
        vault.members.verify_totp(member_id, right, client="c")


def test_verify_without_totp_fails(vault, member_id):
    with pytest.raises(AuthenticationError):
        vault.members.verify_totp(member_id, "123456", client="c")


def test_disabling_totp(vault, member_id, secret):
    vault.members.disable_totp(member_id)
    assert vault.members.get(member_id).totp_enabled is False
    assert vault.members.authenticate(ALICE, GOOD_PASSWORD, client="c") == member_id


def test_the_provisioning_uri_names_the_member_and_issuer(vault, member_id):
    secret = vault.members.new_totp_secret()
    uri = vault.members.totp_uri(member_id, secret)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert "alice%40example.org" in uri and "issuer=vrmvault" in uri


# -- roles ----------------------------------------------------------------------------------
def test_every_account_starts_as_a_member(vault, member_id):
    from vault.members import MEMBER

    assert vault.members.role(member_id) == MEMBER
    assert vault.members.role("0" * 32) is None
    assert vault.members.with_role("compliance") == []


def test_find_looks_an_address_up_by_its_blind_index(vault, member_id):
    assert vault.members.find(" Alice@Example.org ") == member_id
    assert vault.members.find("bob@example.org") is None
    with pytest.raises(ValidationError):
        vault.members.find("not an address")


def test_a_role_is_given_and_taken(vault, member_id):
    from vault.members import COMPLIANCE, MEMBER

    bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
    turn_on_totp(vault, member_id)               # no officer without a second factor
    assert vault.members.set_role(member_id, COMPLIANCE) is True
    assert vault.members.set_role(member_id, COMPLIANCE) is False       # no change
    assert vault.members.role(member_id) == COMPLIANCE
    assert vault.members.role(bob) == MEMBER
    assert [m.id for m in vault.members.with_role(COMPLIANCE)] == [member_id]
    assert vault.members.with_role(COMPLIANCE)[0].email == ALICE
    assert vault.members.set_role(member_id, MEMBER) is True
    assert vault.members.with_role(COMPLIANCE) == []


def test_unknown_roles_and_accounts_are_refused(vault, member_id):
    with pytest.raises(ValidationError):
        vault.members.set_role(member_id, "admin")
    with pytest.raises(NotFoundError):
        vault.members.set_role("0" * 32, "compliance")
    # The store refuses an unknown role too, whoever writes it.
    from vault.errors import ConstraintViolationError

    with pytest.raises(ConstraintViolationError):
        vault.data.execute("INSERT INTO member_roles (member_num, role)"
                           " SELECT num, 'admin' FROM members WHERE id = ?", (member_id,))
