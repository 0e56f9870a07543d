"""Backups of the data store, and restoring one without bringing an erased member back.

A backup is one file: a consistent copy of the DATA store written by ``VACUUM INTO``, which
SQLCipher encrypts with the same raw key as the live store, so it is as unreadable without the
master key as ``data.db`` itself. The key store is deliberately left out: it holds the members'
data keys and the list of erased members, and a backup must never bring an erased member's key
back.

Invariants:
- A backup file is encrypted (it never starts with the plaintext SQLite header), mode 0600, and
  never overwrites an existing file.
- Restore is all or nothing: the backup is checked (opens with the data-store key, every page
  authenticates and its b-trees hold together, is a vrmvault store), migrated and has the
  erasure list re-applied in a temporary copy next to ``data.db``; only then does one
  ``os.replace`` swap it in. A failure before that leaves ``data.db`` as it was, byte for byte.
- After a restore no erased member has a row: every member on the live key store's erasure list
  who is in the backup has their rows deleted again and the erasure recorded. Their sealed
  values could not be read anyway (their key is gone); deleting the rows keeps the store honest.
  The caller's ``before_delete`` hooks run for each of them, over the copy being prepared: a
  backup older than an erasure also lacks what the erasure queued (the brands' member.erased
  webhooks), so the web layer queues them again.
- The key store is not touched. Inherent consequence: what happened after the backup is lost,
  including members who signed up after it (their keys stay in the key store, unused).
- Restore is an offline operation: stop the server and any other process holding the vault
  open first, since their connections would keep writing to the replaced file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from . import migrations, schema
from .clock import system_clock
from .erasure import BeforeDelete, ErasureService
from .errors import ConflictError, StoreError, StoreNotInitialisedError, WrongKeyError
from .home import Vault, VaultHome
from .keys import KeyStore, MasterKey, Pseudonymiser
from .sqlcipher.backup import SqlcipherRestoredStore
from .sqlcipher.database import Database, damage_of
from .sqlcipher.erasure import SqlcipherErasures
from .sqlcipher.keys import SqlcipherMemberKeys
from .sqlcipher.members import SqlcipherMembers
from .sqlcipher.sessions import SqlcipherSessions

PLAINTEXT_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    source: Path
    members: int                       # members in the restored store
    erasures_reapplied: int            # erased members who were in the backup, deleted again
    migrations_applied: list[str]      # migrations the backup lacked, applied before swapping in
    seconds: float


def backup(vault: Vault, target: Path) -> BackupReport:
    """Write an encrypted, consistent copy of the data store to ``target`` (a new file)."""
    if not isinstance(vault.data, Database):
        raise StoreError("a backup copies the SQLCipher data store; on PostgreSQL use pg_dump")
    started = time.perf_counter()
    target = Path(target)
    # Create the file ourselves, exclusively and 0600 from the first byte; SQLite's VACUUM INTO
    # accepts an empty existing file as its target.
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConflictError(f"{target} exists already; refusing to overwrite it") from None
    except OSError as exc:
        raise StoreError(f"cannot create the backup file {target}: {exc.strerror}") from exc
    os.close(fd)
    try:
        vault.data.vacuum_into(target)
        with open(target, "rb") as handle:
            if handle.read(len(PLAINTEXT_HEADER)) == PLAINTEXT_HEADER:
                raise StoreError("the backup came out unencrypted; it has been removed")
        _fsync(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    os.chmod(target, 0o600)   # SQLite writes into our file; the mode is the contract
    return BackupReport(target, target.stat().st_size, time.perf_counter() - started)


#: Makes the ``before_delete`` hooks of a re-applied erasure, over the restored store.
ErasureHooks = Callable[[Database], Iterable[BeforeDelete]]


def restore(home: VaultHome, source: Path, master: MasterKey, *,
            erasure_hooks: ErasureHooks | None = None) -> RestoreReport:
    """Replace ``home``'s data store with the backup ``source``, re-applying erasures (with the
    hooks ``erasure_hooks`` makes over the copy, for each member the backup still holds)."""
    started = time.perf_counter()
    source = Path(source)
    if not source.is_file():
        raise StoreError(f"no backup file at {source}")
    if not home.keys_path.exists():
        raise StoreNotInitialisedError(
            f"no key store in {home.root}; a data backup is unreadable without it"
        )
    # Opening the key store first also checks the master key is the one this home uses.
    keys = Database.open(home.keys_path, master.derive("key-store"))
    temporary = home.root / f".{home.data_path.name}.restore-{os.urandom(6).hex()}"
    try:
        # Work on a copy, never on the source: even opening a store may rewrite its header.
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(source, "rb") as reader, open(fd, "wb") as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
        except OSError as exc:
            raise StoreError(f"cannot copy {source} into {home.root}") from exc
        members, reapplied, applied = _prepare(temporary, keys=keys, master=master,
                                               source=source, erasure_hooks=erasure_hooks)
        _fsync(temporary)
        # The old WAL belongs to the old file: left next to the new one it would be replayed
        # into it. Remove it first; a crash in between loses only what is being replaced.
        home.remove_wal_files(home.data_path)
        os.replace(temporary, home.data_path)
        _fsync(home.root)
    finally:
        keys.close()
        temporary.unlink(missing_ok=True)
        home.remove_wal_files(temporary)
    return RestoreReport(source, members, reapplied, applied, time.perf_counter() - started)


def _prepare(
    path: Path, *, keys: Database, master: MasterKey, source: Path,
    erasure_hooks: ErasureHooks | None,
) -> tuple[int, int, list[str]]:
    """Check, migrate and re-apply erasures to the copy at ``path``; (members, erasures, names)."""
    try:
        data = Database.open(path, master.derive("data-store"))
    except WrongKeyError:
        # Named by the file the operator gave, not by the copy being prepared.
        raise WrongKeyError(f"{source} is not a backup of this vault: its master key does not"
                            " open it (or the file was cut short or changed)") from None
    except StoreError as exc:          # the first page opened, one its schema needs did not
        damage = damage_of(path, master.derive("data-store"))
        raise StoreError(f"{source} is damaged{_told(damage)}; nothing was restored: restore"
                         " another backup") from exc
    try:
        # A changed or lost page would be found only when first read, in the live store.
        damage = data.damage()
        if damage:
            raise StoreError(f"{source} is damaged{_told(damage)}; nothing was restored:"
                             " restore another backup")
        if not migrations.records_migrations(data):
            raise StoreError(f"{source} is not a vrmvault data store")
        # Refuses one made by a newer version; takes over one of the pre-release history.
        applied = migrations.apply(data, schema.DATA)
        restored = SqlcipherRestoredStore(data)
        accounts = SqlcipherMembers(data)
        erasure = ErasureService(
            erasures=SqlcipherErasures(data), members=accounts,
            sessions=SqlcipherSessions(data),
            keys=KeyStore(SqlcipherMemberKeys(keys), master.derive("kek")),
            pseudonyms=Pseudonymiser(master.derive("pseudonym")), clock=system_clock,
            before_delete=erasure_hooks(data) if erasure_hooks else (),
        )
        reapplied = 0
        # Every erasure on the list is re-recorded with its original time (also for members who
        # joined after the backup was taken); rows come out where the backup still has them.
        for member_id, erased_at in SqlcipherMemberKeys(keys).erased():
            present = accounts.exists(member_id)
            erasure.delete_rows(member_id, erased_at=erased_at)
            reapplied += 1 if present else 0
        # Sessions in a backup may have been ended since ("sign out everywhere", a stolen
        # cookie revoked): a restore never brings one back. Everyone signs in again.
        restored.end_all_sessions()
        members = restored.member_count()
        data.checkpoint()
    finally:
        data.close()
    return members, reapplied, applied


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file or a directory) to disk, where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _told(damage: list[str]) -> str:
    """What :meth:`Database.damage` found, in brackets: the first, and how many more."""
    if not damage:
        return ""
    more = f", and {len(damage) - 1} more" if len(damage) > 1 else ""
    return f" ({damage[0]}{more})"
