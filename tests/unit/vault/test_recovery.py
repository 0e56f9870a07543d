"""The recovery services on a real store: request limits, device cookies, recovery codes,
pending sign-ups and reset links (the pages are tested in tests/functional/test_recovery.py)."""

from __future__ import annotations

import pytest

from tests.conftest import GOOD_PASSWORD, turn_on_totp
from vault.clock import FrozenClock
from vault.devices import DeviceCookies
from vault.errors import (
    AuthenticationError,
    ConflictError,
    LinkExpiredError,
    ThrottledError,
    ValidationError,
)
from vault.home import Vault
from vault.recovery_codes import normalise_code
from vault.signups import SIGNUP_LINK_MINUTES


# -- request limits --------------------------------------------------------------------------
def test_a_limit_counts_per_window_and_a_refusal_counts_nothing(vault: Vault,
                                                                clock: FrozenClock) -> None:
    limits = vault.request_limits
    for _ in range(2):
        limits.take((b"a", 2, 60), (b"b", 5, 60))
    with pytest.raises(ThrottledError) as refused:
        limits.take((b"a", 2, 60), (b"b", 5, 60))
    assert refused.value.retry_after == 60
    rows = dict(vault.data.all("SELECT subject, requests FROM request_limits"))
    assert rows == {b"a": 2, b"b": 2}, "the refused request counted against neither"
    clock.advance(60)
    limits.take((b"a", 2, 60))


# -- device cookies --------------------------------------------------------------------------
def test_a_device_cookie_is_good_for_one_account_and_one_password_hash() -> None:
    cookies = DeviceCookies(b"k" * 32)
    cookie = cookies.issue("member-1", "hash-1")
    assert cookies.nonce_if_valid(cookie, "member-1", "hash-1") == cookie.split(".")[0]
    nonce, mac = cookie.split(".")
    for bad in (cookies.nonce_if_valid(cookie, "member-2", "hash-1"),
                cookies.nonce_if_valid(cookie, "member-1", "hash-2"),
                DeviceCookies(b"o" * 32).nonce_if_valid(cookie, "member-1", "hash-1"),
                cookies.nonce_if_valid(nonce + "x." + mac, "member-1", "hash-1"),
                cookies.nonce_if_valid(cookie + ".x", "member-1", "hash-1"),
                cookies.nonce_if_valid("." + mac, "member-1", "hash-1"),
                cookies.nonce_if_valid("x" * 200, "member-1", "hash-1"),
                cookies.nonce_if_valid(None, "member-1", "hash-1")):
        assert bad is None
    assert "member-1" not in cookie and cookies.issue("member-1", "hash-1") != cookie


# -- recovery codes --------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "expected"), [
    ("abcd-efgh-ijkl-mnop", "ABCDEFGHIJKLMNOP"),
    (" ABCD EFGH\tIJKL-MNOP ", "ABCDEFGHIJKLMNOP"),
    ("abcd-efgh-ijkl-mno", None),
    ("abcd-efgh-ijkl-mn0p", None),         # 0 is not base32
    ("123456", None),
    ("", None),
])
def test_typed_codes_are_normalised(typed: str, expected: str | None) -> None:
    assert normalise_code(typed) == expected


def test_recovery_codes_are_single_use_keyed_per_member(vault: Vault, member_id: str) -> None:
    bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
    _, codes = turn_on_totp(vault, member_id)
    turn_on_totp(vault, bob)
    codes_of = vault.members.recovery_codes
    assert not codes_of.use(bob, codes[0]), "Alice's code is not Bob's"
    assert codes_of.use(member_id, codes[0]) and not codes_of.use(member_id, codes[0])
    assert codes_of.remaining(member_id) == 9
    new = codes_of.generate(member_id)
    assert not codes_of.use(member_id, codes[1]), "old codes die with a new set"
    assert codes_of.use(member_id, new[1]) and codes_of.remaining(member_id) == 9


def test_a_recovery_code_is_refused_once_totp_is_off(vault: Vault, member_id: str) -> None:
    _, codes = turn_on_totp(vault, member_id)
    vault.members.disable_totp(member_id)
    assert vault.members.recovery_codes.remaining(member_id) == 0
    with pytest.raises(AuthenticationError):
        vault.members.verify_totp(member_id, codes[0], client="c")


# -- pending sign-ups ------------------------------------------------------------------------
def test_a_sign_up_reports_every_problem_at_once(vault: Vault) -> None:
    with pytest.raises(ValidationError) as refused:
        vault.signups.request("not an address", "short", client="c")
    assert set(refused.value.errors) == {"email", "password"}
    assert vault.data.one("SELECT count(*) FROM request_limits")[0] == 0


def test_a_pending_sign_up_for_an_address_registered_since_is_spent(vault: Vault) -> None:
    pending = vault.signups.request("carol@example.org", GOOD_PASSWORD, client="c")
    assert pending.token is not None
    vault.members.register("carol@example.org", "another fine passphrase here")
    with pytest.raises(ConflictError):
        vault.signups.complete(pending.token)
    with pytest.raises(LinkExpiredError):
        vault.signups.complete(pending.token)
    assert vault.data.one("SELECT count(*) FROM members")[0] == 1


def test_a_pending_sign_up_expires(vault: Vault, clock: FrozenClock) -> None:
    pending = vault.signups.request("carol@example.org", GOOD_PASSWORD, client="c")
    assert pending.token is not None and vault.signups.is_pending(pending.token)
    clock.advance(SIGNUP_LINK_MINUTES * 60)
    assert not vault.signups.is_pending(pending.token)
    with pytest.raises(LinkExpiredError):
        vault.signups.complete(pending.token)
    assert vault.data.one("SELECT count(*) FROM signup_requests")[0] == 0


def test_a_reset_keeps_totp_and_refuses_a_weak_password_without_spending_the_link(
        vault: Vault, member_id: str) -> None:
    turn_on_totp(vault, member_id)
    token = vault.password_resets.request("alice@example.org", client="c").token
    assert token is not None
    with pytest.raises(ValidationError):
        vault.password_resets.reset(token, "alice@example.org is me")
    assert vault.password_resets.reset(token, "violet harbour cranes hum old shanties") == \
        member_id
    assert vault.members.has_second_factor(member_id)
    with pytest.raises(LinkExpiredError):
        vault.password_resets.reset(token, "violet harbour cranes hum old shanties")
