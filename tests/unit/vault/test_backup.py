"""vault.backup: encrypted data-store backups; restore re-applies the erasure list."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tests import pre_release_stores
from tests.conftest import GOOD_PASSWORD, TEST_HASHING
from vault import migrations, schema
from vault.backup import PLAINTEXT_HEADER, backup, restore
from vault.errors import (
    AuthenticationError,
    ConflictError,
    MemberKeyDestroyedError,
    StoreError,
    StoreNotInitialisedError,
    WrongKeyError,
)
from vault.keys import MasterKey
from vault.sqlcipher.database import Database

from .member_rows import MEMBER_ROWS, row_counts
from .sqlcipher_pages import decrypted_contains


@pytest.fixture
def master(vault_home):
    return vault_home.master_key({})


@pytest.fixture
def reopen(vault_home, clock):
    """Open the vault again after a restore (the caller closes the old one first)."""
    opened = []

    def open_again():
        opened.append(vault_home.open(clock=clock, hashing=TEST_HASHING))
        return opened[-1]

    yield open_again
    for vault in opened:
        vault.close()


@pytest.fixture
def populate(vault, brand):
    def fill(email: str, comment: str = "") -> str:
        member = vault.members.register(email, GOOD_PASSWORD)
        vault.profile.update(member, {"given_name": email.split("@")[0], "city": "Utrecht"})
        vault.feedback.add(member, {"brand_id": brand.id, "touchpoint": "usage", "rating": 4,
                                    "comment": comment or f"comment by {email}"})
        vault.sessions.create(member_id=member, data={}, device="phone")
        return member
    return fill




def home_snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


# -- backup ----------------------------------------------------------------------------------
def test_a_backup_is_encrypted_private_and_complete(vault, populate, master, tmp_path):
    alice = populate("alice@example.org", comment="the saddle squeaks on cold mornings")
    target = tmp_path / "backups" / "vault.backup"
    target.parent.mkdir()
    report = backup(vault, target)
    raw = target.read_bytes()
    assert report.path == target and report.bytes == len(raw) > 0
    assert not raw.startswith(PLAINTEXT_HEADER)
    assert b"the saddle squeaks" not in raw and b"Utrecht" not in raw
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["vault.backup"]
    # With the data-store key it is a full, consistent copy of the store.
    copy = Database.open(target, master.derive("data-store"))
    try:
        assert copy.one("SELECT id FROM members")["id"] == alice
        assert copy.one("SELECT count(*) FROM feedback")[0] == 1
        # The key store is not in it: no member keys, no erasure list.
        assert not copy.one("SELECT count(*) FROM sqlite_master WHERE name = 'member_keys'")[0]
    finally:
        copy.close()


@pytest.mark.parametrize("open_without_key", [
    pytest.param(lambda path: Database.open(path, os.urandom(32)), id="another key"),
    pytest.param(Database.unsafe_open_plaintext, id="no key"),
])
def test_a_backup_does_not_open_without_the_key(vault, populate, tmp_path, open_without_key):
    populate("alice@example.org")
    target = tmp_path / "vault.backup"
    backup(vault, target)
    with pytest.raises(WrongKeyError):
        open_without_key(target)


def test_plain_sqlite_cannot_read_a_backup(vault, populate, tmp_path):
    populate("alice@example.org")
    target = tmp_path / "vault.backup"
    backup(vault, target)
    with contextlib.closing(sqlite3.connect(target)) as plain, \
            pytest.raises(sqlite3.DatabaseError):
        plain.execute("SELECT count(*) FROM sqlite_master").fetchone()


def test_a_backup_never_overwrites(vault, tmp_path):
    target = tmp_path / "vault.backup"
    target.write_bytes(b"an older backup")
    with pytest.raises(ConflictError):
        backup(vault, target)
    assert target.read_bytes() == b"an older backup"


def test_a_failed_backup_leaves_no_file(vault, tmp_path):
    target = tmp_path / "vault.backup"
    with vault.data.transaction(), pytest.raises(StoreError):
        backup(vault, target)   # VACUUM cannot run inside a transaction
    assert not target.exists()


# -- restore ---------------------------------------------------------------------------------
def test_restore_brings_back_what_was_deleted_after_the_backup(
    vault, vault_home, populate, master, reopen, tmp_path
):
    alice = populate("alice@example.org", comment="brakes adjusted for free")
    entry = vault.feedback.for_member(alice)[0]
    source = tmp_path / "vault.backup"
    backup(vault, source)
    vault.feedback.delete(alice, entry.id)
    vault.profile.update(alice, {"city": ""})
    vault.close()
    # A stale WAL of the replaced file must not be replayed into the restored one.
    Path(f"{vault_home.data_path}-wal").write_bytes(os.urandom(4096))
    Path(f"{vault_home.data_path}-shm").write_bytes(os.urandom(4096))

    report = restore(vault_home, source, master)

    assert (report.source, report.members, report.erasures_reapplied) == (source, 1, 0)
    assert report.migrations_applied == []
    assert not Path(f"{vault_home.data_path}-wal").exists()
    assert sorted(p.name for p in vault_home.root.iterdir()) == [
        "data.db", "keys.db", "ledger.db", "master.key", "rates.db"]
    assert stat.S_IMODE(vault_home.data_path.stat().st_mode) == 0o600
    restored = reopen()
    assert restored.feedback.for_member(alice) == [entry]
    assert restored.profile.get(alice) == {"given_name": "alice", "city": "Utrecht"}
    assert restored.members.authenticate("alice@example.org", GOOD_PASSWORD, client="c") == alice


def test_restore_does_not_bring_an_erased_member_back(
    vault, vault_home, populate, master, reopen, clock, tmp_path
):
    alice = populate("alice@example.org", comment="alice's private remark")
    bob = populate("bob@example.org")
    bob_profile = vault.profile.get(bob)
    sealed = [r[0] for r in vault.data.all(
        "SELECT value_sealed FROM profile_values WHERE member_id = ?"
        " UNION ALL SELECT comment_sealed FROM feedback"
        " WHERE member_num = (SELECT num FROM members WHERE id = ?)"
        " UNION ALL SELECT email_sealed FROM members WHERE id = ?", (alice, alice, alice))]
    source = tmp_path / "vault.backup"
    backup(vault, source)
    data_key = master.derive("data-store")
    assert all(decrypted_contains(source, data_key, s) for s in sealed)   # control
    assert row_counts(vault, alice)["feedback"] > 0                        # control
    clock.advance(3600)
    erased_at = vault.erasure.erase(alice).erased_at
    vault.close()

    # The backup still holds Alice's rows, but nothing in it can be read: her key is gone.
    restored = reopen()
    with pytest.raises(MemberKeyDestroyedError):
        restored.key_store.cipher(alice)
    restored.close()
    old = Database.open(source, master.derive("data-store"))
    try:
        assert old.one("SELECT count(*) FROM members WHERE id = ?", (alice,))[0] == 1
    finally:
        old.close()

    report = restore(vault_home, source, master)

    assert report.erasures_reapplied == 1 and report.members == 1
    restored = reopen()
    with pytest.raises(MemberKeyDestroyedError):
        restored.key_store.cipher(alice)
    with pytest.raises(AuthenticationError):
        restored.members.authenticate("alice@example.org", GOOD_PASSWORD, client="c")
    # Her rows are gone again, beneath SQLCipher too, and the erasure is on record.
    assert row_counts(restored, alice) == dict.fromkeys(MEMBER_ROWS, 0)
    assert not any(decrypted_contains(vault_home.data_path, data_key, s) for s in sealed)
    record = restored.data.one("SELECT erased_at, rows_deleted FROM erasures WHERE subject = ?",
                               (restored.pseudonyms.subject(alice),))
    assert (record["erased_at"], record["rows_deleted"]) == (erased_at, 5)
    assert restored.key_store.erased_members() == [alice]
    # Bob is as he was.
    assert restored.profile.get(bob) == bob_profile
    assert restored.members.authenticate("bob@example.org", GOOD_PASSWORD, client="c") == bob


def test_a_member_who_signed_up_after_the_backup_is_gone_after_restore(
    vault, vault_home, populate, master, reopen, tmp_path
):
    # Inherent to restoring: the data store goes back to the moment of the backup. Carol's key
    # stays in the key store (it is left as it is), unused.
    populate("alice@example.org")
    source = tmp_path / "vault.backup"
    backup(vault, source)
    carol = populate("carol@example.org")
    vault.close()

    report = restore(vault_home, source, master)

    assert report.members == 1 and report.erasures_reapplied == 0
    restored = reopen()
    assert not restored.members.exists(carol)
    with pytest.raises(AuthenticationError):
        restored.members.authenticate("carol@example.org", GOOD_PASSWORD, client="c")
    restored.key_store.cipher(carol)


def test_restore_upgrades_a_backup_made_before_the_baseline(vault, vault_home, master, reopen,
                                                             tmp_path):
    source = tmp_path / "old.backup"
    pre_release_stores.create(source, master.derive("data-store"), "data").close()
    vault.close()
    report = restore(vault_home, source, master)
    assert [step.split(" (")[0] for step in report.migrations_applied] == [
        "upgraded from the migration tables of vrmvault b89e8db",
        *(f"applied migration {m.number} {m.name}" for m in schema.DATA.migrations[1:])]
    reopen()   # refuses a store with pending migrations


def _random_bytes(tmp_path, master):
    path = tmp_path / "noise.backup"
    path.write_bytes(os.urandom(64 * 1024))
    return path


def _text_file(tmp_path, master):
    path = tmp_path / "notes.txt"
    path.write_text("not a backup at all\n" * 200)
    return path


def _empty_file(tmp_path, master):
    path = tmp_path / "empty.backup"
    path.touch()
    return path


def _plain_sqlite(tmp_path, master):
    path = tmp_path / "plain.db"
    with contextlib.closing(sqlite3.connect(path)) as plain:
        plain.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY)")
        plain.commit()
    return path


def _another_key(tmp_path, master):
    path = tmp_path / "other-vault.backup"
    other = Database.open(path, MasterKey.generate().derive("data-store"), create=True)
    migrations.apply(other, schema.DATA)
    other.close()
    return path


def _the_key_store(tmp_path, master):
    path = tmp_path / "keys.backup"
    keys = Database.open(tmp_path / "var" / "keys.db", master.derive("key-store"))
    keys.vacuum_into(path)
    keys.close()
    return path


def _our_key_not_a_vault(tmp_path, master):
    path = tmp_path / "foreign.backup"
    foreign = Database.open(path, master.derive("data-store"), create=True)
    foreign.execute("CREATE TABLE notes (body TEXT)")
    foreign.close()
    return path


def _from_a_newer_version(tmp_path, master):
    path = tmp_path / "newer.backup"
    newer = Database.open(path, master.derive("data-store"), create=True)
    migrations.apply(newer, schema.DATA)
    newer.execute("INSERT INTO store_migrations VALUES (999, 'from_the_future', 0)")
    newer.close()
    return path


def _from_before_the_last_pre_release_migration(tmp_path, master):
    path = tmp_path / "older.backup"
    older = pre_release_stores.create(path, master.derive("data-store"), "data")
    older.execute("DELETE FROM consent_migrations WHERE number = 3")
    older.close()
    return path


@pytest.mark.parametrize("make_source, error", [
    (_random_bytes, WrongKeyError),
    (_text_file, WrongKeyError),
    (_plain_sqlite, WrongKeyError),
    (_another_key, WrongKeyError),
    (_the_key_store, WrongKeyError),
    (_empty_file, StoreError),
    (_our_key_not_a_vault, StoreError),
    (_from_a_newer_version, StoreError),
    (_from_before_the_last_pre_release_migration, StoreError),
])
def test_restore_refuses_what_is_not_our_backup_and_changes_nothing(
    vault, vault_home, populate, master, reopen, tmp_path, make_source, error
):
    alice = populate("alice@example.org")
    source = make_source(tmp_path, master)
    source_bytes = source.read_bytes()
    vault.close()
    before = home_snapshot(vault_home.root)

    with pytest.raises(error) as refused:
        restore(vault_home, source, master)

    if error is WrongKeyError:                         # named as the operator gave it
        assert refused.value.message == (f"{source} is not a backup of this vault: its master"
                                         " key does not open it (or the file was cut short or"
                                         " changed)")
    assert home_snapshot(vault_home.root) == before     # data.db byte-identical, no temp files
    assert source.read_bytes() == source_bytes
    assert reopen().members.exists(alice)


PAGE = 4096


@pytest.mark.parametrize("harm", ["a changed page", "a page cut short", "pages lost"])
def test_restore_refuses_a_damaged_backup_and_changes_nothing(vault, vault_home, populate,
                                                              master, reopen, tmp_path, harm):
    """Opening reads the first page only: a backup damaged past it opened, was swapped in,
    and its bad page failed later, in the live store."""
    alice = populate("alice@example.org")
    source = tmp_path / "vault.backup"
    backup(vault, source)
    vault.close()
    damaged = bytearray(source.read_bytes())
    assert len(damaged) > 8 * PAGE
    if harm == "a changed page":
        damaged[5 * PAGE + 100] ^= 0x01                        # one bit, mid-file
    elif harm == "a page cut short":
        del damaged[len(damaged) - PAGE // 2:]
    else:
        del damaged[len(damaged) - 4 * PAGE:]
    source.write_bytes(damaged)
    before = home_snapshot(vault_home.root)

    with pytest.raises(StoreError) as refused:
        restore(vault_home, source, master)

    if not isinstance(refused.value, WrongKeyError):    # told apart when the pages say so
        assert refused.value.message.startswith(f"{source} is damaged")
        assert "nothing was restored" in refused.value.message
    assert home_snapshot(vault_home.root) == before
    assert reopen().members.exists(alice)


def test_restore_with_another_master_key_changes_nothing(vault, vault_home, populate, tmp_path):
    populate("alice@example.org")
    source = tmp_path / "vault.backup"
    backup(vault, source)
    vault.close()
    before = home_snapshot(vault_home.root)
    with pytest.raises(WrongKeyError):
        restore(vault_home, source, MasterKey.generate())
    assert home_snapshot(vault_home.root) == before


@pytest.mark.parametrize("missing", ["source", "key store"])
def test_restore_needs_a_source_and_a_key_store(vault, vault_home, master, tmp_path, missing):
    source = tmp_path / "vault.backup"
    backup(vault, source)
    vault.close()
    if missing == "source":
        source.unlink()
    else:
        vault_home.keys_path.unlink()
    before = home_snapshot(vault_home.root)
    with pytest.raises(StoreNotInitialisedError if missing == "key store" else StoreError):
        restore(vault_home, source, master)
    assert home_snapshot(vault_home.root) == before


def test_restore_never_brings_back_a_session(vault, vault_home, master, tmp_path):
    member = vault.members.register("dana@example.org", GOOD_PASSWORD)
    vault.sessions.create(member_id=member, data={}, device="phone")
    source = tmp_path / "with-session.backup"
    backup(vault, source)
    vault.sessions.delete_for_member(member)        # "sign out everywhere" after the backup
    vault.close()

    restore(vault_home, source, master)

    with vault_home.open() as restored:
        assert restored.data.one("SELECT count(*) FROM web_sessions")[0] == 0
