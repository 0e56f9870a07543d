"""vault.sessions: server-side sessions, hashed tokens, idle and absolute expiry."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import GOOD_PASSWORD
from vault.home import SESSION_ABSOLUTE, SESSION_IDLE
from vault.sessions import SessionRecord


@pytest.fixture
def sessions(vault):
    return vault.sessions


def stored(vault) -> list:
    return vault.data.all("SELECT * FROM web_sessions")


def test_create_and_load(sessions, clock, member_id):
    token = sessions.create(member_id=member_id, data={"csrf": "abc"}, device="Firefox")
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    now = int(clock())
    assert sessions.load(token) == SessionRecord(token, member_id, {"csrf": "abc"}, now, now)


def test_tokens_are_random(sessions):
    tokens = {sessions.create(member_id=None, data={}, device="") for _ in range(20)}
    assert len(tokens) == 20


def test_only_the_hash_of_the_token_is_stored(vault, sessions, member_id):
    token = sessions.create(member_id=member_id, data={}, device="Firefox")
    [row] = stored(vault)
    assert row["id_hash"] == hashlib.sha256(token.encode()).digest()
    for column in row.keys():
        value = row[column]
        if isinstance(value, str):
            assert token not in value
        if isinstance(value, bytes):
            assert token.encode() not in value


def test_anonymous_sessions(sessions):
    token = sessions.create(member_id=None, data={"flash": ["hi"]}, device="")
    record = sessions.load(token)
    assert record.member_id is None and record.data == {"flash": ["hi"]}


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 101])
def test_unknown_tokens_load_nothing(sessions, token):
    sessions.create(member_id=None, data={}, device="")
    assert sessions.load(token) is None


def test_save_replaces_data_and_marks_activity(sessions, clock):
    token = sessions.create(member_id=None, data={"a": 1}, device="")
    clock.advance(100)
    sessions.save(token, {"b": 2})
    record = sessions.load(token)
    assert record.data == {"b": 2}
    assert record.last_seen == int(clock()) and record.created_at == int(clock()) - 100


def test_delete(vault, sessions):
    token = sessions.create(member_id=None, data={}, device="")
    sessions.delete(token)
    assert sessions.load(token) is None and stored(vault) == []


def test_idle_expiry(vault, sessions, clock):
    assert sessions.idle == SESSION_IDLE
    token = sessions.create(member_id=None, data={}, device="")
    clock.advance(SESSION_IDLE)
    assert sessions.load(token) is not None  # exactly the idle time is still fine
    clock.advance(1)
    assert sessions.load(token) is None
    assert stored(vault) == []  # an expired session is deleted when met


def test_activity_keeps_a_session_alive_until_the_absolute_limit(sessions, clock, member_id):
    assert sessions.absolute == SESSION_ABSOLUTE
    token = sessions.create(member_id=member_id, data={}, device="")
    step = SESSION_IDLE - 60
    elapsed = 0
    while elapsed + step < SESSION_ABSOLUTE:
        clock.advance(step)
        elapsed += step
        assert sessions.load(token) is not None, elapsed
        sessions.touch(token)
    clock.advance(SESSION_ABSOLUTE - elapsed)
    assert sessions.load(token) is None


def test_delete_for_member_keeps_the_current_session(vault, sessions, member_id):
    bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
    mine = [sessions.create(member_id=member_id, data={}, device=f"d{i}") for i in range(3)]
    bobs = sessions.create(member_id=bob, data={}, device="bob")
    assert sessions.delete_for_member(member_id, keep=mine[0]) == 2
    assert sessions.load(mine[0]) is not None
    assert sessions.load(mine[1]) is None and sessions.load(mine[2]) is None
    assert sessions.load(bobs) is not None
    assert sessions.delete_for_member(member_id) == 1
    assert sessions.load(mine[0]) is None and sessions.load(bobs) is not None


def test_for_member_lists_sessions_and_marks_the_current_one(sessions, clock, member_id):
    first = sessions.create(member_id=member_id, data={}, device="Firefox on Linux")
    clock.advance(10)
    second = sessions.create(member_id=member_id, data={}, device="x" * 200)
    listed = sessions.for_member(member_id, current=first)
    assert [(s.device, s.current) for s in listed] == [("x" * 80, False),
                                                        ("Firefox on Linux", True)]
    assert all(len(s.handle) == 8 and s.handle not in (first + second) for s in listed)
    assert [s.current for s in sessions.for_member(member_id, current=None)] == [False, False]


def test_prune_removes_idle_and_expired_sessions(vault, sessions, clock):
    stale = sessions.create(member_id=None, data={}, device="")
    clock.advance(SESSION_IDLE - 1)
    fresh = sessions.create(member_id=None, data={}, device="")
    clock.advance(2)
    assert sessions.prune() == 1
    assert sessions.load(fresh) is not None and sessions.load(stale) is None


def test_an_anonymous_session_lives_an_hour_and_ended_rows_are_pruned(vault, sessions, clock):
    from vault.sessions import ANONYMOUS_LIFETIME

    crawler = [sessions.create(member_id=None, data={"csrf": "x"}, device="")
               for _ in range(50)]
    for _ in range(2):                               # kept active within the idle limit
        clock.advance(ANONYMOUS_LIFETIME // 2 - 100)
        assert sessions.load(crawler[0]) is not None
        sessions.touch(crawler[0])
    clock.advance(200)
    assert sessions.load(crawler[0]) is None        # touched, but past its hour
    sessions.create(member_id=None, data={}, device="")
    assert len(stored(vault)) == 1                   # the ended rows went as a new one came
