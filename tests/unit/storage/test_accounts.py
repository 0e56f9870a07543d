"""Contracts of the account repositories: members, recovery codes, sessions, sign-in throttle,
mail request windows, pending sign-ups and reset links (``vault/repositories.py``)."""

from __future__ import annotations

import pytest

from vault.errors import ConstraintViolationError
from vault.repositories import NewMember, SessionRow, SignupRow

from .conftest import Repositories, add_member


def test_members_are_found_by_id_and_blind_index_and_never_twice(
        repositories: Repositories) -> None:
    members = repositories.members
    alice = add_member(repositories, 1)
    record = members.get(alice)
    assert record is not None
    assert (record.id, record.email_sealed, record.password_hash, record.created_at,
            record.totp_sealed, record.totp_last_step, record.role) == (
        alice, b"sealed address", "hash", 1_001, None, None, "member")
    assert members.find_by_index(bytes([1]) * 32) == record
    assert members.find_by_index(bytes([9]) * 32) is None
    assert members.get("f" * 32) is None
    assert members.exists(alice) and not members.exists("f" * 32)
    # The same blind index, or the same id, is refused and writes nothing.
    assert not members.insert("e" * 32, email_index=bytes([1]) * 32, email_sealed=b"x",
                              password_hash="h", created_at=5)
    assert not members.insert(alice, email_index=bytes([7]) * 32, email_sealed=b"x",
                              password_hash="h", created_at=5)
    assert not members.exists("e" * 32)
    assert members.find_by_index(bytes([7]) * 32) is None


def test_members_are_added_many_at_once_or_not_at_all(repositories: Repositories) -> None:
    members = repositories.members
    alice = add_member(repositories, 1)
    batch = [NewMember(f"{0xbb0 + n:032x}", bytes([10 + n]) * 32, b"sealed %d" % n, "hash", 7)
             for n in range(3)]
    with members.transaction():
        members.insert_many(batch)
    for row in batch:
        record = members.get(row.id)
        assert record is not None and members.find_by_index(row.email_index) == record
        assert (record.email_sealed, record.password_hash, record.created_at, record.role) == (
            row.email_sealed, "hash", 7, "member")
    assert members.ids() == [alice, *(row.id for row in batch)]
    # A taken blind index, or a taken id, fails the batch; the transaction keeps none of it.
    for taken in (NewMember("d" * 32, bytes([1]) * 32, b"x", "h", 8),
                  NewMember(alice, bytes([40]) * 32, b"x", "h", 8)):
        fresh = NewMember("c" * 32, bytes([30]) * 32, b"x", "h", 8)
        with pytest.raises(ConstraintViolationError), members.transaction():
            members.insert_many([fresh, taken])
        assert not members.exists("c" * 32) and not members.exists("d" * 32)
        assert members.find_by_index(bytes([30]) * 32) is None
        assert members.find_by_index(bytes([40]) * 32) is None
    assert members.ids() == [alice, *(row.id for row in batch)]


def test_member_fields_change_one_at_a_time(repositories: Repositories) -> None:
    members = repositories.members
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    members.set_password_hash(alice, "new hash")
    members.set_second_factor(alice, b"sealed secret", 7)
    members.set_last_step(alice, 9)
    record = members.get(alice)
    assert record is not None
    assert (record.password_hash, record.totp_sealed, record.totp_last_step) == (
        "new hash", b"sealed secret", 9)
    members.set_second_factor(alice, None, None)
    record = members.get(alice)
    assert record is not None and (record.totp_sealed, record.totp_last_step) == (None, None)
    members.cut_login(alice, b"\x00" * 32)
    assert members.find_by_index(bytes([1]) * 32) is None
    assert members.get(bob) == members.find_by_index(bytes([2]) * 32)


def test_roles_change_only_when_different_and_list_oldest_first(
        repositories: Repositories) -> None:
    members = repositories.members
    first, second = add_member(repositories, 1), add_member(repositories, 2)
    assert members.set_role(second, "compliance") is True
    assert members.set_role(second, "compliance") is False
    assert members.set_role(first, "compliance") is True
    assert members.set_role("f" * 32, "compliance") is False
    assert members.ids_with_role("compliance") == [first, second]
    assert members.ids_with_role("member") == []
    third = add_member(repositories, 3)
    assert members.ids() == [first, second, third]        # every role, in the order made


def test_recovery_codes_are_replaced_whole_and_spent_once(repositories: Repositories) -> None:
    codes = repositories.recovery_codes
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    codes.replace(alice, [b"a1", b"a2", b"a3"], 10)
    codes.replace(bob, [b"b1"], 10)
    assert codes.spend(alice, b"a1", 20) is True
    assert codes.spend(alice, b"a1", 21) is False            # once
    assert codes.spend(alice, b"b1", 21) is False            # another member's
    assert codes.remaining(alice) == 2
    codes.replace(alice, [b"n1", b"n2"], 30)
    assert codes.remaining(alice) == 2 and codes.spend(alice, b"a2", 31) is False
    codes.delete_for_member(alice)
    assert codes.remaining(alice) == 0 and codes.remaining(bob) == 1


def _session(id_hash: bytes, member_id: str | None, *, created: int, seen: int,
             expires: int) -> SessionRow:
    return SessionRow(id_hash, member_id, '{"csrf": "x"}', "Firefox on Linux", created, seen,
                      expires)


