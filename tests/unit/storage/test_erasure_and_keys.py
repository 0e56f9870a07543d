"""Contracts of erasure's repositories in the data store: intents, deletion and records
(``vault/repositories.py``; the key store's are in test_member_keys.py)."""

from __future__ import annotations

from vault.brands import Brand
from vault.repositories import ErasureRecord, FeedbackRow, SessionRow

from .conftest import Repositories, add_member


def test_intents_keep_their_first_time_and_list_oldest_first(
        repositories: Repositories) -> None:
    erasures = repositories.erasures
    assert erasures.begin("b" * 32, 200) == 200
    assert erasures.begin("a" * 32, 100) == 100
    assert erasures.begin("b" * 32, 300) == 200              # begun already
    assert erasures.intents() == [("a" * 32, 100), ("b" * 32, 200)]
    assert erasures.is_pending("a" * 32) and not erasures.is_pending("c" * 32)
    erasures.finish("a" * 32)
    assert erasures.intents() == [("b" * 32, 200)]


def test_deleting_a_members_rows_leaves_everyone_elses(repositories: Repositories) -> None:
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    for member in (alice, bob):
        repositories.profile.put(member, "city", b"sealed", 1)
        repositories.sessions.insert(SessionRow(member.encode()[:32], member, "{}", "", 1, 1, 99))
        with repositories.feedback.transaction():
            repositories.feedback.insert_many([(
                repositories.feedback.next_ids(), repositories.feedback.member_number(member)
                or 0, FeedbackRow(0, "brand_1", "usage", 4, None, None, "2026-01-01", 1))])
    # The account, a profile value, a session and a feedback entry.
    assert repositories.erasures.delete_member_rows(alice) == 4
    assert not repositories.members.exists(alice)
    assert repositories.profile.values(alice) == []
    assert repositories.feedback.for_member(alice) == []
    assert repositories.erasures.delete_member_rows(alice) == 0
    assert repositories.members.exists(bob) and len(repositories.feedback.for_member(bob)) == 1
    repositories.erasures.purge_freed_pages()


def test_erasure_records_keep_the_first_one(repositories: Repositories) -> None:
    erasures = repositories.erasures
    assert erasures.recorded("subject") is None and erasures.count() == 0
    erasures.record("subject", 100, 4)
    erasures.record("subject", 200, 0)
    assert erasures.recorded("subject") == ErasureRecord(100, 4)
    assert erasures.count() == 1
    erasures.record("another", 300, 2)
    assert erasures.times() == {"subject": 100, "another": 300}
