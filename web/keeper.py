"""The ledger keeper: what ``vrmvault serve``'s background child does on every pass.

``vrmvault ledger merge --every S`` (started by ``vrmvault serve``, web/server.py) runs
:meth:`Keeper.one_pass` every S seconds (0.25 by default). A pass:

1. merges the brand reads the web workers spooled into the ledger (consent/spool.py); then,
   on PostgreSQL, stops if the data database was put back from a dump under this host
   (:class:`~vault.errors.StoreRestoredError`: ``vrmvault ledger merge`` then stops the
   server it serves beside, vault/postgresql/stores.py says how a restore is seen);
2. finishes any erasure a crash left begun (web/erasures.py; one indexed read when none is);
3. signs a ledger checkpoint when the tree grew since the last one and that one is
   ``VRMVAULT_CHECKPOINT_INTERVAL`` seconds old (consent/ledger.py), so recent entries are
   always provable, not only every thousand entries;
4. publishes the latest signed checkpoint and the tiles it implies under ``<home>/log``
   (consent/tiles.py), which ``/log/...`` serves as static files: one ``stat`` and one small
   read when nothing new was signed, a few tiles when something was. The first pass over a
   ledger that was never published writes every tile (about 4,000 and 11 s for a million
   entries, bench/tiles.py); ``vrmvault ledger publish`` does that ahead, with a progress bar.
5. records the intents and offers that expired (``IntentService.expire``, the gateway's
   wiring: each offer's ``offer.expired`` webhook queued in the same transaction), at most
   :data:`EXPIRY_BATCH` of each, the next pass following at once while a batch comes back
   full. On every pass rather than once in a while, so a brand hears ``offer.expired``
   within a pass: when nothing is due, two reads that find nothing in partial indexes
   (``intents_live_by_expiry``, ``intent_offers_open_by_validity``) say so without taking
   the data store's write lock, about 0.1 ms with the vault and the service built around
   them (a default demo store), whatever the number of open intents. Listings and acceptance
   never wait for this step (they compare expiry with the clock as they read); it adds the
   ledger entries, the webhooks and the statuses the member's pages show.
6. once a minute, mails the deadline reminders of data subject requests that crossed into
   amber, red or overdue (web/dsr_reminders.py: once per level, across restarts);
7. every :data:`TOKEN_PURGE_EVERY` seconds, deletes the records of access tokens expired an
   hour or more (brand_gateway/tokens.py): a brand mints one every client credentials
   exchange, and kept for ever they grew the data store without end.

The keeper keeps its own connections to the stores between passes (opened on the first pass)
and keeps nothing read through them: each pass gets a fresh vault with an empty key cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brand_gateway.intents_wiring import intent_service
from brand_gateway.storage import token_store
from consent.context import Consent
from consent.ledger import Ledger
from consent.receipts import DEFAULT_CONTROLLER, Controller, ReceiptSigner
from consent.spool import SpoolDirectory
from consent.tiles import TileDirectory, publish_latest
from vault.clock import Clock, system_clock
from vault.errors import StoreRestoredError
from vault.home import Vault, VaultHome, VaultStores
from vault.keys import MasterKey

from .dsr_reminders import DeadlineReminders
from .erasures import finish_pending_erasures
from .mailing import maildir_path

if TYPE_CHECKING:
    from vault.postgresql.stores import RestoreWatch

#: Intents, and offers, one pass records as expired at most (each in one write transaction).
EXPIRY_BATCH = 500
#: How often expired access tokens are deleted (seconds).
TOKEN_PURGE_EVERY = 600.0


class Keeper:
    def __init__(self, home: VaultHome, master: MasterKey, ledger: Ledger, *,
                 checkpoint_interval: float, clock: Clock = system_clock,
                 reminders: DeadlineReminders | None = None,
                 controller: Controller = DEFAULT_CONTROLLER) -> None:
        self.home = home
        self.controller = controller
        self.master = master
        self.ledger = ledger
        self.checkpoint_interval = checkpoint_interval
        self.clock = clock
        self.spools = SpoolDirectory(home, master)
        self._stores: VaultStores | None = None
        self._watch: RestoreWatch | None = None
        self._signer: ReceiptSigner | None = None
        self.tiles = TileDirectory.of_home(home.root)
        self.reminders = reminders
        self._purged_at: float | None = None

    def one_pass(self) -> bool:
        """One pass (see the module docstring); False: nothing waits for an immediate next.
        :class:`StoreRestoredError` once the data database was put back under this host."""
        try:
            self.spools.merge_all(self.ledger)
            self.require_not_restored()
            try:
                self.finish_erasures()
            finally:
                # An erasure that keeps failing (reported by the loop) holds up no checkpoint.
                self.ledger.checkpoint_if_due(self.checkpoint_interval)
                self.publish()
            backlog = self.expire_intents() >= EXPIRY_BATCH
            self.send_reminders()
            self.purge_tokens()
        finally:
            self.ledger.end_use()
        return backlog

    def require_not_restored(self) -> None:
        """Step 1's sequel on PostgreSQL: the reads this host answered are in the ledger; if
        the data database was put back from a dump meanwhile, nothing more is done on it (a
        grant withdrawn since the dump is in force there until ``reapply-erasures`` runs)."""
        if self._watch is None:
            self._watch = self.home.restore_watch()
        if self._watch is not None and self._watch.restored():
            raise StoreRestoredError(
                "the data database was put back from a dump while this host served it, and"
                " what the ledger recorded since (withdrawals and the like) does not hold")

    def publish(self) -> int:
        """Publish the latest checkpoint (whoever signed it) and its tiles; tiles written."""
        return publish_latest(self.ledger.tree, self.ledger.latest_checkpoint(), self.tiles)

    def finish_erasures(self) -> int:
        if self._stores is None:
            self._stores = VaultStores(self.home, self.master)
        vault = self._stores.vault(clock=self.clock)
        try:
            if not vault.erasure.pending():
                return 0
            if self._signer is None:
                self._signer = ReceiptSigner(self.master, controller=self.controller)
            consent = Consent(vault, self.ledger, self._signer, owns_ledger=False)
            return finish_pending_erasures(vault, consent,
                                           maildir=maildir_path(self.home.root))
        finally:
            vault.close()

    def expire_intents(self) -> int:
        """Step 5: the intents and offers due to expire, recorded; how many."""
        vault = self._vault()
        try:
            consent = Consent(vault, self.ledger, self._receipt_signer(), owns_ledger=False)
            return intent_service(consent).expire(batch=EXPIRY_BATCH)
        finally:
            vault.close()

    def send_reminders(self) -> int:
        """Step 6, when a minute has passed since the last look; how many requests told."""
        if self.reminders is None or not self.reminders.due(self.clock()):
            return 0
        vault = self._vault()
        try:
            return self.reminders.send(Consent(vault, self.ledger, self._receipt_signer(),
                                               owns_ledger=False))
        finally:
            vault.close()

    def purge_tokens(self) -> int:
        """Step 7, when :data:`TOKEN_PURGE_EVERY` seconds passed since the last; how many."""
        now = self.clock()
        if self._purged_at is not None and now - self._purged_at < TOKEN_PURGE_EVERY:
            return 0
        self._purged_at = now
        vault = self._vault()
        try:
            return token_store(database=vault.data, clock=self.clock).delete_expired()
        finally:
            vault.close()

    def _vault(self) -> Vault:
        if self._stores is None:
            self._stores = VaultStores(self.home, self.master)
        return self._stores.vault(clock=self.clock)

    def _receipt_signer(self) -> ReceiptSigner:
        if self._signer is None:
            self._signer = ReceiptSigner(self.master, controller=self.controller)
        return self._signer

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._stores is not None:
            self._stores.close()
            self._stores = None
