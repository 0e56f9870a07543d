"""The sign-in throttle across workers (each with its own store connection) and the second
factor's secret at rest: sealed, bound to its member, never replaced while one is on."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import GOOD_PASSWORD, TEST_HASHING, turn_on_totp
from vault.errors import (
    AuthenticationError,
    ConflictError,
    SecondFactorRequiredError,
    ThrottledError,
)
from vault.throttle import FORGET_AFTER, FREE_FAILURES


def test_parallel_wrong_passwords_are_throttled_like_sequential_ones(vault_home, clock,
                                                                      member_id):
    """Each thread has its own store connection, as each web worker does."""
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def guess() -> None:
        with vault_home.open(clock=clock, hashing=TEST_HASHING) as mine:
            barrier.wait()
            try:
                mine.members.authenticate("alice@example.org", "a wrong guess for the test",
                                          client="10.0.0.7")
            except AuthenticationError:
                outcomes.append("checked")
            except ThrottledError:
                outcomes.append("throttled")

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("checked") <= FREE_FAILURES
    assert outcomes.count("throttled") >= 12 - FREE_FAILURES


def test_a_right_password_gives_the_shared_client_its_attempt_back(vault, member_id):
    for _ in range(FREE_FAILURES - 1):
        with pytest.raises(AuthenticationError):
            vault.members.authenticate("alice@example.org", "not it at all, sorry",
                                       client="10.0.0.8")
    vault.members.authenticate("alice@example.org", GOOD_PASSWORD, client="10.0.0.8")
    # Another member behind the same address is not locked out by Alice's typos.
    vault.members.register("bob@example.org", GOOD_PASSWORD)
    vault.members.authenticate("bob@example.org", GOOD_PASSWORD, client="10.0.0.8")


def test_a_right_password_from_a_client_a_stranger_locked_leaves_the_code_step_open(
        vault, member_id, clock):
    """A stranger's guesses from Alice's network lock it; once the lock has passed, her right
    password counts as a failure until checked, and that count's lock (32 s here, 15 min after
    more guesses, beyond the code step's 5 minutes) refused her code right after it, so a
    member with two-step sign-in on could not sign in from a new browser there at all, when
    one without it could. The code step is limited per member; her right password and code
    leave the network's count as the stranger left it."""
    import pyotp

    secret, _ = turn_on_totp(vault, member_id)
    for guess in range(FREE_FAILURES + 3):
        clock.advance(2 ** 4 if guess else 0)           # each lock waited out (2 to 8 s)
        with pytest.raises(AuthenticationError):
            vault.members.authenticate("mallory@example.org", "guessing someone's password",
                                       client="10.0.0.9")
    with pytest.raises(ThrottledError):
        vault.members.authenticate("alice@example.org", GOOD_PASSWORD, client="10.0.0.9")
    clock.advance(2 ** 4 + 1)
    with pytest.raises(SecondFactorRequiredError):
        vault.members.authenticate("alice@example.org", GOOD_PASSWORD, client="10.0.0.9")
    code = pyotp.TOTP(secret).at(clock() + 30)          # the setup spent this step's code
    assert vault.members.verify_totp(member_id, code, client="10.0.0.9") == "totp"
    # A wrong code still counts against the network (five digits are never a right code):
    # the ninth failure, locked for 32 s; the stranger's next guess, the lock waited out, is
    # its tenth, locked for 64 s.
    with pytest.raises(AuthenticationError):
        vault.members.verify_totp(member_id, "12345", client="10.0.0.9")
    with pytest.raises(ThrottledError) as locked:
        vault.members.authenticate("mallory@example.org", "guessing again", client="10.0.0.9")
    assert locked.value.retry_after == 2 ** 5
    clock.advance(2 ** 5)
    with pytest.raises(AuthenticationError):
        vault.members.authenticate("mallory@example.org", "guessing again", client="10.0.0.9")
    with pytest.raises(ThrottledError) as locked:
        vault.members.authenticate("mallory@example.org", "and again", client="10.0.0.9")
    assert locked.value.retry_after == 2 ** 6


def test_signing_in_from_a_network_a_stranger_locked_does_not_lock_it_again(vault, member_id,
                                                                            clock):
    """Once the stranger's lock has passed, each right password from the network is counted
    until checked, then taken back whole: the next person there signs in at once (each right
    sign-in had locked it for everyone else again, for as long as people kept signing in), and
    the stranger's failures are still forgotten after a quiet day."""
    vault.members.register("bob@example.org", GOOD_PASSWORD)
    for _ in range(FREE_FAILURES):
        with pytest.raises(AuthenticationError):
            vault.members.authenticate("mallory@example.org", "guessing someone's password",
                                       client="10.0.0.10")
    clock.advance(2)
    for _ in range(3):
        assert vault.members.authenticate("alice@example.org", GOOD_PASSWORD,
                                          client="10.0.0.10") == member_id
        vault.members.authenticate("bob@example.org", GOOD_PASSWORD, client="10.0.0.10")
    clock.advance(FORGET_AFTER - 2)
    vault.members.authenticate("alice@example.org", GOOD_PASSWORD, client="10.0.0.10")
    clock.advance(2)
    for _ in range(FREE_FAILURES - 1):        # a new day's count: four free failures
        with pytest.raises(AuthenticationError):
            vault.members.authenticate("mallory@example.org", "guessing again",
                                       client="10.0.0.10")
    vault.members.authenticate("bob@example.org", GOOD_PASSWORD, client="10.0.0.10")


def test_an_enabled_second_factor_cannot_be_replaced(vault, member_id, clock):
    import pyotp

    first = vault.members.new_totp_secret()
    vault.members.enable_totp(member_id, first, pyotp.TOTP(first).at(clock()))
    second = vault.members.new_totp_secret()
    with pytest.raises(ConflictError):
        vault.members.enable_totp(member_id, second, pyotp.TOTP(second).at(clock()))


def test_a_pending_totp_secret_is_sealed_and_bound_to_its_member(vault, member_id):
    secret = vault.members.new_totp_secret()
    token = vault.members.seal_pending_totp(member_id, secret)
    assert secret not in token
    assert vault.members.open_pending_totp(member_id, token) == secret
    other = vault.members.register("bob@example.org", GOOD_PASSWORD)
    with pytest.raises(Exception, match="failed authentication"):
        vault.members.open_pending_totp(other, token)
