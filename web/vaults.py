"""The vault of the current request: kept connections lent to it, given back at teardown.

Per process, the master key is read once, one password hasher and one receipt signer are kept,
and the stores' connections are kept in a small pool: the data store, the key store, the
ledger and the brand API's rate counters (``rates.db``), opened (with their migrations checked)
on first use in this process, never in the server's first process before it forks; and the process's
access spool (``consent/spool.py``), made
on its first brand read. A request borrows one set (a sync worker has exactly one; a
threaded server as many as it serves at once) and gives it back at teardown.

Invariants, so that keeping connections changes nothing a request can see:
- Nothing read is kept between requests unless the store is provably unchanged since: each
  request gets a :class:`~vault.home.Vault` and a :class:`~consent.context.Consent` of its own,
  with an empty member-key cache (an erasure in another worker shows on the very next request).
  The one exception, the brand API's token, client, policy, subject and sealed profile rows
  (never anything decrypted), is remembered by the connection and forgotten at any commit to
  the store by anyone
  (``vault.transactions.Transactions.memoized``), so every decision still rests on the grants as
  they are when the request starts.
- No read transaction outlives a statement (``vault.sqlcipher.database``), so every request sees
  every commit made before it by any worker or command (a withdrawal fails the very next read).
- Teardown rolls back whatever a failed request left open; a set whose rollback fails is closed
  and dropped, not lent again.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, g

from brand_gateway.observers import grant_observer
from brand_gateway.storage import open_rate_counts
from consent.checkpoints import Ed25519NoteSigner
from consent.context import Consent, ConsentResources
from consent.ledger import SIGNING_KEY_PURPOSE as CHECKPOINT_KEY_PURPOSE
from consent.receipts import ReceiptSigner
from consent.spool import SpoolDirectory, SpoolWriter
from consent.tiles import TileDirectory
from vault.clock import system_clock
from vault.home import Vault, VaultHome, VaultStores
from vault.keys import MASTER_KEY_ENV, MasterKey
from vault.passwords import HashingCost, PasswordHasher
from vault.repositories import Store

from .config import controller

_EXTENSION = "vrmvault"
_BORROWED = "vrmvault_borrowed"      # in ``g``: the request's _Borrowed

# This process's id, kept current by a fork hook rather than asked of the kernel on every request
# (the pool and the spool check it per request to drop what a fork copied from the parent).
_process_id = os.getpid()


def _after_fork_in_child() -> None:
    global _process_id
    _process_id = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)


@dataclass
class Connections:
    """One set of kept connections: the two stores, and the ledger once a request needed it."""

    stores: VaultStores
    consent: ConsentResources | None = None
    rates: Store | None = None       # the rates store, once a request needed it

    def end_use(self) -> None:
        self.stores.end_use()
        if self.consent is not None:
            self.consent.ledger.end_use()
        if self.rates is not None:
            self.rates.end_use()

    def close(self) -> None:
        try:
            if self.consent is not None:
                self.consent.close()
            if self.rates is not None:
                self.rates.close()
        finally:
            self.stores.close()


class VaultAccess:
    """Per-app state: where the home is, the key material and the pool, all made lazily."""

    def __init__(self, app: Flask) -> None:
        self.home = VaultHome.configured(Path(app.config["VRMVAULT_HOME"]), app.config)
        self.clock = app.config.get("VRMVAULT_CLOCK") or system_clock
        self.hashing = HashingCost(
            time_cost=app.config["VRMVAULT_ARGON2_TIME_COST"],
            memory_kib=app.config["VRMVAULT_ARGON2_MEMORY_KIB"],
            parallelism=app.config["VRMVAULT_ARGON2_PARALLELISM"],
        )
        self.cache_kib = app.config["VRMVAULT_CACHE_KIB"]
        self.controller = controller(app.config)
        self._master_hex = app.config.get("VRMVAULT_MASTER_KEY")
        self._master: MasterKey | None = None
        self._hasher: PasswordHasher | None = None
        self._signer: ReceiptSigner | None = None
        self._lock = threading.Lock()
        self._idle: list[Connections] = []
        self._pid = _process_id
        self._spool: SpoolWriter | None = None
        self.log = TileDirectory.of_home(self.home.root)
        self._verifier_key: str | None = None

    def master(self) -> MasterKey:
        if self._master is None:
            environ = {MASTER_KEY_ENV: self._master_hex} if self._master_hex else {}
            self._master = self.home.master_key(environ)
        return self._master

    def signer(self) -> ReceiptSigner:
        if self._signer is None:
            self._signer = ReceiptSigner(self.master(), controller=self.controller)
        return self._signer

    def spool(self) -> SpoolWriter:
        """This process's access spool (consent/spool.py), made on first use after any fork."""
        with self._lock:
            spool = self._spool
            if spool is None or spool.pid != _process_id:
                # A spool copied by a fork is the parent's (its lock and its connection).
                spool = self._spool = self.spools().writer()
            return spool

    def verifier_key(self) -> str:
        """The ledger's checkpoint verifier key, derived once (no store opened)."""
        if self._verifier_key is None:
            self._verifier_key = Ed25519NoteSigner(
                self.master().derive(CHECKPOINT_KEY_PURPOSE)).verifier_key
        return self._verifier_key

    def spools(self) -> SpoolDirectory:
        return SpoolDirectory(self.home, self.master())

    # -- the pool ---------------------------------------------------------------------------------
    def borrow(self) -> Connections:
        """An idle set of connections, or a new one."""
        with self._lock:
            if self._pid != _process_id:
                # A fork copied the pool: those connections belong to the parent. SQLite must not
                # use (or close) them here; drop them and open this process's own.
                self._idle, self._pid = [], _process_id
            if self._idle:
                return self._idle.pop()
        return Connections(VaultStores(self.home, self.master(), cache_kib=self.cache_kib))

    def give_back(self, connections: Connections) -> None:
        try:
            connections.end_use()
        except Exception:
            connections.close()
            raise
        with self._lock:
            if self._pid == _process_id:
                self._idle.append(connections)

    def close(self) -> None:
        """Close every idle set and this process's spool (at shutdown, or when a test is done
        with the app; what the spool holds is merged by the next reader of the ledger)."""
        with self._lock:
            idle, self._idle = self._idle, []
            spool, self._spool = self._spool, None
        if spool is not None and spool.pid == _process_id:
            spool.close()
        for connections in idle:
            connections.close()

    # -- per request ------------------------------------------------------------------------------
    def vault(self, connections: Connections) -> Vault:
        if self._hasher is None:
            self._hasher = PasswordHasher(self.hashing)
        vault = connections.stores.vault(clock=self.clock, password_hasher=self._hasher)
        vault.session_idle = current_app.config["VRMVAULT_SESSION_IDLE"]
        vault.session_absolute = current_app.config["VRMVAULT_SESSION_ABSOLUTE"]
        return vault

    def consent(self, connections: Connections, vault: Vault) -> Consent:
        if connections.consent is None:
            connections.consent = ConsentResources.open(vault, self.home, signer=self.signer())
        return connections.consent.consent(
            vault, observers=[grant_observer(vault.data, vault.master)])


