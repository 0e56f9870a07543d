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


# -- vault.sqlcipher.database (memoized, on every engine: tests/unit/storage/test_connections.py)
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


def test_a_remembered_read_forgets_the_wrapped_key_at_the_erasures_first_step(
        stores, clock, vault, member_id):
    vault.profile.update(member_id, PROFILE)
    kept = lent(stores, clock)
    assert kept.profile.read(member_id, ["city"], memo=kept.data.memoized) == {"city": "Leiden"}
    kept.close()
    # Destroying the key commits to the key store only; the erasure's first step, before it,
    # commits to the data store, and the memo forgets the sealed rows and the wrapped key.
    pending = vault.erasure.begin(member_id)
    assert vault.erasure.destroy_key(pending)
    kept = lent(stores, clock)
    with pytest.raises(MemberKeyDestroyedError):
        kept.profile.read(member_id, ["city"], memo=kept.data.memoized)
    with pytest.raises(MemberKeyDestroyedError):
        kept.profile.read(member_id, ["city"])
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
