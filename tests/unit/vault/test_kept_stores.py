"""Connections kept for reuse (a web worker's): snapshots, clean hand-backs, nothing cached.

vault.storage (Database.snapshot, end_use, the write-lock wait), vault.home (VaultStores and
the vaults lent over it), vault.keys (subkeys kept, member keys not), vault.profile
(ProfileService.read).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from vault.errors import IntegrityError, MemberKeyDestroyedError
from vault.home import Vault, VaultHome, VaultStores
from vault.keys import MasterKey
from vault.storage import Database

KEY = bytes(range(32))
PROFILE = {"given_name": "Alice", "city": "Leiden", "interests": ["cycling", "music"],
           "household_size": 3}


@pytest.fixture
def pair(tmp_path: Path):
    path = tmp_path / "t.db"
    first = Database.open(path, KEY, create=True)
    first.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    second = Database.open(path, KEY)
    yield first, second
    first.close()
    second.close()


@pytest.fixture
def stores(vault_home: VaultHome, clock):
    kept = VaultStores(vault_home, vault_home.master_key())
    yield kept
    kept.close()


def lent(stores: VaultStores, clock) -> Vault:
    return stores.vault(clock=clock)


# -- vault.storage --------------------------------------------------------------------------------
def test_a_kept_connection_sees_every_commit_of_another_at_its_next_statement(pair):
    kept, other = pair
    assert kept.one("SELECT count(*) FROM t")[0] == 0
    with other.transaction():
        other.execute("INSERT INTO t (x) VALUES (1)")
    assert kept.one("SELECT count(*) FROM t")[0] == 1


def test_a_snapshot_reads_one_moment_and_refuses_writes(pair):
    kept, other = pair
    with kept.snapshot():
        assert kept.one("SELECT count(*) FROM t")[0] == 0
        with other.transaction():                       # a writer is not blocked by it
            other.execute("INSERT INTO t (x) VALUES (1)")
        assert kept.one("SELECT count(*) FROM t")[0] == 0
        with pytest.raises(RuntimeError), kept.transaction():
            kept.execute("INSERT INTO t (x) VALUES (2)")  # never reached: refused on entry
    assert kept.one("SELECT count(*) FROM t")[0] == 1  # and the next statement sees it


def test_end_use_rolls_back_what_a_failed_caller_left_open(pair):
    kept, other = pair
    kept.execute("BEGIN IMMEDIATE")
    kept.execute("INSERT INTO t (x) VALUES (1)")
    assert kept.end_use() is True
    assert kept.end_use() is False
    with other.transaction():                           # the write lock is free again
        other.execute("INSERT INTO t (x) VALUES (2)")
    assert [r[0] for r in kept.all("SELECT x FROM t")] == [2]


def test_a_writer_waits_for_the_write_lock_in_short_steps(pair):
    kept, other = pair
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.05, lambda: other.execute("COMMIT"))
    release.start()
    started = time.perf_counter()
    with kept.transaction():
        kept.execute("INSERT INTO t (x) VALUES (1)")
    waited = time.perf_counter() - started
    release.join()
    assert 0.04 < waited < 1.0
    assert kept.one("SELECT count(*) FROM t")[0] == 1


# -- vault.home -----------------------------------------------------------------------------------
def test_a_lent_vault_closes_its_use_not_the_connections(stores, clock, vault, member_id):
    vault.profile.update(member_id, PROFILE)
    first = lent(stores, clock)
    first.data.execute("BEGIN IMMEDIATE")               # left open by a request that failed
    first.close()
    assert not stores.data._connection.in_transaction
    second = lent(stores, clock)
    assert second.profile.get(member_id)["city"] == "Leiden"
    second.close()


def test_member_keys_are_not_kept_from_one_use_to_the_next(stores, clock, vault, member_id):
    vault.profile.update(member_id, PROFILE)
    first = lent(stores, clock)
    assert first.profile.read(member_id, ["given_name"]) == {"given_name": "Alice"}
    first.close()
    vault.key_store.destroy(member_id, erased_at=int(clock()))   # another worker erases
    second = lent(stores, clock)
    with pytest.raises(MemberKeyDestroyedError):
        second.profile.read(member_id, ["given_name"])
    second.close()


def test_subkeys_are_derived_once_and_stay_what_they_were():
    master = MasterKey(KEY)
    first = master.derive("data-store")
    assert master.derive("data-store") is first
    assert MasterKey(KEY).derive("data-store") == first != master.derive("key-store")


# -- vault.profile --------------------------------------------------------------------------------
def test_read_opens_only_the_attributes_asked_for(vault, member_id):
    vault.profile.update(member_id, PROFILE)
    assert vault.profile.read(member_id, ["city", "interests", "phone", "no_such", "city"]) \
        == {"city": "Leiden", "interests": ["cycling", "music"]}
    assert vault.profile.read(member_id, []) == {}
    # A damaged value that was not asked for is never opened.
    vault.data.execute("UPDATE profile_values SET value_sealed = x'0100' WHERE member_id = ?"
                       " AND attribute = 'household_size'", (member_id,))
    assert vault.profile.read(member_id, ["given_name"]) == {"given_name": "Alice"}
    with pytest.raises(IntegrityError):
        vault.profile.read(member_id, ["household_size"])