def _access() -> VaultAccess:
    access: VaultAccess = current_app.extensions[_EXTENSION]
    return access


@dataclass
class _Borrowed:
    """What one request borrowed: a set of connections, its vault, its consent once asked for."""

    access: VaultAccess
    connections: Connections
    vault: Vault
    consent: Consent | None = None


def _borrowed() -> _Borrowed:
    # The request's globals resolved once per call (each use of the ``g`` proxy resolves the
    # context again; the brand API asks for its stores several times per read).
    context = g._get_current_object()
    borrowed: _Borrowed | None = context.get(_BORROWED)
    if borrowed is None:
        access = _access()
        connections = access.borrow()
        try:
            vault = access.vault(connections)
        except BaseException:
            access.give_back(connections)
            raise
        borrowed = _Borrowed(access, connections, vault)
        setattr(context, _BORROWED, borrowed)
    return borrowed


def get_master_key() -> MasterKey:
    """The app's master key (read once per process), without borrowing any connection."""
    return _access().master()


def log_directory() -> TileDirectory:
    """The published log (consent/tiles.py): files only, no connection borrowed."""
    return _access().log


def get_ledger_verifier_key() -> str:
    return _access().verifier_key()


def get_vault() -> Vault:
    return _borrowed().vault


def get_consent() -> Consent:
    """Consent services over the request's vault (ledger and receipt signer included); a
    grant that ends (withdrawn, expired, replaced, the brand's access ended) also queues the
    brand's webhooks, in the same transaction."""
    borrowed = _borrowed()
    if borrowed.consent is None:
        borrowed.consent = borrowed.access.consent(borrowed.connections, borrowed.vault)
    return borrowed.consent


def get_rate_counts() -> Store:
    """The brand API's shared request counters (``rates.db``), on this request's connections."""
    borrowed = _borrowed()
    connections = borrowed.connections
    if connections.rates is None:
        connections.rates = open_rate_counts(borrowed.access.home, borrowed.access.master())
    return connections.rates


def get_spool() -> SpoolWriter:
    """This process's access spool: where the brand API records each read before it answers."""
    return _access().spool()


def spool_directory() -> SpoolDirectory:
    """The access spools of this app's vault home."""
    return _access().spools()


def merge_pending_reads() -> int:
    """Merge every spool's pending reads into the ledger, for a page about to read it (the
    member's access page, the console): it then shows every read served so far."""
    return _access().spools().merge_all(get_consent().ledger)


def close_vault(exc: BaseException | None = None) -> None:
    borrowed: _Borrowed | None = g.pop(_BORROWED, None)
    if borrowed is None:
        return
    try:
        if borrowed.consent is not None:
            borrowed.consent.close()
        borrowed.vault.close()
    finally:
        borrowed.access.give_back(borrowed.connections)


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = VaultAccess(app)
    app.teardown_appcontext(close_vault)
