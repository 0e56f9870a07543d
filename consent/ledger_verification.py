"""Verifying the whole ledger, trusting nothing stored (``vrmvault ledger verify``).

One pass over the entries and the tree in lockstep: every body re-hashed, every stored node
recomputed from the leaves, every checkpoint's signature checked and its root compared with the
tree rebuilt so far, and consecutive checkpoints checked for consistency (RFC 9162 sec. 2.1.4).

Invariants:
- Read only, inside one read transaction (the caller's, or :meth:`consent.ledger.Ledger.verify`'s),
  so concurrent appends are not half-seen.
- It stops at the first problem and names the first entry it cannot vouch for; a report is
  never ``ok`` unless every entry, node and checkpoint was checked.
- Memory stays O(log n): the tree is rebuilt through a frontier, nodes are streamed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .checkpoints import Ed25519NoteVerifier, b64encode
from .errors import LedgerDamageError, LedgerIntegrityError, NoteVerificationError
from .merkle import Frontier, verify_consistency

if TYPE_CHECKING:
    from .ledger import Ledger
    from .ledger_proofs import Checkpoint

PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class VerifyReport:
    """What :meth:`Ledger.verify` found: counts and root, or the first problem and where."""

    entries: int
    checkpoints: int
    root_hash: bytes
    bad_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.ok:
            return (f"OK: {self.entries} entries, {self.checkpoints} checkpoints, "
                    f"root {b64encode(self.root_hash)}")
        where = "" if self.bad_seq is None else f" at seq {self.bad_seq}"
        return f"ledger damaged{where}: {self.problem}"

    def raise_for_problem(self) -> None:
        if not self.ok:
            raise LedgerIntegrityError(self.summary(), seq=self.bad_seq)


class LedgerVerification:
    """One pass over the entries and the tree, in lockstep, stopping at the first problem."""

    def __init__(self, ledger: Ledger, progress: Callable[[int], None] | None) -> None:
        self.ledger = ledger
        self.progress = progress
        self.checkpoints = ledger.checkpoints()
        self.frontier = Frontier()
        self._verifiers: dict[str, Ed25519NoteVerifier] = {}

    def run(self) -> VerifyReport:
        try:
            self._entries_and_tree()
            self._checkpoints_consistent()
        except LedgerDamageError as damage:
            return VerifyReport(self.frontier.size, len(self.checkpoints), self.frontier.root(),
                                damage.seq, damage.problem)
        return VerifyReport(self.frontier.size, len(self.checkpoints), self.frontier.root())

    def _entries_and_tree(self) -> None:
        store = self.ledger.store
        nodes = store.nodes()
        pending = iter(self.checkpoints)
        checkpoint = next(pending, None)
        signed_size = 0                 # the largest checkpoint size found sound so far
        while checkpoint is not None and checkpoint.tree_size == 0:
            signed_size = self._check_checkpoint(checkpoint, signed_size)
            checkpoint = next(pending, None)
        frontier = self.frontier
        # Bound once: this loop runs a million times. Decoding the UTF-8 ourselves skips
        # json.loads' encoding detection (a third of its cost on bytes).
        sha256, decode = hashlib.sha256, json.JSONDecoder().decode
        position = 0
        expected = 0
        for seq, body in store.entries():
            if seq != expected:
                if seq > expected:
                    raise LedgerDamageError(
                        expected, f"entry {expected} is missing (the next stored entry"
                                  f" is {seq})")
                raise LedgerDamageError(seq, f"an entry numbered {seq} precedes entry {expected}")
            body = bytes(body)
            try:
                claimed = decode(body.decode("utf-8"))["seq"]
            except (ValueError, TypeError, KeyError) as exc:
                raise LedgerDamageError(
                    seq, "its body is not a ledger entry (not JSON with a seq)") from exc
            if claimed != seq:
                raise LedgerDamageError(
                    seq, f"its body says seq {claimed}: entries were removed,"
                         " reordered or inserted")
            for level, computed in enumerate(frontier.append(sha256(b"\x00" + body).digest())):
                row = next(nodes, None)
                if row is None or row[0] != position:
                    raise LedgerDamageError(
                        seq, f"the stored tree has no node at position {position}")
                if row[1] != computed:
                    if level == 0:
                        raise LedgerDamageError(seq, "its body does not match its stored leaf hash")
                    first = seq + 1 - (1 << level)
                    raise LedgerDamageError(
                        first, f"the stored tree node over entries {first} to {seq}"
                               " does not match them")
                position += 1
            expected += 1
            while checkpoint is not None and checkpoint.tree_size == expected:
                signed_size = self._check_checkpoint(checkpoint, signed_size)
                checkpoint = next(pending, None)
            if self.progress is not None and expected % PROGRESS_EVERY == 0:
                self.progress(expected)
        if self.progress is not None:
            self.progress(expected)
        if next(nodes, None) is not None:
            raise LedgerDamageError(
                expected, f"entry {expected} is missing: the tree holds nodes beyond"
                          " the last entry")
        if checkpoint is not None:
            raise LedgerDamageError(
                expected, f"entry {expected} is missing: a checkpoint was signed at"
                          f" size {checkpoint.tree_size}")

    def _check_checkpoint(self, checkpoint: Checkpoint, signed_size: int) -> int:
        size = checkpoint.tree_size
        name = checkpoint.note.split("\n", 1)[0]
        try:
            verifier = self._verifiers.get(name) or Ed25519NoteVerifier(
                name, self.ledger.public_key)
            self._verifiers[name] = verifier
            body = verifier.open_checkpoint(checkpoint.note)
        except (NoteVerificationError, ValueError) as exc:
            message = exc.message if isinstance(exc, NoteVerificationError) else str(exc)
            raise LedgerDamageError(
                None, f"the checkpoint at size {size} does not verify: {message}") from exc
        if body.tree_size != size or body.root_hash != checkpoint.root_hash:
            raise LedgerDamageError(
                None, f"the checkpoint at size {size} is stored with a size or root"
                      " its signed note does not have")
        if not hmac.compare_digest(self.frontier.root(), body.root_hash):
            raise LedgerDamageError(
                signed_size, f"entries 0 to {size - 1} do not match the checkpoint"
                             f" signed at size {size} (the first difference is at or"
                             f" after seq {signed_size})")
        return size

    def _checkpoints_consistent(self) -> None:
        for older, newer in zip(self.checkpoints, self.checkpoints[1:], strict=False):
            proof = self.ledger.consistency_proof(older.tree_size, newer.tree_size)
            if not verify_consistency(older.tree_size, newer.tree_size, proof, older.root_hash,
                                      newer.root_hash):
                raise LedgerDamageError(
                    older.tree_size, f"the checkpoints at sizes {older.tree_size} and"
                                     f" {newer.tree_size} are not consistent")
