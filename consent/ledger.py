"""The tamper-evident ledger of consent, access, erasure and data-subject-request events:
appending to it, with signed checkpoints.

Its own store: with SQLCipher, ``ledger.db`` in the vault home, keyed with
``master.derive("ledger-store")``, its schema the ledger store's history in
:data:`vault.schema.LEDGER`; this module reaches it only through
:class:`consent.repositories.LedgerRepository` (SQLCipher's: ``consent/sqlcipher/ledger.py``;
:func:`consent.context.open_ledger` is where the engine is chosen)::

    entries      seq -> body        the Merkle leaves, canonical JSON (consent/events.py)
    tree_nodes   position -> hash   every perfect subtree, leaves included (consent/merkle.py)
    checkpoints  tree_size -> root, time, signed note (consent/checkpoints.py)

and, outside the tree (nothing in them is signed or proved):

    search_index,    seq -> time, tag, brand, principal; purpose -> seq: every entry, written
    search_purposes, with it (consent/ledger_search.py; with SQLCipher the newest wait in
    search_recent    search_recent, folded into the index every FOLD_ROWS); a member's brand
                     reads are found among them (consent/access_index.py)
    spool_marks      spool -> n: the last record of each access spool appended here, moved
                     in the transaction that appends the records (consent/spool.py: the brand
                     API's reads, merged in batches with the time they were served)

Roots and proofs are read from the stored tree by :mod:`consent.ledger_proofs`;
:meth:`Ledger.verify` hands the whole check to :mod:`consent.ledger_verification`.

Invariants:

- Append-only: entries, tree nodes and checkpoints are never updated or deleted. An append writes
  the entry, the subtrees it completes and its search-index rows in one transaction, so the
  tree always covers exactly the entries (``2n - popcount(n)`` nodes for ``n`` entries) and the
  search index every one of them.
- Entries hold pseudonyms and digests, never personal data (refused with PersonalDataError), so
  erasing a member never touches the ledger.
- The ledger never signs two inconsistent checkpoints: before signing tree size ``n2`` it checks,
  with an RFC 9162 consistency proof built from the store, that the tree extends the last signed
  one, and that the stored root is the root it built while appending; otherwise it raises
  InconsistentCheckpointError. A checkpoint is signed on demand (:meth:`Ledger.checkpoint`),
  after any write that leaves ``checkpoint_every`` or more entries unsigned, and on a clock
  (:meth:`Ledger.checkpoint_if_due`, which ``vrmvault serve``'s keeper calls on every pass):
  once the last checkpoint is ``interval`` seconds old and entries were appended since, so
  recent entries are always provable. Each signing is itself recorded as a
  ``ledger:checkpoint:signed`` entry (so the next checkpoint covers it); that entry alone does
  not make the tree "grown", or an idle ledger would sign forever.
- Several processes (web workers, the CLI) append to one ledger. Each keeps the tree's
  frontier in memory but re-reads the ledger's size under the write lock before every append and
  catches up with what others appended (from the tail of the tree, each parent recomputed and
  compared), so no append ever builds on a stale frontier.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vault.clock import Clock, system_clock

from .checkpoints import CheckpointBody, Ed25519NoteSigner, b64encode
from .errors import (
    InconsistentCheckpointError,
    LedgerIntegrityError,
    NoteVerificationError,
    ProofRequestError,
)
from .event_details import CheckpointSigned
from .events import (
    SYSTEM_ACTOR,
    Event,
    EventDetails,
    EventTag,
    LedgerEntry,
    canonical_body,
    event_of,
    utc_time,
)
from .ledger_proofs import Checkpoint, EntryProof, StoredTree
from .ledger_search import SearchRow, search_row
from .ledger_verification import LedgerVerification, VerifyReport
from .merkle import (
    Frontier,
    frontier_nodes,
    leaf_hash,
    node_count,
    verify_consistency,
    verify_inclusion,
)

if TYPE_CHECKING:
    from .repositories import AccessIndexRepository, LedgerRepository, LedgerSearchRepository

SIGNING_KEY_PURPOSE = "ledger-checkpoint"
DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_CHECKPOINT_INTERVAL = 60            # seconds: the clock's bound on an unsigned entry
# At most this many entries appended by others since this process last wrote: catch up from the
# tail of the tree (Ledger._caught_up) rather than reading the whole frontier again.
SYNC_TAIL = 256


def _seconds(utc: str) -> float:
    """Unix seconds of an :func:`~consent.events.utc_time` string."""
    return dt.datetime.fromisoformat(utc.replace("Z", "+00:00")).timestamp()


class Ledger:
    """An open ledger; one per process or worker (it caches the tree's frontier). Close it."""

    def __init__(
        self,
        store: LedgerRepository,
        access_index: AccessIndexRepository,
        *,
        signer: Ed25519NoteSigner,
        clock: Clock = system_clock,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        search_index: LedgerSearchRepository | None = None,
    ) -> None:
        self.store = store
        self.access_index = access_index      # the brand reads by member (read only)
        self.search_index = search_index      # the entries by brand, purpose, ... (read only)
        self.tree = StoredTree(store)
        self.checkpoint_every = checkpoint_every
        self._signer = signer
        self._clock = clock
        self._frontier: Frontier | None = None     # None: reload from the store when needed
        self._last_checkpoint_size: int | None = None
        self._depth = 0

    @property
    def database(self) -> Any:
        """The store's own connection, for tests and benchmarks that look at the file itself;
        services read through :attr:`access_index` and :meth:`snapshot`."""
        return getattr(self.store, "database")  # noqa: B009 (not on the contract)

    def close(self) -> None:
        self.store.close()

    def snapshot(self) -> contextlib.AbstractContextManager[object]:
        """A read transaction over the ledger store: what is read inside sees one state."""
        return self.store.snapshot()

    def end_use(self) -> None:
        """Roll back a write a failed caller left open (a kept ledger between requests) and, if
        there was one, forget the frontier built inside it."""
        if self.store.end_use():
            self._frontier = None
        self._depth = 0

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return self._signer.name

    @property
    def verifier_key(self) -> str:
        """The checkpoint verifier key, c2sp.org/signed-note form (public; publish it)."""
        return self._signer.verifier_key

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key that signs checkpoints."""
        return self._signer.public_key

    def entry(self, seq: int) -> LedgerEntry:
        body = self.store.body(seq)
        if body is None:
            raise ProofRequestError(f"the ledger has no entry {seq}")
        return LedgerEntry.from_body(body, leaf_hash(body))

    def latest_by(self, actor: str, tag: EventTag) -> LedgerEntry | None:
        """The newest entry of ``actor`` with ``tag``, or None. A scan of every body: for rare
        look-ups only (did a resumed erasure write its entry before the crash?)."""
        prefix = ('{"actor":' + json.dumps(actor) + ",").encode()
        body = self.store.latest_body(prefix, ('"tag":' + json.dumps(tag.value) + ",").encode())
        if body is None:
            return None
        return LedgerEntry.from_body(body, leaf_hash(body))

    @property
    def size(self) -> int:
        """How many entries the ledger holds (= the next seq)."""
        return self.tree.size

    def root(self, tree_size: int | None = None) -> bytes:
        """The RFC 9162 root of the first ``tree_size`` entries (default: all)."""
        return self.tree.root(tree_size)

    def check_published(self, note: bytes) -> str | None:
        """What is wrong with the ledger against ``note``, a checkpoint it published (a home's
        ``log/checkpoint``, consent/tiles.py), or None when the ledger still holds that
        checkpoint's tree. Whoever may write the store may remove its last entries together
        with the checkpoints that signed them, and the rest still verifies; a checkpoint
        published outside the store is out of that reach."""
        try:
            body = self._signer.verifier().open_checkpoint(note.decode())
        except (NoteVerificationError, UnicodeDecodeError) as exc:
            return f"the checkpoint this home published does not verify ({exc})"
        if body.tree_size > self.size:
            return (f"the ledger holds {self.size} entries, fewer than the {body.tree_size} of"
                    " the checkpoint this home published: entries were removed")
        if not hmac.compare_digest(self.root(body.tree_size), body.root_hash):
            return (f"the ledger's first {body.tree_size} entries do not hash to the root of"
                    " the checkpoint this home published: the ledger was rewritten")
        return None

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        """``PATH(index, D[tree_size])``, RFC 9162 section 2.1.3.1."""
        return self.tree.inclusion_proof(index, tree_size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """``PROOF(size1, D[size2])``, RFC 9162 section 2.1.4.1."""
        return self.tree.consistency_proof(size1, size2)

    def checkpoints(self) -> list[Checkpoint]:
        return self.store.checkpoints()

    def latest_checkpoint(self) -> Checkpoint | None:
        return self.store.latest_checkpoint()

    def prove_entry(self, seq: int, checkpoint: Checkpoint | None = None) -> EntryProof:
        """Entry ``seq`` with its inclusion proof against ``checkpoint`` (default: the latest),
        checked here with the verifier a third party would run."""
        size = self.size
        if not isinstance(seq, int) or not 0 <= seq < size:
            held = f"entries 0 to {size - 1}" if size else "no entries yet"
            raise ProofRequestError(f"there is no entry {seq}: the ledger holds {held}")
        checkpoint = checkpoint or self.latest_checkpoint()
        if checkpoint is None:
            raise ProofRequestError("no checkpoint has been signed yet; sign one first"
                                    " ('vrmvault ledger checkpoint')")
        if seq >= checkpoint.tree_size:
            raise ProofRequestError(
                f"entry {seq} was added after the latest checkpoint, which covers entries 0 to"
                f" {checkpoint.tree_size - 1}; sign a new checkpoint first"
                " ('vrmvault ledger checkpoint')")
        entry = self.entry(seq)
        proof = self.inclusion_proof(seq, checkpoint.tree_size)
        if not verify_inclusion(entry.leaf_hash, seq, checkpoint.tree_size, proof,
                                checkpoint.root_hash):
            raise LedgerIntegrityError(
                f"entry {seq} does not prove against the checkpoint of {checkpoint.tree_size}"
                " entries; run 'vrmvault ledger verify'", seq=seq)
        return EntryProof(entry, checkpoint.tree_size, checkpoint.root_hash, proof, checkpoint,
                          self.verifier_key)

    # -- writing --------------------------------------------------------------------------
    def record_event(
        self, *, actor: str, details: EventDetails | Mapping[str, Any] | None = None,
        tag: EventTag | str | None = None,
    ) -> LedgerEntry:
        """Append one event. ``details`` is the tag's dataclass (consent/event_details.py; the
        tag is then its own), or a plain mapping with its ``tag``. ``actor`` and every
        identifier in ``details`` are pseudonyms or digests; anything that looks like an e-mail
        address is refused (PersonalDataError)."""
        return self.record_events([event_of(tag, actor, details)])[0]

    def record_events(self, events: Iterable[Event]) -> list[LedgerEntry]:
        """Append several events in one transaction: all of them, or none."""
        batch = list(events)
        if not batch:
            return []
        with self._write():
            entries = self._append(batch)
        self._after_write()
        return entries

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """Group record_event calls into one write transaction (all or none); a periodic
        checkpoint that falls due is signed after it commits."""
        with self._write():
            yield self
        self._after_write()

    def checkpoint(self) -> Checkpoint:
        """Sign a checkpoint of the ledger as it is now (see the module invariants)."""
        with self._write():
            return self._sign_checkpoint()

    def checkpoint_if_due(self, interval: float) -> Checkpoint | None:
        """Sign a checkpoint if entries were appended since the last one (other than that
        checkpoint's own record) and the last is ``interval`` seconds old or more, or if there
        is none yet and the ledger holds entries. The new checkpoint, else None.

        Cheap when nothing is due (two indexed reads, no write lock); decided again under the
        write lock, so two keepers never sign twice for one interval."""
        if not self._checkpoint_due(interval):
            return None
        with self._write():
            if not self._checkpoint_due(interval):
                return None
            return self._sign_checkpoint()

    def _checkpoint_due(self, interval: float) -> bool:
        size = self.size
        last = self.latest_checkpoint()
        if last is None:
            return size > 0
        # The entry at seq == last.tree_size is that checkpoint's own ledger:checkpoint:signed.
        if size <= last.tree_size + 1:
            return False
        return self._clock() - _seconds(last.signed_at) >= interval

    # -- verifying ------------------------------------------------------------------------
    def verify(self, progress: Callable[[int], None] | None = None, *,
               published: bytes | None = None) -> VerifyReport:
        """Check the whole ledger end to end; ``progress(entries_done)`` is called as it goes.
        ``published``: the checkpoint the ledger published (a home's ``log/checkpoint``), which
        it must still hold (:meth:`check_published`).

        Reads inside one read transaction, so concurrent appends are not half-seen.
        """
        with self.store.snapshot():
            report = LedgerVerification(self, progress).run()
            if report.ok and published is not None:
                problem = self.check_published(published)
                if problem is not None:
                    return dataclasses.replace(report, problem=problem)
            return report

    # -- internals ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """The outermost write takes the write lock and resynchronises with the store (another
        process may have appended); nested writes are savepoints, so a failed one leaves
        nothing behind even when the caller goes on."""
        if self._depth == 0:
            self._depth = 1
            try:
                with self.store.transaction():
                    self._sync()
                    yield
            except BaseException:
                self._frontier = None
                raise
            finally:
                self._depth = 0
            return
        self._depth += 1
        try:
            with self.store.savepoint():
                yield
        except BaseException:
            self._frontier = None
            raise
        finally:
            self._depth -= 1

    def _sync(self) -> None:
        size = self.size
        cached = self._frontier
        if cached is not None and cached.size == size:
            return
        if cached is not None and 0 < size - cached.size <= SYNC_TAIL:
            self._frontier = self._caught_up(cached, size)
            return
        last = self.store.last_position()
        if (last if last is not None else -1) != node_count(size) - 1:
            raise LedgerIntegrityError(
                f"the ledger holds {size} entries but its tree does not match that size;"
                " run 'vrmvault ledger verify'")
        keys = frontier_nodes(size)
        hashes = self.tree.node_hashes(keys)
        self._frontier = Frontier(size, [hashes[key] for key in keys])

    def _caught_up(self, cached: Frontier, size: int) -> Frontier:
        """``cached`` brought to ``size`` from the few entries other processes appended since:
        their stored nodes only (the tail of ``tree_nodes``), each parent recomputed from the
        leaves and compared with the stored one. Cheaper than reading the frontier's nodes,
        which lie all over the table, while another worker holds the write lock waiting."""
        first = node_count(cached.size)
        rows = self.store.nodes_from(first)
        stored = [node for _, node in rows]
        if len(stored) != node_count(size) - first or (rows and rows[-1][0] != first
                                                       + len(stored) - 1):
            raise LedgerIntegrityError(
                f"the ledger holds {size} entries but its tree does not match that size;"
                " run 'vrmvault ledger verify'")
        frontier = cached.copy()
        at = 0
        for seq in range(cached.size, size):
            for completed in frontier.append(stored[at]):
                if not hmac.compare_digest(completed, stored[at]):
                    raise LedgerIntegrityError(
                        f"the stored tree node at position {first + at} does not match the"
                        f" entries before it (entry {seq}); run 'vrmvault ledger verify'",
                        seq=seq)
                at += 1
        return frontier

    def _append(self, events: Sequence[Event]) -> list[LedgerEntry]:
        if self._frontier is None:
            self._sync()
        assert self._frontier is not None
        frontier = self._frontier.copy()           # adopted only once the rows are written
        now = self._clock()
        now_time = utc_time(now)
        entries, entry_rows, node_rows = [], [], []
        search_rows: list[SearchRow] = []
        for event in events:
            if event.at is None:
                time, read_at = now_time, int(now)
            else:
                time, read_at = utc_time(event.at), int(event.at)
            seq = frontier.size
            body = canonical_body(seq, time, event)
            leaf = hashlib.sha256(b"\x00" + body).digest()
            first = 2 * seq - seq.bit_count()       # merkle.node_position(0, seq)
            for offset, completed in enumerate(frontier.append(leaf)):
                node_rows.append((first + offset, completed))
            entry_rows.append((seq, body))
            search_rows.append(search_row(seq, read_at, event))
            entries.append(LedgerEntry(seq, time, EventTag(event.tag), event.actor,
                                       event.details, body, leaf))
        self.store.append(entry_rows, node_rows, search_rows)
        self._frontier = frontier
        return entries

    def _after_write(self) -> None:
        if self._depth or not self.checkpoint_every or self._frontier is None:
            return
        # The size last signed only grows, so a remembered one can only make a checkpoint look
        # due early, never late: look at the store only then (another process may have signed).
        if self._frontier.size - (self._last_checkpoint_size or 0) >= self.checkpoint_every:
            self._last_checkpoint_size = self.store.latest_checkpoint_size()
            if self._frontier.size - (self._last_checkpoint_size or 0) >= self.checkpoint_every:
                self.checkpoint()

    def _sign_checkpoint(self) -> Checkpoint:
        if self._frontier is None:
            self._sync()
        assert self._frontier is not None
        size = self._frontier.size
        root = self.root(size)
        if not hmac.compare_digest(root, self._frontier.root()):
            raise InconsistentCheckpointError(
                f"refusing to sign: the stored root at size {size} is not the root built while"
                " appending; run 'vrmvault ledger verify'")
        last = self.latest_checkpoint()
        if last is not None:
            if size < last.tree_size:
                raise InconsistentCheckpointError(
                    f"refusing to sign: the ledger holds {size} entries, fewer than the"
                    f" {last.tree_size} of its last checkpoint")
            proof = self.consistency_proof(last.tree_size, size)
            if not verify_consistency(last.tree_size, size, proof, last.root_hash, root):
                raise InconsistentCheckpointError(
                    f"refusing to sign: the tree of {size} entries does not extend the"
                    f" checkpoint signed at {last.tree_size}; run 'vrmvault ledger verify'")
            if size == last.tree_size:
                return last                          # the same tree: nothing new to sign
        signed_at = utc_time(self._clock())
        note = self._signer.sign(CheckpointBody(self.origin, size, root).text())
        checkpoint = Checkpoint(size, root, signed_at, note)
        self.store.add_checkpoint(checkpoint)
        self._last_checkpoint_size = size
        self._append([Event.of(CheckpointSigned(tree_size=size, root_hash=b64encode(root)),
                               SYSTEM_ACTOR)])
        return checkpoint

