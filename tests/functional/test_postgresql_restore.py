"""Erasure holds across a PostgreSQL backup and restore (issue 17): the README's procedure,
with the server's own ``pg_dump`` and ``pg_restore``.

A dump of each database is taken before a member is erased; each database is then restored
from it in turn (the data database's ``public`` schema in place, so the ledger is never
rewound; the key database whole, into a new database), and
``vrmvault reapply-erasures`` makes the erasure hold again from whichever database still knows
of it: the key database's erasure list deletes the rows the data came back with, and the data
database's record of the erasure destroys the key the key database came back with.

A key database restored from a dump older than a member's key has neither the key nor an
erasure of theirs: ``reapply-erasures`` names that member and exits 3, and what reads their
data says the key was lost, never that they were erased.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from consent.context import member_principal
from tests.conftest import GOOD_PASSWORD, TEST_HASHING
from tests.postgresql_server import Server, binaries
from vault.errors import MemberKeyDestroyedError, MemberKeyLostError, StoreError
from vault.home import DATABASE_URL_SETTING, KEYS_DATABASE_URL_SETTING, VaultHome
from web.cli import main

from .test_two_hosts import Host, _wait_for
from .test_webhook_cli import _free_port


def _run(program: str, *arguments: str) -> None:
    finished = subprocess.run([str(binaries() / program), *arguments], capture_output=True,
                              text=True, check=False)
    assert finished.returncode == 0, finished.stderr


def _reapply(home: VaultHome, *, exit_code: int = 0) -> str:
    assert home.database_url and home.keys_database_url
    result = CliRunner().invoke(main, ["--home", str(home.root), "reapply-erasures"],
                                env={DATABASE_URL_SETTING: home.database_url,
                                     KEYS_DATABASE_URL_SETTING: home.keys_database_url},
                                catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return result.output


@pytest.fixture
def erased_after_the_dumps(postgresql_home: VaultHome, tmp_path: Path
                           ) -> tuple[VaultHome, str, str, Path, Path]:
    """Alice and Bob with profiles; both databases dumped; then Alice erased."""
    home = postgresql_home
    with home.open(hashing=TEST_HASHING) as vault:
        alice = vault.members.register("alice@example.org", GOOD_PASSWORD)
        bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
        vault.profile.update(alice, {"given_name": "Alice", "city": "Gent"})
        vault.profile.update(bob, {"given_name": "Bob", "city": "Namur"})
    data_dump, keys_dump = tmp_path / "data.dump", tmp_path / "keys.dump"
    assert home.database_url and home.keys_database_url
    _run("pg_dump", "--format=custom", "--file", str(data_dump), "--dbname",
         home.database_url)
    _run("pg_dump", "--format=custom", "--file", str(keys_dump), "--dbname",
         home.keys_database_url)
    with home.open(hashing=TEST_HASHING) as vault:
        vault.erasure.erase(alice)
        assert not vault.accounts.exists(alice)
        assert alice not in vault.key_store.holders()
    return home, alice, bob, data_dump, keys_dump


def test_a_restored_data_database_loses_the_erased_members_rows_again(
        erased_after_the_dumps: tuple[VaultHome, str, str, Path, Path]) -> None:
    home, alice, bob, data_dump, _ = erased_after_the_dumps
    assert home.database_url
    _run("pg_restore", "--clean", "--if-exists", "--schema=public", "--dbname",
         home.database_url, str(data_dump))
    with home.open(hashing=TEST_HASHING) as vault:
        assert vault.accounts.exists(alice)           # the backup had her rows...
        with pytest.raises(MemberKeyDestroyedError):
            vault.profile.get(alice)                  # ...which no key opens any more
    assert "Deleted again the rows of 1 erased member and destroyed again the keys of 0" \
        in _reapply(home)
    with home.open(hashing=TEST_HASHING) as vault:
        assert not vault.accounts.exists(alice)
        assert vault.profile.get(bob)["city"] == "Namur"
    assert "rows of 0 erased members" in _reapply(home)     # once is enough


def test_a_restored_key_database_loses_the_erased_members_key_again(
        erased_after_the_dumps: tuple[VaultHome, str, str, Path, Path],
        postgresql: Server) -> None:
    """The key database is restored whole, into a new database the URL then names."""
    home, alice, bob, _, keys_dump = erased_after_the_dumps
    with postgresql.database() as restored_keys:
        _run("pg_restore", "--dbname", restored_keys, str(keys_dump))
        _the_restored_keys_lose_the_erased_members_key(
            VaultHome(home.root, home.database_url, restored_keys), alice, bob)


def _the_restored_keys_lose_the_erased_members_key(home: VaultHome, alice: str,
                                                   bob: str) -> None:
    with home.open(hashing=TEST_HASHING) as vault:
        assert alice in vault.key_store.holders()      # the backup had her key
        assert vault.key_store.erased_at(alice) is None
    assert "destroyed again the keys of 1" in _reapply(home)
    with home.open(hashing=TEST_HASHING) as vault:
        assert alice not in vault.key_store.holders()
        assert vault.key_store.erased_at(alice) is not None
        assert vault.profile.get(bob)["given_name"] == "Bob"
    assert "destroyed again the keys of 0" in _reapply(home)


def test_a_key_database_older_than_a_member_loses_their_key_and_says_so(
        postgresql_home: VaultHome, tmp_path: Path, postgresql: Server) -> None:
    """The README's key restore with a member made after the dump (the operator's report)."""
    home = postgresql_home
    with home.open(hashing=TEST_HASHING) as vault:
        bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
    keys_dump = tmp_path / "keys.dump"
    assert home.keys_database_url
    _run("pg_dump", "--format=custom", "--file", str(keys_dump), "--dbname",
         home.keys_database_url)
    with home.open(hashing=TEST_HASHING) as vault:
        late = vault.members.register("late@example.org", GOOD_PASSWORD)
        vault.profile.update(late, {"given_name": "Late"})
        principal = member_principal(vault, late)
    with postgresql.database() as restored_keys:
        _run("pg_restore", "--dbname", restored_keys, str(keys_dump))
        restored = VaultHome(home.root, home.database_url, restored_keys)
        told = _reapply(restored, exit_code=3)
        assert "warning: 1 member has an account but no data key" in told
        assert told.rstrip().endswith(principal) and "late@example.org" not in told
        with restored.open(hashing=TEST_HASHING) as vault:
            with pytest.raises(MemberKeyLostError):
                vault.profile.get(late)
            assert vault.members.get(bob).email == "bob@example.org"
            vault.erasure.erase(late)          # what the member's own deletion does
        assert "rows of 0 erased members" in _reapply(restored)


# -- a dump put back while hosts serve, or before reapply-erasures ---------------------------------
def _serve(home: VaultHome) -> Result:
    assert home.database_url and home.keys_database_url
    return CliRunner().invoke(main, ["--home", str(home.root), "serve", "--port",
                                     str(_free_port())],
                              env={DATABASE_URL_SETTING: home.database_url,
                                   KEYS_DATABASE_URL_SETTING: home.keys_database_url})


def test_serve_refuses_a_restored_data_database_until_reapply_erasures(
        erased_after_the_dumps: tuple[VaultHome, str, str, Path, Path]) -> None:
    """The README's restore is pg_restore and then reapply-erasures: a host started between
    the two would serve grants withdrawn since the dump, so it refuses, saying what to run."""
    home, _, _, data_dump, _ = erased_after_the_dumps
    assert not home.restore_unfinished() and home.database_url
    _run("pg_restore", "--clean", "--if-exists", "--schema=public", "--dbname",
         home.database_url, str(data_dump))
    assert home.restored_databases() == ("data",)
    refused = _serve(home)
    assert refused.exit_code == 1, refused.output
    assert ("the data database of this vault was put back from a dump since the ledger last"
            " recorded it") in refused.output
    assert "run 'vrmvault reapply-erasures', then serve again" in refused.output
    _reapply(home)
    assert home.restored_databases() == ()
    assert not home.restore_unfinished()


def test_serve_refuses_a_restored_key_database_until_reapply_erasures(
        erased_after_the_dumps: tuple[VaultHome, str, str, Path, Path],
        postgresql: Server) -> None:
    home, _, _, _, keys_dump = erased_after_the_dumps
    with postgresql.database() as restored_keys:
        _run("pg_restore", "--dbname", restored_keys, str(keys_dump))
        restored = VaultHome(home.root, home.database_url, restored_keys)
        assert restored.restored_databases() == ("keys",)
        assert "the keys database of this vault was put back" in _serve(restored).output
        _reapply(restored)
        assert restored.restored_databases() == ()


def test_a_host_stops_serving_when_the_data_database_is_restored_under_it(
        postgresql_home: VaultHome, tmp_path: Path) -> None:
    """An operator who runs pg_restore while a host serves: its keeper sees the data tables
    made anew within a pass and stops the host, which would otherwise answer brands from the
    restored store (a grant withdrawn since the dump in force again)."""
    home = postgresql_home
    assert home.database_url
    dump = tmp_path / "data.dump"
    _run("pg_dump", "--format=custom", "--file", str(dump), "--dbname", home.database_url)
    host = Host(home, _free_port(), tmp_path / "host.log")
    host.start()
    try:
        _run("pg_restore", "--clean", "--if-exists", "--schema=public", "--dbname",
             home.database_url, str(dump))
        assert host.process is not None
        host.process.wait(timeout=60)
        log = host.log.read_text()
        assert ("the data database was put back from a dump while this host served it"
                in log), log
        assert "run 'vrmvault reapply-erasures', then serve again" in log
    finally:
        host.stop()
    assert "was put back from a dump" in _serve(home).output
    _wait_for(lambda: _unserved(home))        # its children end just after it
    _reapply(home)
    assert not home.restore_unfinished()


def _unserved(home: VaultHome) -> bool:
    try:
        with home.offline("reapply-erasures"):
            return True
    except StoreError:
        return False


def test_reapply_erasures_is_refused_while_another_host_serves(
        postgresql_home: VaultHome, tmp_path: Path) -> None:
    """The serve lock is one home's, one machine's: a host elsewhere serving the same
    databases is seen by its connections, and reapply-erasures waits for it to stop."""
    other = Host(VaultHome(tmp_path / "other", postgresql_home.database_url,
                           postgresql_home.keys_database_url), _free_port(),
                 tmp_path / "other.log")
    other.start()
    try:
        refused = _reapply(postgresql_home, exit_code=1)
        assert "'vrmvault serve' is running on another host of the PostgreSQL database" in refused
        assert "stop every host, then run 'vrmvault reapply-erasures' again" in refused
    finally:
        other.stop()
    _wait_for(lambda: _unserved(postgresql_home))
    assert "Deleted again the rows of 0" in _reapply(postgresql_home)