def test_sessions_are_kept_updated_and_listed_most_recent_first(
        repositories: Repositories) -> None:
    sessions = repositories.sessions
    alice = add_member(repositories, 1)
    first = _session(b"1" * 32, alice, created=100, seen=100, expires=1_000)
    sessions.insert(first)
    sessions.insert(_session(b"2" * 32, alice, created=110, seen=110, expires=1_000))
    sessions.insert(_session(b"3" * 32, None, created=120, seen=120, expires=1_000))
    assert sessions.get(b"1" * 32) == first
    assert sessions.get(b"9" * 32) is None
    sessions.save(b"1" * 32, '{"csrf": "y"}', 130)
    sessions.touch(b"2" * 32, 125)
    saved = sessions.get(b"1" * 32)
    assert saved is not None and (saved.data, saved.last_seen) == ('{"csrf": "y"}', 130)
    assert [s.id_hash for s in sessions.live_for_member(alice, 200)] == [b"1" * 32, b"2" * 32]
    assert sessions.live_for_member(alice, 1_000) == []      # expired at 1,000
    assert [s.id_hash for s in sessions.for_member(alice)] == [b"1" * 32, b"2" * 32]
    assert sessions.delete_for_member(alice, keep=b"1" * 32) == 1
    assert sessions.delete_for_member(alice) == 1
    sessions.delete(b"3" * 32)
    assert sessions.get(b"3" * 32) is None


def test_sessions_ended_go_when_new_ones_come_and_on_pruning(repositories: Repositories) -> None:
    sessions = repositories.sessions
    sessions.insert(_session(b"1" * 32, None, created=100, seen=100, expires=200))
    sessions.insert(_session(b"2" * 32, None, created=100, seen=100, expires=900))
    sessions.insert(_session(b"3" * 32, None, created=150, seen=180, expires=900))
    sessions.insert(_session(b"4" * 32, None, created=200, seen=200, expires=900))
    assert sessions.get(b"1" * 32) is None                   # ended by the last one's making
    # Idle since before 150: the second; ended at 900: none yet.
    assert sessions.prune(now=300, seen_before=150) == 1
    assert sessions.get(b"2" * 32) is None and sessions.get(b"3" * 32) is not None
    assert sessions.prune(now=900, seen_before=0) == 2


def test_login_failures_are_counted_locked_and_given_back(repositories: Repositories) -> None:
    attempts = repositories.login_attempts
    assert attempts.locked_until(b"s") is None and attempts.failures(b"s") is None
    attempts.record(b"s", failures=6, last_failure=50, locked_until=54)
    attempts.record(b"t", failures=1, last_failure=50, locked_until=50)
    assert attempts.failures(b"s") == (6, 50) and attempts.locked_until(b"s") == 54
    attempts.give_back(b"s", free_failures=5)                # 5 left: still locked
    assert attempts.failures(b"s") == (5, 50) and attempts.locked_until(b"s") == 54
    attempts.give_back(b"s", free_failures=5)                # 4 left: the lock ends
    assert attempts.failures(b"s") == (4, 50) and attempts.locked_until(b"s") == 0
    attempts.give_back(b"t", free_failures=5)
    attempts.give_back(b"t", free_failures=5)
    assert attempts.failures(b"t") == (0, 50)                # never below 0
    attempts.forget(b"s")
    assert attempts.failures(b"s") is None and attempts.failures(b"t") is not None


def test_request_windows_are_kept_and_old_ones_forgotten(repositories: Repositories) -> None:
    counts = repositories.request_counts
    assert counts.window(b"a") is None
    counts.record(b"a", window_start=100, requests=1)
    counts.record(b"a", window_start=100, requests=2)
    counts.record(b"b", window_start=300, requests=1)
    assert counts.window(b"a") == (100, 2)
    counts.forget_before(300)
    assert counts.window(b"a") is None and counts.window(b"b") == (300, 1)


def test_pending_signups_live_until_they_expire_or_are_spent(repositories: Repositories) -> None:
    signups = repositories.signups
    first = SignupRow(b"t1" * 16, b"i1" * 16, b"sealed", 100, 200)
    signups.insert(first)
    signups.insert(SignupRow(b"t2" * 16, b"i1" * 16, b"sealed 2", 110, 210))
    signups.insert(SignupRow(b"t3" * 16, b"i3" * 16, b"sealed 3", 120, 220))
    assert signups.get(b"t1" * 16) == first
    assert signups.is_live(b"t1" * 16, 199) and not signups.is_live(b"t1" * 16, 200)
    assert signups.delete(b"t1" * 16) is True and signups.delete(b"t1" * 16) is False
    signups.delete_for_address(b"i1" * 16)
    assert signups.get(b"t2" * 16) is None and signups.get(b"t3" * 16) is not None
    signups.insert(SignupRow(b"t4" * 16, b"i4" * 16, b"sealed 4", 220, 320))
    assert signups.get(b"t3" * 16) is None                   # expired at 220: gone


def test_reset_links_resolve_while_live_and_are_spent_once(repositories: Repositories) -> None:
    resets = repositories.password_resets
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    resets.insert(b"r1" * 16, alice, created_at=100, expires_at=200)
    resets.insert(b"r2" * 16, alice, created_at=110, expires_at=210)
    resets.insert(b"r3" * 16, bob, created_at=120, expires_at=220)
    assert resets.member_for(b"r1" * 16, 199) == alice
    assert resets.member_for(b"r1" * 16, 200) is None
    assert resets.spend(b"r1" * 16, 200) is False            # too old
    assert resets.spend(b"r1" * 16, 150) is True
    assert resets.spend(b"r1" * 16, 150) is False            # once
    resets.delete_for_member(alice)
    assert resets.member_for(b"r2" * 16, 150) is None
    resets.delete(b"r3" * 16)
    assert resets.member_for(b"r3" * 16, 150) is None
    resets.insert(b"r4" * 16, bob, created_at=300, expires_at=400)
    assert resets.member_for(b"r4" * 16, 300) == bob
