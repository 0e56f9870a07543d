"""Exporting a filtered set of ledger entries, each with its inclusion proof against one named,
signed checkpoint, as CSV or JSON that a third party checks with RFC 9162 and the signed note.

What an export holds (``FORMAT``): the checkpoint (origin, tree size, root hash, time, the C2SP
signed note) and the log's verifier key, the filters, then per entry its ``seq``, what it was
found under, its body exactly as stored and hashed (``SHA-256(0x00 || body)`` is the leaf
hash), and ``PATH(seq, D[tree_size])`` (RFC 9162 section 2.1.3.1), standard base64. Last, how
many matching entries it leaves out because the checkpoint does not cover them.

Which checkpoint: the caller signs one first when the ledger has grown since the last
(:meth:`Ledger.checkpoint`, which signs nothing when nothing was appended), so every entry
present when the export started is covered. The checkpoint's own ``ledger:checkpoint:signed``
record, and whatever is appended while the export runs, come after it: such entries are left
out and counted, never exported without a proof.

Invariants:
- Streamed: entries are read from the search index a batch at a time, and their proofs built a
  batch at a time (:class:`ProofBatches`), so memory follows the batch, not the export.
- Every proof is built from the stored tree's nodes, read once per batch (a node shared by
  several paths is read once), the nodes over large subtrees kept for the whole export; the
  caller's tests check proofs with an independent verifier. Nothing personal: entries hold
  pseudonyms and digests only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .checkpoints import b64encode
from .errors import LedgerIntegrityError, ProofRequestError
from .ledger_search import LedgerQuery, LedgerSearch, SearchHit
from .merkle import NodeKey, fold, node_position, subtree_nodes

if TYPE_CHECKING:
    from .ledger import Ledger
    from .ledger_proofs import Checkpoint, StoredTree

FORMAT = "vrmvault-ledger-export/1"
FORMATS = ("csv", "json")
BATCH = 1000
# Nodes over this many leaves or more are shared by many paths: kept for the whole export.
SHARED_LEVEL = 8
_NODES_PER_READ = 900            # positions per IN (...) read, under SQLite's variable limit

CSV_COLUMNS = ("record", "seq", "time", "tag", "brand", "principal", "purposes", "entry",
               "leaf_hash", "tree_size", "root_hash", "inclusion_proof", "note",
               "verifier_key")


def open_export(ledger: Ledger, query: LedgerQuery, *, batch: int = BATCH) -> LedgerExport:
    """An export of ``query`` against the latest checkpoint, signed first if entries other
    than the last checkpoint's own record were appended since (see the module docstring)."""
    if ledger.search_index is None:
        raise ProofRequestError("this ledger was opened without its search index")
    if ledger.size == 0:
        raise ProofRequestError("the ledger holds no entries yet: there is nothing to export")
    last = ledger.latest_checkpoint()
    if last is None or ledger.size > last.tree_size + 1:
        last = ledger.checkpoint()
    # Exports never hand out cursors: the search's cursor key is not used.
    search = LedgerSearch(ledger.search_index, b"")
    return LedgerExport(search, ledger.tree, last, ledger.verifier_key, query, batch=batch)


