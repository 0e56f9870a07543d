"""A vault home: the folder holding the stores and (by default) the master key.

    $VRMVAULT_HOME/          default ./var; mode 0700 (made so, or tightened, by initialise)
        data.db              SQLCipher, raw key derived from the master key ("data-store")
        keys.db              SQLCipher, raw key derived from the master key ("key-store")
        ledger.db, rates.db  SQLCipher, likewise (vault/schema lists every store)
        master.key           0600, 64 hex digits; absent when VRMVAULT_MASTER_KEY is set
        serve.lock           empty; locked while ``vrmvault serve`` runs (:meth:`VaultHome.offline`)
        restore.unfinished   empty; a restore stopped before it was done (``serve`` refuses)

:meth:`VaultHome.initialise` creates the stores, or brings each to the last migration of its
history (:mod:`vault.schema`); a store that is not current is never opened for use.

:class:`Vault` wires the services to one pair of open stores. It is what the web layer, the CLI,
the demo loader and the benchmarks all use; nothing else opens a store. :class:`VaultStores` keeps
one pair open for reuse (a web worker's connections): each use gets a :class:`Vault` of its own
over them, with its own services and an empty member-key cache, and closing that vault rolls back
anything left open and leaves the connections open for the next use.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import migrations, schema
from .brands import BrandDirectory
from .clock import Clock, system_clock
from .engines import repository
from .erasure import ErasureService
from .errors import StoreError, StoreNotInitialisedError
from .export import Exporter, vault_exporter
from .feedback import FeedbackService
from .keys import (
    MASTER_KEY_ENV,
    KeyStore,
    MasterKey,
    Pseudonymiser,
    load_master_key,
    unsafe_PlaintextKeyStore,
)
from .members import MemberService
from .password_resets import PasswordResetService
from .passwords import HashingCost, PasswordHasher
from .profile import ProfileService
from .recovery_codes import RecoveryCodes
from .repositories import MemberRepository, Store
from .sessions import SessionStore
from .signups import SignupService
from .sqlcipher.database import DEFAULT_CACHE_KIB, DEFAULT_CHECKPOINT_PAGES, Database
from .sqlcipher.keys import SqlcipherMemberKeys
from .throttle import LoginThrottle, RequestLimiter

if TYPE_CHECKING:
    from .postgresql.stores import PostgresqlPlaces, RestoreWatch


class OpenStore(Store, Protocol):
    """A store as this module holds it: what the services use, and the end of each use."""

    def end_use(self) -> bool:
        """Roll back what a failed use left open; whether there was anything."""

    def close(self) -> None: ...


#: The settings that put every store on PostgreSQL (web/config.py reads and checks them).
DATABASE_URL_SETTING = "VRMVAULT_DATABASE_URL"
KEYS_DATABASE_URL_SETTING = "VRMVAULT_KEYS_DATABASE_URL"


def _on(database: Store, module: str, name: str) -> Any:
    """The repository ``name`` of ``vault/<engine>/<module>.py`` over ``database``, for its
    engine (:mod:`vault.engines`)."""
    return repository(database, "vault.{engine}." + module, name)

HOME_MODE = 0o700          # only the vault's own user may list or enter the home
#: Locked (shared) by ``vrmvault serve`` and every process it forks for as long as they live;
#: a command that replaces what the server holds open locks it exclusively (:meth:`offline`).
SERVE_LOCK = "serve.lock"
#: Present from a restore's swap until what the ledger recorded since holds again in the store
#: (withdrawals and the like, web/cli.py): ``serve`` refuses to start while it is there.
RESTORE_UNFINISHED = "restore.unfinished"
SESSION_IDLE = 30 * 60
SESSION_ABSOLUTE = 12 * 60 * 60


@dataclass(frozen=True)
class VaultHome:
    """The home folder, and where its stores are: files in it (SQLCipher), or PostgreSQL when
    ``database_url`` (and ``keys_database_url``) name its databases (:meth:`configured`)."""

    root: Path
    # PostgreSQL's connection strings (vault/postgresql/stores.py); never shown (a password).
    database_url: str | None = field(default=None, repr=False)
    keys_database_url: str | None = field(default=None, repr=False)

    @classmethod
    def configured(cls, root: Path, settings: Mapping[str, Any]) -> VaultHome:
        """The home at ``root`` with the stores the settings place (``VRMVAULT_DATABASE_URL``
        and ``VRMVAULT_KEYS_DATABASE_URL``: both or neither, web/config.py checks)."""
        return cls(root, settings.get(DATABASE_URL_SETTING),
                   settings.get(KEYS_DATABASE_URL_SETTING))

    @property
    def engine(self) -> str:
        """``"sqlcipher"`` (files in the home) or ``"postgresql"``."""
        return "postgresql" if self.database_url else "sqlcipher"

    @property
    def where(self) -> str:
        """Where the stores are, as messages name it: never a connection string, nor the
        database's name read out of one (vault/postgresql/connection_failures.py says why)."""
        if not self.database_url:
            return str(self.root)
        return f"the PostgreSQL database of {DATABASE_URL_SETTING}"

    @property
    def data_path(self) -> Path:
        return self.root / schema.DATA.file

    @property
    def keys_path(self) -> Path:
        return self.root / schema.KEYS.file

    @property
    def ledger_path(self) -> Path:
        return self.root / schema.LEDGER.file

    @property
    def key_file(self) -> Path:
        return self.root / "master.key"

    def exists(self) -> bool:
        """Whether the data and key stores have been made."""
        if self.database_url:
            from .postgresql.stores import made
            return made(self._places())
        return self.data_path.exists() and self.keys_path.exists()

    def require(self) -> VaultHome:
        """This home, if its stores exist; else :class:`StoreNotInitialisedError` naming it."""
        self._require_both_or_neither()
        if not self.exists():
            raise StoreNotInitialisedError(f"no store in {self.where}; run 'vrmvault init' first")
        if not self.database_url:
            self._require_owned()
        return self

    def _require_owned(self) -> None:
        """Refuse a home that belongs to another user (as PostgreSQL refuses a data directory
        it does not own). Its owner may rename, replace or plant any file in it whatever its
        mode (a master key they know, a store they wrote), and may loosen it again after init
        tightened it; a home made beforehand by another account (in /tmp, say) is theirs."""
        owner = self.root.stat().st_uid
        if owner != os.geteuid():
            raise StoreError(f"{self.root} belongs to another user (uid {owner}); run vrmvault"
                             " as the user that owns the home, or give it a home of its own")

    def master_key(self, environ: dict[str, str] | None = None) -> MasterKey:
        return load_master_key(self.key_file, environ)

    def initialise(self, environ: dict[str, str] | None = None, *,
                   new_ledger: bool = False) -> InitReport:
        """Create what is missing (key file, stores) and bring every store of
        :data:`vault.schema.STORES` to its last migration, saying what was done to which.
        ``new_ledger``: the operator's word that the ledger beside an existing data store is
        lost for good, and a new, empty one is to be made in its place (refused otherwise)."""
        environ = dict(os.environ) if environ is None else environ
        tightened = self.make_private()
        if new_ledger:
            self._require_lost_ledger()
        self._require_both_or_neither(new_ledger=new_ledger)
        created_store = not self.exists()
        created_key = False
        if not environ.get(MASTER_KEY_ENV) and not self.key_file.exists():
            if not created_store or (not self.database_url and self.data_path.exists()):
                raise StoreError(
                    f"{self.where} holds a store but its master key {self.key_file} is missing;"
                    f" set {MASTER_KEY_ENV} or restore the key file"
                )
            MasterKey.generate().write_new_file(self.key_file)
            created_key = True
        master = self.master_key(environ)
        applied = []
        for store in schema.STORES:
            database, done = self._open_store(store, master, migrate=True)
            database.close()
            applied += [f"{self._name(store)}: {step}" for step in done]
        warnings = []
        if self.database_url:
            from .postgresql.stores import record_served, role_warnings
            record_served(self._places(), again=False)      # the first time only
            warnings = role_warnings(self._places())
        return InitReport(self, created_key, created_store, applied, tightened,
                          warnings=warnings)

    def _require_lost_ledger(self) -> None:
        """What ``init --new-ledger`` needs: a SQLCipher home with a data store and no
        ledger beside it."""
        if self.database_url:
            raise StoreError("--new-ledger is for a home of SQLCipher files: on PostgreSQL"
                             " the ledger is a schema of the data database")
        if not self.data_path.exists():
            raise StoreError(f"--new-ledger: {self.root} holds no data store; 'vrmvault init'"
                             " alone makes every store")
        if self.ledger_path.exists():
            raise StoreError(f"--new-ledger: {self.ledger_path} is there; a new ledger is made"
                             " only where the data store's own is lost")

    def _require_both_or_neither(self, *, new_ledger: bool = False) -> None:
        """Refuse to make one of the data and key stores beside the other: a new key store
        holds no member's key, so every member's data could never be opened again (nor told
        from an erased member's); a new data store beside a key store is an empty vault where
        a restore was meant. Refuse a new ledger beside a data store (unless ``new_ledger``):
        it would begin the consent history again, silently, with nothing for a restore to
        re-apply and every proof an auditor holds broken."""
        if self.database_url:
            return
        data, keys = self.data_path.exists(), self.keys_path.exists()
        if data and not new_ledger and not self.ledger_path.exists():
            raise StoreError(
                f"{self.root} holds a data store but no ledger ({self.ledger_path.name}): put"
                " back its copy; if it is lost for good, 'vrmvault init --new-ledger' begins"
                " a new, empty one (the consent history, what a restore re-applies and the"
                " auditors' proofs begin again with it)")
        if data and not keys:
            raise StoreError(
                f"{self.root} holds a data store but no key store ({self.keys_path.name}):"
                " put back its copy of the key store (members' data keys are only there); a"
                " new one would open none of their data")
        if keys and not data:
            raise StoreError(
                f"{self.root} holds a key store but no data store ({self.data_path.name}):"
                " put back a backup with 'vrmvault restore BACKUP'; a new one would be an"
                " empty vault")

    def open_store(self, store: migrations.Store, master: MasterKey, *, migrate: bool = False,
                   cache_kib: int = DEFAULT_CACHE_KIB,
                   checkpoint_pages: int = DEFAULT_CHECKPOINT_PAGES) -> OpenStore:
        """A connection to ``store`` (one of :data:`vault.schema.STORES`) with its key from
        ``master``: made and brought to its last migration (``migrate``), else refused unless
        it is current. ``cache_kib`` and ``checkpoint_pages`` tune SQLCipher's. Close it."""
        return self._open_store(store, master, migrate=migrate, cache_kib=cache_kib,
                                checkpoint_pages=checkpoint_pages)[0]

    def _open_store(self, store: migrations.Store, master: MasterKey, *, migrate: bool,
                    cache_kib: int = DEFAULT_CACHE_KIB,
                    checkpoint_pages: int = DEFAULT_CHECKPOINT_PAGES,
                    ) -> tuple[OpenStore, list[str]]:
        """:meth:`open_store`, and the migrations it applied."""
        key = master.derive(store.key_purpose)
        if self.database_url:
            from .postgresql.stores import key_check, open_store
            marks = {each.name: key_check(master.derive(each.key_purpose))
                     for each in schema.STORES}
            return open_store(self._places(), store, key, migrate=migrate, marks=marks)
        if migrate:
            self.root.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
        database = Database.open(self.root / store.file, key, create=migrate,
                                 cache_kib=cache_kib, checkpoint_pages=checkpoint_pages)
        try:
            done = migrations.apply(database, store) if migrate else []
            if not migrate:
                migrations.require_current(database, store)
        except BaseException:
            database.close()
            raise
        return database, done

    def _name(self, store: migrations.Store) -> str:
        """How init's report names a store: its file, or its place in PostgreSQL."""
        if not self.database_url:
            return store.file
        from .postgresql.stores import SCHEMAS
        if store.name in SCHEMAS:
            return f"schema {SCHEMAS[store.name]}"
        return f"{store.name} database"

    def _places(self) -> PostgresqlPlaces:
        from .postgresql.stores import PostgresqlPlaces
        assert self.database_url and self.keys_database_url
        return PostgresqlPlaces(self.database_url, self.keys_database_url)

    def make_private(self) -> bool:
        """Create the home with mode 0700, or tighten an existing one to 0700 (True if it was
        looser). Every file in it is 0600 already; a listable home still tells others which
        stores exist, how big they are and when they change. Tightened rather than refused:
        the files inside were never readable, so nothing leaked that a refusal would undo."""
        self.root.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
        self._require_owned()         # before a chmod that root may make on anyone's folder
        mode = stat.S_IMODE(self.root.stat().st_mode)
        if mode == HOME_MODE:
            return False
        try:
            # Also for a just-made folder: mkdir's mode is filtered through the umask.
            os.chmod(self.root, HOME_MODE)
        except OSError as exc:
            raise StoreError(f"cannot make {self.root} private (chmod 700): {exc.strerror}"
                             ) from exc
        return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))

    def open(
        self,
        master: MasterKey | None = None,
        *,
        clock: Clock = system_clock,
        hashing: HashingCost | None = None,
        password_hasher: PasswordHasher | None = None,
        cache_kib: int = DEFAULT_CACHE_KIB,
    ) -> Vault:
        if not self.database_url:
            self.require()      # before the key: a missing store is told as such
        master = master or self.master_key()
        data, keys = self._open_stores(master, cache_kib)
        return _vault(data, keys, master, clock=clock, hashing=hashing,
                      password_hasher=password_hasher, borrowed=False)

    def _open_stores(self, master: MasterKey, cache_kib: int) -> tuple[OpenStore, OpenStore]:
        if not self.database_url:
            self.require()      # PostgreSQL's own open says what is missing
        data = self.open_store(schema.DATA, master, cache_kib=cache_kib)
        try:
            keys = self.open_store(schema.KEYS, master)
        except BaseException:
            data.close()
            raise
        return data, keys

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Held while ``vrmvault serve`` runs on this home: the lock's descriptor is inherited
        by every process the server forks, so it is held until the last of them ends."""
        with self._locked(fcntl.LOCK_SH, busy=f"a restore is under way in {self.root}; serve"
                                               " it again once that has ended"):
            yield

    @contextlib.contextmanager
    def offline(self, command: str) -> Iterator[None]:
        """For ``command``, which replaces or rewrites what a server holds open (restore,
        reapply-erasures): refused while ``vrmvault serve`` runs on this home, whose workers'
        connections would go on reading and writing the file it replaced; and keeps one from
        starting meanwhile."""
        with self._locked(fcntl.LOCK_EX, busy=f"'vrmvault serve' is running on {self.root}:"
                                               f" stop it first, then run 'vrmvault {command}'"
                                               " again"):
            if self.database_url:
                # Another machine's host holds no lock of this home: its connections say it.
                from .postgresql.stores import serving_connections
                serving = serving_connections(self._places())
                if serving:
                    raise StoreError(
                        f"'vrmvault serve' is running on another host of {self.where} ({serving}"
                        f" of its connections are open): stop every host, then run 'vrmvault"
                        f" {command}' again")
            yield

    @contextlib.contextmanager
    def _locked(self, operation: int, *, busy: str) -> Iterator[None]:
        if not self.root.is_dir():
            yield                       # no home, no server on it
            return
        try:
            fd = os.open(self.root / SERVE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open {self.root / SERVE_LOCK}: {exc.strerror}") from exc
        try:
            try:
                fcntl.flock(fd, operation | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreError(busy) from None
            yield
        finally:
            os.close(fd)

    @property
    def restore_mark(self) -> Path:
        return self.root / RESTORE_UNFINISHED

    def restore_unfinished(self) -> bool:
        """Whether a restore swapped the data store in and stopped before the changes the
        ledger recorded since were made to hold again (a grant withdrawn since would be in
        force again): ``reapply-erasures`` finishes it. On PostgreSQL, whether a database was
        put back from a dump since (:meth:`restored_databases`)."""
        if self.database_url:
            return bool(self.restored_databases())
        return self.restore_mark.exists()

    def restored_databases(self) -> tuple[str, ...]:
        """On PostgreSQL, which of the data and key databases (``"data"``, ``"keys"``) were
        put back from a dump since ``reapply-erasures`` last ran or the vault was made
        (vault/postgresql/stores.py says how that is seen); nothing on SQLCipher."""
        if not self.database_url:
            return ()
        from .postgresql.stores import restored
        return restored(self._places())

    def restore_finished(self) -> None:
        """What the ledger recorded since a restore holds again (``reapply-erasures``): the
        home's mark removed, or on PostgreSQL the databases' tables recorded as served."""
        if self.database_url:
            from .postgresql.stores import record_served
            record_served(self._places(), again=True)
        self.restore_mark.unlink(missing_ok=True)

    def restore_watch(self) -> RestoreWatch | None:
        """For a serving host's keeper on PostgreSQL: what tells, on every pass, that the data
        database was put back under it; ``None`` on SQLCipher (``restore`` refuses a home
        that is served)."""
        if not self.database_url:
            return None
        from .postgresql.stores import RestoreWatch
        return RestoreWatch(self._places())

    def remove_wal_files(self, path: Path) -> None:
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    def copy_to(self, target: Path) -> None:
        shutil.copy2(self.data_path, target)


class VaultStores:
    """The data store and the key store of a home, opened once and kept for reuse.

    For a web worker: opened on its first request (never before a fork), migrations checked
    once, then lent to one request at a time (:meth:`vault`). Nothing read through them is kept
    between uses: no member key, no decrypted value, no open read transaction.
    """

    def __init__(self, home: VaultHome, master: MasterKey, *,
                 cache_kib: int = DEFAULT_CACHE_KIB) -> None:
        self.home = home
        self.master = master
        self.data, self.keys = home._open_stores(master, cache_kib)
        self._kek = AESGCM(master.derive("kek"))

    def vault(self, *, clock: Clock = system_clock, hashing: HashingCost | None = None,
              password_hasher: PasswordHasher | None = None) -> Vault:
        """A vault over these connections for one use: its own services and an empty member-key
        cache. Closing it ends the use (rolling back what was left open), not the connections."""
        return _vault(self.data, self.keys, self.master, clock=clock, hashing=hashing,
                      password_hasher=password_hasher, borrowed=True, kek=self._kek)

    def end_use(self) -> None:
        """Roll back whatever a failed use left open on either connection."""
        self.data.end_use()
        self.keys.end_use()

    def close(self) -> None:
        self.data.close()
        self.keys.close()


def _vault(data: OpenStore, keys: OpenStore, master: MasterKey, *, clock: Clock,
           hashing: HashingCost | None, password_hasher: PasswordHasher | None, borrowed: bool,
           kek: AESGCM | None = None) -> Vault:
    vault = Vault(data=data, keys_database=keys,
                  key_store=KeyStore(_on(keys, "keys", "MemberKeys"), kek or master.derive("kek"),
                                     clock=clock),
                  master=master, clock=clock, hashing=hashing, borrowed=borrowed)
    if password_hasher is not None:
        vault.password_hasher = password_hasher  # share one per process (cached_property)
    return vault


@dataclass
class InitReport:
    home: VaultHome
    created_key: bool
    created_store: bool
    migrations_applied: list[str]     # "data.db: applied migration 1 baseline", in order
    tightened: bool = False           # the home was open to others and is 0700 now
    erasures_finished: int = 0        # erasures a crash had cut short, finished now
    warnings: list[str] = field(default_factory=list)   # roles with more than their store


@dataclass
class Vault:
    """Two open stores and the services over them. Close it when done.

    The services get the repositories of ``data`` and ``keys_database`` on their engine
    (``vault/<engine>/``, :mod:`vault.engines`), typed by the contracts of
    ``vault/repositories.py``, and never see a connection themselves.

    ``borrowed``: the connections belong to a :class:`VaultStores`; closing rolls back what was
    left open and forgets the member keys, and leaves the connections open.
    """

    data: OpenStore
    keys_database: OpenStore
    key_store: KeyStore
    master: MasterKey
    clock: Clock = system_clock
    hashing: HashingCost | None = None
    session_idle: int = SESSION_IDLE
    session_absolute: int = SESSION_ABSOLUTE
    borrowed: bool = False
    _closed: bool = field(default=False, repr=False)

    @cached_property
    def pseudonyms(self) -> Pseudonymiser:
        return Pseudonymiser(self.master.derive("pseudonym"))

    @cached_property
    def accounts(self) -> MemberRepository:
        """The members table's repository (the services' own; for tests and tools)."""
        return _on(self.data, "members", "Members")

    @cached_property
    def members(self) -> MemberService:
        return MemberService(
            members=self.accounts,
            throttle=LoginThrottle(attempts=_on(self.data, "throttle", "LoginAttempts"),
                                   clock=self.clock),
            recovery_codes=RecoveryCodes(
                codes=_on(self.data, "recovery_codes", "RecoveryCodes"),
                hashes=Pseudonymiser(self.master.derive("recovery-codes")), clock=self.clock),
            keys=self.key_store,
            blind_index=Pseudonymiser(self.master.derive("blind-index")),
            throttle_subjects=Pseudonymiser(self.master.derive("throttle")),
            hasher=self.password_hasher, clock=self.clock,
            device_key=self.master.derive("device-cookies"),
        )

    @cached_property
    def request_limits(self) -> RequestLimiter:
        return RequestLimiter(counts=_on(self.data, "throttle", "RequestCounts"), clock=self.clock)

    @cached_property
    def signups(self) -> SignupService:
        return SignupService(signups=_on(self.data, "signups", "Signups"), members=self.members,
                             hasher=self.password_hasher, limiter=self.request_limits,
                             subjects=Pseudonymiser(self.master.derive("throttle")),
                             seal_key=self.master.derive("signup-requests"), clock=self.clock)

    @cached_property
    def password_resets(self) -> PasswordResetService:
        return PasswordResetService(resets=_on(self.data, "password_resets", "PasswordResets"),
                                    members=self.members, accounts=self.accounts,
                                    hasher=self.password_hasher, sessions=self.sessions,
                                    limiter=self.request_limits,
                                    subjects=Pseudonymiser(self.master.derive("throttle")),
                                    clock=self.clock)

    @cached_property
    def password_hasher(self) -> PasswordHasher:
        return PasswordHasher(self.hashing)

    @cached_property
    def profile(self) -> ProfileService:
        return ProfileService(values=_on(self.data, "profile", "ProfileValues"),
                              keys=self.key_store, clock=self.clock)

    @cached_property
    def feedback(self) -> FeedbackService:
        return FeedbackService(entries=_on(self.data, "feedback", "Feedback"),
                               brands=_on(self.data, "brands", "Brands"), keys=self.key_store,
                               clock=self.clock)

    @cached_property
    def brands(self) -> BrandDirectory:
        return BrandDirectory(brands=_on(self.data, "brands", "Brands"), clock=self.clock)

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore(sessions=_on(self.data, "sessions", "Sessions"), clock=self.clock,
                            idle=self.session_idle, absolute=self.session_absolute)

    @cached_property
    def erasure(self) -> ErasureService:
        return ErasureService(erasures=_on(self.data, "erasure", "Erasures"), members=self.accounts,
                              sessions=_on(self.data, "sessions", "Sessions"), keys=self.key_store,
                              pseudonyms=self.pseudonyms, clock=self.clock)

    @cached_property
    def export(self) -> Exporter:
        """The vault's part of a member's export (vault/export.py says how the parts meet)."""
        return vault_exporter(sessions=_on(self.data, "sessions", "Sessions"), members=self.members,
                              profile=self.profile, feedback=self.feedback, brands=self.brands)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.key_store.forget_cached()
        if self.borrowed:
            self.data.end_use()
            self.keys_database.end_use()
        else:
            self.data.close()
            self.keys_database.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def unsafe_open_plaintext_vault(root: Path, *, clock: Clock = system_clock) -> Vault:
    """A vault with SQLCipher and sealing both OFF, over fresh files in ``root``.

    .. warning:: For the encryption-overhead benchmark only: the same services and storage code
       with encryption off, to compare against. Nothing in the product calls it.
    """
    root.mkdir(parents=True, exist_ok=True)
    data = Database.unsafe_open_plaintext(root / "data.db", create=True)
    keys = Database.unsafe_open_plaintext(root / "keys.db", create=True)
    migrations.apply(data, schema.DATA)
    migrations.apply(keys, schema.KEYS)
    return Vault(data=data, keys_database=keys,
                 key_store=unsafe_PlaintextKeyStore(SqlcipherMemberKeys(keys)),
                 master=MasterKey(b"\0" * 32), clock=clock)
