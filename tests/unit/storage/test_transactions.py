"""The unit of work every implementation keeps: repositories of one store share its
transactions; a failure rolls all of it back; nested transactions join the outer one."""

from __future__ import annotations

import pytest

from vault.repositories import SessionRow

from .conftest import Repositories, add_member


class _Stop(Exception):
    """Raised inside a transaction to make it roll back."""


def test_one_transaction_spans_the_repositories_of_a_store(repositories: Repositories) -> None:
    alice = add_member(repositories, 1)
    with pytest.raises(_Stop), repositories.members.transaction():
        repositories.members.set_password_hash(alice, "changed")
        repositories.profile.put(alice, "city", b"sealed", 1)
        with repositories.sessions.transaction():        # joins the outer one
            repositories.sessions.insert(SessionRow(b"s" * 32, alice, "{}", "", 1, 1, 99))
        raise _Stop
    record = repositories.members.get(alice)
    assert record is not None and record.password_hash == "hash"
    assert repositories.profile.values(alice) == []
    assert repositories.sessions.get(b"s" * 32) is None


def test_a_committed_transaction_is_kept(repositories: Repositories) -> None:
    alice = add_member(repositories, 1)
    with repositories.profile.transaction():
        repositories.profile.put(alice, "city", b"sealed", 1)
        repositories.recovery_codes.replace(alice, [b"code"], 1)
    assert repositories.profile.values(alice) == [("city", b"sealed")]
    assert repositories.recovery_codes.remaining(alice) == 1
