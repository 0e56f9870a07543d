"""The sign-in throttle across workers (each with its own store connection) and the second
factor's secret at rest: sealed, bound to its member, never replaced while one is on."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import GOOD_PASSWORD, TEST_HASHING
from vault.errors import AuthenticationError, ConflictError, ThrottledError
from vault.throttle import FREE_FAILURES


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
