"""vault.throttle: exponential backoff per subject, kept in the store, on an injected clock."""

from __future__ import annotations

import pytest

from vault.errors import ThrottledError
from vault.sqlcipher.throttle import SqlcipherLoginAttempts
from vault.throttle import FORGET_AFTER, FREE_FAILURES, MAX_LOCK, LoginThrottle

A, B = b"subject-a", b"subject-b"


@pytest.fixture
def throttle(vault, clock) -> LoginThrottle:
    return LoginThrottle(attempts=SqlcipherLoginAttempts(vault.data), clock=clock)


def retry_after(throttle: LoginThrottle, *subjects: bytes) -> int:
    with pytest.raises(ThrottledError) as caught:
        throttle.check(*subjects)
    assert caught.value.status == 429
    assert str(caught.value.retry_after) in str(caught.value)
    return caught.value.retry_after


def fail(throttle: LoginThrottle, times: int, *subjects: bytes) -> None:
    for _ in range(times):
        throttle.failed(*subjects)


def test_free_failures_do_not_lock(throttle):
    fail(throttle, FREE_FAILURES - 1, A)
    throttle.check(A)


@pytest.mark.parametrize("failures, lock", [
    (FREE_FAILURES, 2), (FREE_FAILURES + 1, 4), (FREE_FAILURES + 2, 8), (FREE_FAILURES + 5, 64),
    (FREE_FAILURES + 8, 512), (FREE_FAILURES + 9, MAX_LOCK), (FREE_FAILURES + 40, MAX_LOCK),
])
def test_the_lock_doubles_up_to_the_maximum(throttle, failures, lock):
    assert MAX_LOCK == 15 * 60
    fail(throttle, failures, A)
    assert retry_after(throttle, A) == lock


def test_a_lock_expires_as_the_clock_advances(throttle, clock):
    fail(throttle, FREE_FAILURES, A)
    assert retry_after(throttle, A) == 2
    clock.advance(1)
    assert retry_after(throttle, A) == 1
    clock.advance(1)
    throttle.check(A)


def test_subjects_are_independent(throttle):
    fail(throttle, FREE_FAILURES, A)
    throttle.check(B)
    assert retry_after(throttle, B, A) == 2


def test_the_longest_lock_of_several_subjects_wins(throttle):
    fail(throttle, FREE_FAILURES, A)
    fail(throttle, FREE_FAILURES + 2, B)
    assert retry_after(throttle, A, B) == 8


def test_a_failure_counts_for_every_subject_given(throttle):
    fail(throttle, FREE_FAILURES, A, B)
    assert retry_after(throttle, A) == 2
    assert retry_after(throttle, B) == 2


def test_success_clears_the_subject(throttle):
    fail(throttle, FREE_FAILURES, A)
    throttle.succeeded(A)
    throttle.check(A)
    fail(throttle, FREE_FAILURES - 1, A)
    throttle.check(A)


def test_a_quiet_day_forgets_old_failures(throttle, clock):
    fail(throttle, FREE_FAILURES - 1, A)
    clock.advance(FORGET_AFTER)
    fail(throttle, FREE_FAILURES - 1, A)
    throttle.check(A)


def test_failures_within_the_day_accumulate(throttle, clock):
    fail(throttle, FREE_FAILURES - 1, A)
    clock.advance(FORGET_AFTER - 1)
    fail(throttle, 1, A)
    assert retry_after(throttle, A) == 2


def test_the_state_is_in_the_store_and_keyed_by_subject(vault, throttle, clock):
    fail(throttle, FREE_FAILURES, A)
    rows = vault.data.all("SELECT * FROM login_throttle")
    assert [(r["subject"], r["failures"], r["locked_until"]) for r in rows] == [
        (A, FREE_FAILURES, int(clock()) + 2)
    ]
    # Another worker (another throttle over the same store) sees the lock.
    other = LoginThrottle(attempts=SqlcipherLoginAttempts(vault.data), clock=clock)
    assert retry_after(other, A) == 2


def test_a_right_answer_puts_a_shared_subject_back_as_it_was(throttle, clock, vault):
    """A's attempt counted against the shared B as a sixth failure, locking it for 4 s; the
    right answer leaves B as before the attempt: five failures, the last one's time, no lock."""
    fail(throttle, FREE_FAILURES, B)
    before = vault.data.one("SELECT failures, last_failure, locked_until FROM login_throttle"
                            " WHERE subject = ?", (B,))
    clock.advance(2)
    attempt = throttle.attempt(A, B)
    assert retry_after(throttle, B) == 4
    throttle.succeeded(A, B, attempt=attempt)
    throttle.check(A, B)
    assert tuple(vault.data.one("SELECT failures, last_failure, locked_until FROM login_throttle"
                                " WHERE subject = ?", (B,))) == tuple(before)
    assert vault.data.one("SELECT 1 FROM login_throttle WHERE subject = ?", (A,)) is None
    fail(throttle, 1, B)                      # the next failure is the sixth, as it would be
    assert retry_after(throttle, B) == 4


def test_a_right_answer_forgets_a_shared_subject_it_alone_counted(throttle, vault):
    attempt = throttle.attempt(A, B)
    throttle.succeeded(A, B, attempt=attempt)
    assert vault.data.one("SELECT 1 FROM login_throttle WHERE subject = ?", (B,)) is None


def test_a_failure_counted_since_the_attempt_keeps_its_lock(throttle, clock):
    """A stranger failed from B while A's answer was checked: only A's count is taken back,
    and the stranger's lock stays."""
    fail(throttle, FREE_FAILURES, B)
    clock.advance(2)
    attempt = throttle.attempt(A, B)
    fail(throttle, 1, B)                      # seven, locked for 8 s
    throttle.succeeded(A, B, attempt=attempt)
    assert retry_after(throttle, B) == 8
    fail(throttle, 1, B)                      # seven again (one was taken back): 8 s
    assert retry_after(throttle, B) == 8