class ProofBatches:
    """Inclusion proofs against one tree size, many at a time, from the stored tree.

    The path of leaf ``i`` in a tree of ``n`` (RFC 9162 sec. 2.1.3.1, bottom up) is: the
    siblings of ``i``'s ancestors at the levels below ``k = bit_length(i ^ (n - 1))`` (all of
    them perfect stored subtrees but the one at level ``k - 1``, which may reach past ``n``:
    then it is the range up to ``n``, on the tree's right edge, folded once per export), then
    for each set bit of ``i >> k`` the left sibling at that level. A test holds this equal to
    :func:`consent.merkle.inclusion_ranges`.
    """

    def __init__(self, tree: StoredTree, tree_size: int) -> None:
        self.tree = tree
        self.tree_size = tree_size
        self._shared: dict[NodeKey, bytes] = {}
        self._edges: dict[tuple[int, int], bytes] = {}     # the tree's right edge, folded

    def plan(self, seq: int) -> list[NodeKey | tuple[int, int, None]]:
        """The stored nodes (``(level, index)``) and edge ranges (``(start, end, None)``) of
        ``PATH(seq, D[tree_size])``, in proof order."""
        size = self.tree_size
        if not 0 <= seq < size:
            raise ProofRequestError(f"no entry {seq} in a tree of {size} entries")
        inner = (seq ^ (size - 1)).bit_length()
        steps: list[NodeKey | tuple[int, int, None]] = [
            (level, (seq >> level) ^ 1) for level in range(inner - 1)]
        if inner:
            top = inner - 1
            start = ((seq >> top) ^ 1) << top
            if start + (1 << top) <= size:
                steps.append((top, start >> top))
            else:
                steps.append((start, size, None))
        index, level = seq >> inner, inner
        while index:
            if index & 1:
                steps.append((level, index ^ 1))
            index >>= 1
            level += 1
        return steps

    def proofs(self, seqs: Sequence[int]) -> dict[int, list[bytes]]:
        """``PATH(seq, D[tree_size])`` of each seq (all below the tree size)."""
        plans = {seq: self.plan(seq) for seq in seqs}
        found = self._nodes(plans)
        return {seq: [found[step] for step in plan] for seq, plan in plans.items()}

    def encoded(self, seqs: Sequence[int]) -> dict[int, list[str]]:
        """:meth:`proofs` as standard base64, each distinct hash encoded once."""
        plans = {seq: self.plan(seq) for seq in seqs}
        found = self._nodes(plans)
        text = {step: b64encode(node) for step, node in found.items()}
        return {seq: [text[step] for step in plan] for seq, plan in plans.items()}

    def _nodes(self, plans: dict[int, list[Any]]) -> dict[Any, bytes]:
        """Every step of ``plans`` with its hash: stored nodes read once per batch (those
        over large subtrees kept for the export), edge ranges folded once per export."""
        steps = {step for plan in plans.values() for step in plan}
        shared = self._shared
        wanted = [s for s in steps if len(s) == 2 and s not in shared]
        for step in steps:
            if len(step) == 3 and step[:2] not in self._edges:
                keys = subtree_nodes(step[0], step[1])
                hashes = self._read(keys)
                self._edges[step[:2]] = fold([hashes[key] for key in keys])
        found: dict[Any, bytes] = self._read(wanted)
        for step in steps:
            if len(step) == 3:
                found[step] = self._edges[step[:2]]
            elif step in shared:
                found[step] = shared[step]
        return found

    def _read(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        by_position = {node_position(level, index): (level, index) for level, index in keys}
        positions = sorted(by_position)
        found: dict[NodeKey, bytes] = {}
        for first in range(0, len(positions), _NODES_PER_READ):
            chunk = positions[first:first + _NODES_PER_READ]
            for position, node in self.tree.store.nodes_at(chunk).items():
                found[by_position[position]] = node
        if len(found) != len(by_position):
            level, index = next(k for k in by_position.values() if k not in found)
            raise LedgerIntegrityError(
                f"the stored tree lacks the node over entries {index << level} to"
                f" {((index + 1) << level) - 1}; run 'vrmvault ledger verify'",
                seq=index << level)
        for key, node in found.items():
            if key[0] >= SHARED_LEVEL:
                self._shared[key] = node
        return found


@dataclass(frozen=True)
class ExportedEntry:
    hit: SearchHit
    proof: list[str]                 # the audit path's hashes, standard base64

    @property
    def time(self) -> str:
        """The entry's time as its body holds it (canonical JSON: ``time`` is the last key)."""
        body = self.hit.body
        head, found, tail = body.rpartition(b'"time":"')
        if found and tail.endswith(b'"}'):
            return tail[:-2].decode("utf-8")
        return str(json.loads(body)["time"])

    def as_json(self) -> dict[str, Any]:
        row = self.hit.row
        return {"seq": row.seq, "time": self.time, "tag": row.tag,
                "brand": row.brand, "principal": row.principal, "purposes": list(row.purposes),
                "entry": self.hit.body.decode("utf-8"),
                "leaf_hash": b64encode(_leaf(self.hit.body)),
                "inclusion_proof": self.proof}


def _leaf(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


class LedgerExport:
    """One export of the entries matching ``query``, against ``checkpoint``."""

    def __init__(self, search: LedgerSearch, tree: StoredTree, checkpoint: Checkpoint,
                 verifier_key: str, query: LedgerQuery, *, batch: int = BATCH) -> None:
        self.search = search
        self.checkpoint = checkpoint
        self.verifier_key = verifier_key
        self.query = query
        self.batch = batch
        self.left_out = 0
        self._proofs = ProofBatches(tree, checkpoint.tree_size)

    def entries(self, progress: Callable[[int], None] | None = None
                ) -> Iterator[ExportedEntry]:
        """The covered entries, newest first, with their proofs; ``progress(n)`` after each
        batch with the number of matching entries gone through (left out ones included)."""
        size = self.checkpoint.tree_size
        pending: list[SearchHit] = []
        done = 0
        for hit in self.search.all(self.query, batch=self.batch):
            done += 1
            if hit.row.seq >= size:
                self.left_out += 1
            else:
                pending.append(hit)
            if len(pending) >= self.batch:
                yield from self._proved(pending)
                pending = []
                if progress is not None:
                    progress(done)
        yield from self._proved(pending)
        if progress is not None:
            progress(done)

    def _proved(self, hits: list[SearchHit]) -> Iterator[ExportedEntry]:
        proofs = self._proofs.encoded([hit.row.seq for hit in hits])
        for hit in hits:
            yield ExportedEntry(hit, proofs[hit.row.seq])

    def header(self) -> dict[str, Any]:
        checkpoint = self.checkpoint
        return {
            "format": FORMAT,
            "checkpoint": {"origin": checkpoint.note.split("\n", 1)[0],
                           "tree_size": checkpoint.tree_size,
                           "root_hash": b64encode(checkpoint.root_hash),
                           "signed_at": checkpoint.signed_at,
                           "note": checkpoint.note},
            "verifier_key": self.verifier_key,
            "filters": filters_json(self.query),
        }

    def left_out_note(self) -> str:
        return (f"{self.left_out} matching entr{'y' if self.left_out == 1 else 'ies'} appended"
                f" after the checkpoint of {self.checkpoint.tree_size} entries"
                f" {'is' if self.left_out == 1 else 'are'} not in this export")

    # -- writers ---------------------------------------------------------------------------
    def json_chunks(self, progress: Callable[[int], None] | None = None) -> Iterator[str]:
        """The export as one JSON object, in chunks of about a batch each."""
        head = json.dumps(self.header(), ensure_ascii=False)
        yield head[:-1] + ',"entries":['
        first = True
        buffer: list[str] = []
        for exported in self.entries(progress):
            buffer.append(("" if first else ",") + json.dumps(exported.as_json(),
                                                                ensure_ascii=False))
            first = False
            if len(buffer) >= self.batch:
                yield "".join(buffer)
                buffer = []
        yield "".join(buffer)
        yield (f'],"left_out":{{"entries":{self.left_out},'
               f'"reason":{json.dumps(self.left_out_note())}}}}}\n')

    def csv_chunks(self, progress: Callable[[int], None] | None = None) -> Iterator[str]:
        """The export as CSV (RFC 4180): a ``checkpoint`` row, an ``entry`` row per entry (the
        proof's hashes separated by spaces), a ``left_out`` row last."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        checkpoint = self.checkpoint
        writer.writerow(CSV_COLUMNS)
        writer.writerow(_csv_row(record="checkpoint", tree_size=checkpoint.tree_size,
                                 root_hash=b64encode(checkpoint.root_hash),
                                 time=checkpoint.signed_at, note=checkpoint.note,
                                 verifier_key=self.verifier_key))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        lines: list[str] = []
        size = str(checkpoint.tree_size)
        for exported in self.entries(progress):
            row = exported.hit.row
            # One line per entry written here, as csv.writer would (a test holds them equal):
            # the column order of CSV_COLUMNS, quoted only where RFC 4180 needs it.
            lines.append(",".join((
                "entry", str(row.seq), _cell(exported.time), _cell(row.tag),
                _cell(row.brand or ""), _cell(row.principal or ""),
                _cell(" ".join(row.purposes)), _cell(exported.hit.body.decode("utf-8")),
                b64encode(_leaf(exported.hit.body)), size, "", " ".join(exported.proof),
                "", "")) + "\r\n")
            if len(lines) >= self.batch:
                yield "".join(lines)
                lines = []
        yield "".join(lines)
        writer.writerow(_csv_row(record="left_out", seq=self.left_out,
                                 note=self.left_out_note()))
        yield out.getvalue()

    def chunks(self, form: str, progress: Callable[[int], None] | None = None
               ) -> Iterator[str]:
        if form not in FORMATS:
            raise ValueError(f"an export is {' or '.join(FORMATS)}")
        return self.csv_chunks(progress) if form == "csv" else self.json_chunks(progress)


def _cell(value: str) -> str:
    """One CSV field as csv.writer's QUOTE_MINIMAL writes it (RFC 4180)."""
    if '"' in value or "," in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_row(**values: Any) -> list[Any]:
    return [values.get(column, "") for column in CSV_COLUMNS]


def filters_json(query: LedgerQuery) -> dict[str, Any]:
    return {"brand": query.brand, "purpose": query.purpose, "tags": list(query.tags),
            "principal": query.principal, "since": query.since, "until": query.until}
