"""Contracts of the key store (``vault/repositories.py``'s ``MemberKeyRepository``) on both
engines, and what an erasure leaves in PostgreSQL's files (``vault/postgresql/keys.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from vault.errors import ConstraintViolationError
from vault.postgresql.database import Database

from .conftest import KeyStore, postgresql_keys


def test_member_keys_are_stored_once_removed_and_destroyed_with_a_listing(
        member_keys_store: KeyStore) -> None:
    keys = member_keys_store.keys
    assert keys.insert("a" * 32, b"wrapped a", 1) and keys.insert("b" * 32, b"wrapped b", 1)
    assert not keys.insert("a" * 32, b"another", 2)
    assert keys.wrapped("a" * 32) == b"wrapped a" and keys.wrapped("c" * 32) is None
    assert keys.holders() == ["a" * 32, "b" * 32]
    keys.remove("b" * 32)                                    # no erasure listed
    assert keys.wrapped("b" * 32) is None and keys.erased_at("b" * 32) is None
    assert keys.destroy("a" * 32, 100) is True
    assert keys.destroy("a" * 32, 200) is False              # no key left; first time kept
    assert keys.wrapped("a" * 32) is None and keys.erased_at("a" * 32) == 100
    assert keys.erased() == [("a" * 32, 100)] and keys.holders() == []


def test_member_keys_are_stored_many_at_once_or_not_at_all(member_keys_store: KeyStore) -> None:
    keys = member_keys_store.keys
    assert keys.insert("a" * 32, b"wrapped a", 1)
    with keys.transaction():
        keys.insert_many([("b" * 32, b"wrapped b", 2), ("c" * 32, b"wrapped c", 2)])
    assert keys.wrapped("b" * 32) == b"wrapped b" and keys.wrapped("c" * 32) == b"wrapped c"
    with pytest.raises(ConstraintViolationError), keys.transaction():
        keys.insert_many([("d" * 32, b"wrapped d", 3), ("a" * 32, b"another", 3)])
    assert keys.wrapped("d" * 32) is None and keys.wrapped("a" * 32) == b"wrapped a"
    assert keys.holders() == ["a" * 32, "b" * 32, "c" * 32]


def test_a_member_never_made_can_be_listed_as_erased(member_keys_store: KeyStore) -> None:
    """An erasure finished after a crash may find the key gone already: it is listed all the
    same, and the other members' keys are untouched."""
    keys = member_keys_store.keys
    assert keys.insert("k" * 32, b"kept", 1)
    assert keys.destroy("g" * 32, 50) is False
    assert keys.erased_at("g" * 32) == 50 and keys.wrapped("k" * 32) == b"kept"
    assert sorted(keys.erased()) == [("g" * 32, 50)]


# -- PostgreSQL's files ----------------------------------------------------------------------------
def files_of(database: Database, table: str) -> Path:
    directory = Path(database.one("SHOW data_directory")[0])
    path = directory / database.one("SELECT pg_relation_filepath(?)", (table,))[0]
    if not os.access(path, os.R_OK):
        pytest.skip("the PostgreSQL server's files are not readable from here (a server given"
                    " by VRMVAULT_TEST_DATABASE_URL, not the run's own)")
    return path


def written(database: Database, table: str) -> bytes:
    """The table's file as the server has written it (a checkpoint first)."""
    database.execute("CHECKPOINT")
    return files_of(database, table).read_bytes()


def partition_of(database: Database, member_id: str) -> str:
    return str(database.one("SELECT tableoid::regclass::text FROM member_keys"
                            " WHERE member_id = ?", (member_id,))[0])


def fill(store: KeyStore, count: int) -> dict[str, bytes]:
    wrapped = {f"{n:032x}": os.urandom(60) for n in range(count)}
    for member_id, key in wrapped.items():
        assert store.keys.insert(member_id, key, 1)
    return wrapped


@pytest.fixture
def on_postgresql(tmp_path: Path, request: pytest.FixtureRequest
                  ) -> Iterator[tuple[KeyStore, Database]]:
    with postgresql_keys(tmp_path, request) as store:
        assert store.postgresql is not None
        yield store, store.postgresql


def with_neighbours(database: Database, wrapped: dict[str, bytes]) -> tuple[str, str, list[str]]:
    """A member whose key shares its partition with others, the last one written there (so
    the lowest in its page, where a plain VACUUM's compaction moves nothing over it); the
    partition; the others."""
    by_partition: dict[str, list[str]] = {}
    for member_id in wrapped:
        by_partition.setdefault(partition_of(database, member_id), []).append(member_id)
    partition, members = max(by_partition.items(), key=lambda item: len(item[1]))
    assert len(members) > 1
    return members[-1], partition, members[:-1]


def test_a_deleted_row_stays_in_postgresqls_files_after_a_plain_vacuum(on_postgresql) -> None:
    """Why the key store rewrites a partition: PostgreSQL's DELETE and VACUUM leave the bytes."""
    store, database = on_postgresql
    wrapped = fill(store, 200)
    victim, partition, _ = with_neighbours(database, wrapped)
    assert wrapped[victim] in written(database, partition)
    database.execute("DELETE FROM member_keys WHERE member_id = ?", (victim,))
    database.execute(f"VACUUM {partition}")
    assert wrapped[victim] in written(database, partition)


@pytest.mark.parametrize("how", ["destroy", "remove"])
def test_an_erased_key_leaves_postgresqls_files_and_the_others_stay(on_postgresql, how) -> None:
    store, database = on_postgresql
    wrapped = fill(store, 200)
    victim, partition, neighbours = with_neighbours(database, wrapped)
    assert wrapped[victim] in written(database, partition)
    if how == "destroy":
        assert store.keys.destroy(victim, 100) is True
    else:
        store.keys.remove(victim)
    after = written(database, partition)
    assert wrapped[victim] not in after
    assert all(wrapped[m] in after for m in neighbours)
    assert all(store.keys.wrapped(m) == key for m, key in wrapped.items() if m != victim)
    assert store.keys.wrapped(victim) is None
