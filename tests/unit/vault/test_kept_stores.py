"""Connections kept for reuse (a web worker's): snapshots, clean hand-backs, and what a kept
connection remembers only while the store is unchanged.

vault.sqlcipher.database (the write-lock wait, memoized), vault.home (VaultStores and the vaults
lent over it), vault.keys (subkeys kept, member keys not), vault.profile (ProfileService.read).
What every engine's connection does alike (commits seen at the next statement, snapshots,
end_use) is in tests/unit/storage/test_connections.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from vault.errors import IntegrityError, MemberKeyDestroyedError
from vault.home import Vault, VaultHome, VaultStores
from vault.keys import MasterKey
from vault.sqlcipher.database import Database

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


# -- vault.sqlcipher.database ---------------------------------------------------------------------
class Loads:
    """A loader for Database.memoized that counts its calls and reads the table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.calls = 0

    def __call__(self) -> tuple[int, ...]:
        self.calls += 1
        return tuple(r[0] for r in self.db.all("SELECT x FROM t ORDER BY x"))


def test_a_memoized_value_is_read_once_while_the_store_is_unchanged(pair):
    kept, _ = pair
    load = Loads(kept)
    assert kept.memoized("t", load) == () and kept.memoized("t", load) == ()
    with kept.snapshot():
        assert kept.memoized("t", load) == ()
    assert load.calls == 1
    other_key = Loads(kept)
    assert kept.memoized("u", other_key) == () and other_key.calls == 1   # keys are apart


def test_a_commit_by_another_connection_forgets_every_memoized_value(pair):
    kept, other = pair
    load, unrelated = Loads(kept), Loads(kept)
    kept.memoized("t", load)
    kept.memoized("u", unrelated)
    with other.transaction():
        other.execute("INSERT INTO t (x) VALUES (1)")
    assert kept.memoized("t", load) == (1,) and load.calls == 2
    assert kept.memoized("u", unrelated) == (1,) and unrelated.calls == 2


def test_a_write_by_the_same_connection_forgets_them_too(pair):
    kept, _ = pair
    load = Loads(kept)
    kept.memoized("t", load)
    with kept.transaction():                            # data_version ignores own commits
        kept.execute("INSERT INTO t (x) VALUES (1)")
    assert kept.memoized("t", load) == (1,)
    kept.execute("INSERT INTO t (x) VALUES (2)")        # so does an autocommit statement
    assert kept.memoized("t", load) == (1, 2)
    with pytest.raises(RuntimeError), kept.transaction():
        kept.execute("INSERT INTO t (x) VALUES (3)")
        raise RuntimeError("rolled back")
    assert kept.memoized("t", load) == (1, 2) and load.calls == 4   # counted all the same


def test_inside_a_snapshot_memoized_values_are_those_of_the_snapshot(pair):
    kept, other = pair
    load = Loads(kept)
    with kept.snapshot():
        assert kept.memoized("t", load) == ()
        with other.transaction():
            other.execute("INSERT INTO t (x) VALUES (1)")
        assert kept.memoized("t", load) == () and load.calls == 1   # the snapshot's moment
    with kept.snapshot():                               # the next one starts after the commit
        assert kept.memoized("t", load) == (1,) and load.calls == 2


def test_a_failed_load_is_not_remembered(pair):
    kept, _ = pair
    calls = []

    def failing() -> int:
        calls.append(1)
        raise LookupError("not there")

    for _ in range(2):
        with pytest.raises(LookupError):
            kept.memoized("t", failing)
    assert len(calls) == 2


def test_a_connection_remembers_a_bounded_number_of_values(pair, monkeypatch):
    kept, _ = pair
    monkeypatch.setattr("vault.sqlcipher.database.MEMO_ENTRIES", 3)
    loads = [Loads(kept) for _ in range(4)]
    for key, load in enumerate(loads):
        kept.memoized(key, load)
    assert len(kept._memo) == 1                         # the fourth found it full: forgot all
    kept.memoized(0, loads[0])
    assert loads[0].calls == 2 and loads[3].calls == 1


def test_a_writer_waits_for_the_write_lock_in_short_steps(pair):
    kept, other = pair
    other.execute("BEGIN IMMEDIATE")
    released: list[float] = []

    def commit() -> None:
        other.execute("COMMIT")
        released.append(time.perf_counter())

    release = threading.Timer(0.05, commit)
    release.start()
    with kept.transaction():
        kept.execute("INSERT INTO t (x) VALUES (1)")
    finished = time.perf_counter()
    release.join()
    # It waited for the lock rather than failing, and got it soon after it was let go: a
    # bound measured from the release (not from the start, which a loaded machine stretches),
    # far above the busy handler's longest step and far below its 10 s give-up.
    assert released and 0 <= finished - released[0] < 5.0
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


def test_a_read_through_the_store_memo_keeps_sealed_rows_only_while_nothing_changes(
        stores, clock, vault, member_id):
    vault.profile.update(member_id, PROFILE)
    kept = lent(stores, clock)
    fields = ["given_name", "city"]
    assert kept.profile.read(member_id, fields, memo=kept.data.memoized) \
        == {"given_name": "Alice", "city": "Leiden"}

    def not_again() -> Any:
        raise AssertionError("the rows were not remembered")

    remembered = kept.data.memoized(("profile-rows", member_id, *fields), not_again)
    assert sorted(attribute for attribute, _ in remembered) == sorted(fields)
    for _, sealed in remembered:          # what is kept is the ciphertext, never the value
        assert isinstance(sealed, bytes) and b"Alice" not in sealed and b"Leiden" not in sealed
    assert kept.profile.read(member_id, fields, memo=kept.data.memoized)["city"] == "Leiden"
    vault.profile.update(member_id, {"city": "Delft"})          # another worker commits
    assert kept.profile.read(member_id, fields, memo=kept.data.memoized)["city"] == "Delft"
    kept.close()


def test_a_remembered_read_still_needs_the_member_key(stores, clock, vault, member_id):
    vault.profile.update(member_id, PROFILE)
    kept = lent(stores, clock)
    assert kept.profile.read(member_id, ["city"], memo=kept.data.memoized) == {"city": "Leiden"}
    kept.close()
    # Destroying the key commits to the key store only: the data store's memo still holds the
    # sealed rows, and the next read fails all the same (every read unwraps the key).
    vault.key_store.destroy(member_id, erased_at=int(clock()))
    kept = lent(stores, clock)
    with pytest.raises(MemberKeyDestroyedError):
        kept.profile.read(member_id, ["city"], memo=kept.data.memoized)
    kept.close()


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
