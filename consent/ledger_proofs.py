"""The ledger's Merkle tree as stored: roots and RFC 9162 proofs, and the checked entry proof.

``tree_nodes`` holds the hash of every perfect subtree (leaves included), numbered in post-order
(:func:`consent.merkle.node_position`), so any root or proof comes from O(log n) stored hashes.

Invariants:
- Read only: nothing here writes; the ledger appends, :mod:`consent.ledger_verification`
  rebuilds.
- A size or index outside the stored tree is refused with ProofRequestError; a node the size
  implies but the store lacks is LedgerIntegrityError, never a wrong proof.
- What is read is trusted as stored: an :class:`EntryProof` is checked with the third-party
  verifier before it is handed out, and only :meth:`consent.ledger.Ledger.verify` trusts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .checkpoints import b64encode
from .errors import LedgerIntegrityError, ProofRequestError
from .events import LedgerEntry
from .merkle import (
    EMPTY_ROOT,
    NodeKey,
    Range,
    consistency_ranges,
    fold,
    inclusion_ranges,
    node_position,
    subtree_nodes,
)

if TYPE_CHECKING:
    from .repositories import LedgerRepository


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: bytes
    signed_at: str
    note: str


@dataclass(frozen=True)
class EntryProof:
    """Everything a third party needs to check one entry against a signed checkpoint."""

    entry: LedgerEntry
    tree_size: int
    root_hash: bytes
    proof: list[bytes]
    checkpoint: Checkpoint
    verifier_key: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.entry.seq,
            "entry": self.entry.body.decode("utf-8"),
            "leaf_hash": b64encode(self.entry.leaf_hash),
            "tree_size": self.tree_size,
            "root_hash": b64encode(self.root_hash),
            "inclusion_proof": [b64encode(h) for h in self.proof],
            "checkpoint": self.checkpoint.note,
            "verifier_key": self.verifier_key,
        }


class StoredTree:
    """The tree over the entries of one open ledger store."""

    def __init__(self, store: LedgerRepository) -> None:
        self.store = store

    @property
    def size(self) -> int:
        """How many entries the ledger holds (= the next seq)."""
        return self.store.size()

    def root(self, tree_size: int | None = None) -> bytes:
        """The RFC 9162 root of the first ``tree_size`` entries (default: all), from O(log n)
        stored subtree hashes."""
        tree_size = self.size if tree_size is None else self.check_size(tree_size)
        return self.range_hashes([(0, tree_size)])[0] if tree_size else EMPTY_ROOT

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        """``PATH(index, D[tree_size])``, RFC 9162 section 2.1.3.1."""
        self.check_size(tree_size)
        if not isinstance(index, int) or not 0 <= index < tree_size:
            raise ProofRequestError(f"no entry {index} in a tree of {tree_size} entries")
        return self.range_hashes(inclusion_ranges(index, tree_size))

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """``PROOF(size1, D[size2])``, RFC 9162 section 2.1.4.1 (empty when ``size1`` is 0 or
        equals ``size2``)."""
        self.check_size(size2)
        if not isinstance(size1, int) or not 0 <= size1 <= size2:
            raise ProofRequestError(f"no consistency proof from size {size1} to {size2}")
        return self.range_hashes(consistency_ranges(size1, size2))

    def check_size(self, tree_size: int) -> int:
        if not isinstance(tree_size, int) or not 0 <= tree_size <= self.size:
            raise ProofRequestError(
                f"no tree of size {tree_size}: the ledger holds {self.size} entries")
        return tree_size

    def node_hashes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        wanted = {node_position(level, index): (level, index) for level, index in keys}
        if not wanted:
            return {}
        found = {wanted[position]: node
                 for position, node in self.store.nodes_at(list(wanted)).items()}
        for level, index in wanted.values():
            if (level, index) not in found:
                raise LedgerIntegrityError(
                    f"the stored tree lacks the node over entries {index << level} to"
                    f" {((index + 1) << level) - 1}; run 'vrmvault ledger verify'",
                    seq=index << level)
        return found

    def range_hashes(self, ranges: Sequence[Range]) -> list[bytes]:
        """``MTH(D[start:end])`` of each range, reading every stored subtree once."""
        plans = [subtree_nodes(start, end) for start, end in ranges]
        hashes = self.node_hashes({key for plan in plans for key in plan})
        return [fold([hashes[key] for key in plan]) for plan in plans]
