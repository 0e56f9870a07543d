"""RFC 9162 Merkle trees: hashes, proofs, their verification, and how the ledger stores a tree.

The hashes are those of RFC 9162 section 2.1.1 with SHA-256: a leaf is ``SHA-256(0x00 || leaf)``,
an interior node ``SHA-256(0x01 || left || right)``, and the empty tree ``SHA-256()``; a tree of
``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``.

Two halves, kept apart on purpose:

- :func:`verify_inclusion` and :func:`verify_consistency` are what a third party runs. They follow
  RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step, take only hashes and sizes, and never touch
  a store.
- The rest serves the ledger, which stores the hash of every *perfect* subtree (``2**level``
  leaves starting at a multiple of ``2**level``) as soon as it is complete, so that a root at any
  size and any proof are a fold of O(log n) stored hashes instead of a recomputation.
  :class:`Frontier` appends leaves and says which perfect subtrees each append completes (one on
  average, besides the leaf); :func:`inclusion_ranges`, :func:`consistency_ranges` and
  :func:`subtree_nodes` say which stored subtrees a proof (RFC 9162 sections 2.1.3.1 and 2.1.4.1)
  is made of.

Storage layout: perfect subtrees are numbered in the order appends complete them (post-order),
see :func:`node_position`. Appending leaf ``i`` writes positions ``2i - popcount(i)`` onwards, so
a tree of ``n`` leaves holds exactly ``2n - popcount(n)`` node hashes at positions ``0 ..``, with
no gap, and a verifier can read them in one ordered pass.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()       # RFC 9162 2.1.1: MTH({}) = HASH()

NodeKey = tuple[int, int]                       # (level, index): leaves index*2**level onwards
Range = tuple[int, int]                         # leaves [start, end)

_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    """``MTH({d(0)}) = SHA-256(0x00 || d(0))`` (RFC 9162 2.1.1)."""
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)`` (RFC 9162 2.1.1)."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """``k``, the largest power of two smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise ValueError("only a tree of two leaves or more has a split point")
    return 1 << ((n - 1).bit_length() - 1)


# -- verification (what a third party runs; no store) ------------------------------------------
def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf ``leaf_hash`` at ``index`` in the tree ``root`` of size
    ``tree_size``: RFC 9162 section 2.1.3.2, step by step."""
    if not _all_hashes(leaf_hash, root, *proof):
        return False
    # 1. leaf_index must be smaller than tree_size.
    if not 0 <= index < tree_size:
        return False
    # 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
    fn, sn = index, tree_size - 1
    r = leaf_hash
    # 4. For each value p in the inclusion_path array:
    for p in proof:
        # a. If sn is 0, the proof is too long.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or fn equals sn: r = HASH(0x01 || p || r), then, if LSB(fn) is
        #    not set, shift fn and sn right until LSB(fn) is set or fn is 0.
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        # Otherwise r = HASH(0x01 || r || p).
        else:
            r = node_hash(r, p)
        # c. Shift fn and sn right once.
        fn >>= 1
        sn >>= 1
    # 5. sn must be 0 and r must be the root.
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """Whether ``proof`` shows the tree ``root2`` of size ``size2`` extends the tree ``root1`` of
    size ``size1``: RFC 9162 section 2.1.4.2 for ``0 < size1 < size2``.

    The RFC's algorithm covers ``0 < first < second``; the two edges outside it follow from the
    definitions: equal sizes are consistent only with the same root and an empty proof, and the
    empty tree is a prefix of every tree (with an empty proof).
    """
    if not _all_hashes(root1, root2, *proof) or not 0 <= size1 <= size2:
        return False
    if size1 == size2:
        return not proof and hmac.compare_digest(root1, root2)
    if size1 == 0:
        return not proof
    # 1. An empty consistency_path fails.
    if not proof:
        return False
    path = list(proof)
    # 2. If first is an exact power of 2, prepend first_hash to the path.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = size1 - 1, size2 - 1
    # 4. While LSB(fn) is set, shift fn and sn right.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value of the path.
    fr = sr = path[0]
    # 6. For each subsequent value c of the path:
    for c in path[1:]:
        # a. If sn is 0, the proof is too long.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or fn equals sn: fr = HASH(0x01 || c || fr),
        #    sr = HASH(0x01 || c || sr), then, if LSB(fn) is not set, shift fn and sn right
        #    until LSB(fn) is set or fn is 0.
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        # Otherwise sr = HASH(0x01 || sr || c).
        else:
            sr = node_hash(sr, c)
        # c. Shift fn and sn right once.
        fn >>= 1
        sn >>= 1
    # 7. fr must be first_hash, sr second_hash, and sn 0.
    return sn == 0 and hmac.compare_digest(fr, root1) and hmac.compare_digest(sr, root2)


def _all_hashes(*values: object) -> bool:
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)


# -- the stored layout -------------------------------------------------------------------------
def node_position(level: int, index: int) -> int:
    """Where the perfect subtree ``(level, index)`` is stored: its post-order number.

    The subtree is completed by the append that brings the tree to ``c = (index + 1) * 2**level``
    leaves; before that append the tree held ``2(c-1) - popcount(c-1)`` nodes, and that append
    writes the leaf first, then one node per level up to ``level``.
    """
    before = ((index + 1) << level) - 1
    return 2 * before - before.bit_count() + level


def node_count(tree_size: int) -> int:
    """How many perfect subtrees (leaves included) a tree of ``tree_size`` leaves stores."""
    return 2 * tree_size - tree_size.bit_count()


def frontier_nodes(tree_size: int) -> list[NodeKey]:
    """The perfect subtrees that make up leaves ``[0, tree_size)``, left to right: one per set
    bit of ``tree_size``, largest first. Their right fold is the root."""
    keys = []
    start = 0
    for level in range(tree_size.bit_length() - 1, -1, -1):
        if tree_size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def subtree_nodes(start: int, end: int) -> list[NodeKey]:
    """The stored subtrees whose right fold is ``MTH(D[start:end])``.

    Every range RFC 9162's recursion asks for (the whole tree, and each ``D[k:n]`` below it) starts
    at a multiple of its own split point, so its left part is always one stored perfect subtree
    and its right part a smaller range of the same kind.
    """
    keys: list[NodeKey] = []
    while True:
        size = end - start
        if size <= 0:
            raise ValueError(f"empty range [{start}, {end})")
        if size & (size - 1) == 0 and start % size == 0:
            level = size.bit_length() - 1
            keys.append((level, start >> level))
            return keys
        k = split_point(size)
        if start % k:
            raise ValueError(f"[{start}, {end}) is not a range of the RFC 9162 recursion")
        level = k.bit_length() - 1
        keys.append((level, start >> level))
        start += k


def inclusion_ranges(index: int, tree_size: int) -> list[Range]:
    """The ranges whose hashes form ``PATH(index, D[tree_size])`` (RFC 9162 2.1.3.1), in proof
    order: the leaf's sibling first, the root's other child last."""
    if not 0 <= index < tree_size:
        raise ValueError(f"no leaf {index} in a tree of {tree_size}")
    ranges: list[Range] = []
    start, end = 0, tree_size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:       # PATH(m, D[0:k]) : MTH(D[k:n])
            ranges.append((start + k, end))
            end = start + k
        else:                       # PATH(m - k, D[k:n]) : MTH(D[0:k])
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[Range]:
    """The ranges whose hashes form ``PROOF(size1, D[size2])`` (RFC 9162 2.1.4.1), in proof
    order. Empty for ``size1`` 0 or equal to ``size2`` (nothing to prove)."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from {size1} to {size2}")
    if size1 == 0:
        return []
    ranges: list[Range] = []
    start, end, m, whole = 0, size2, size1, True  # SUBPROOF(m, D[n], b), b = whole
    while True:
        n = end - start
        if m == n:
            if not whole:           # SUBPROOF(m, D[m], false) = {MTH(D[m])}
                ranges.append((start, end))
            break
        k = split_point(n)
        if m <= k:                  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            ranges.append((start + k, end))
            end = start + k
        else:                       # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            ranges.append((start, start + k))
            start += k
            m -= k
            whole = False
    ranges.reverse()
    return ranges


def fold(hashes: Sequence[bytes]) -> bytes:
    """The right fold ``H(h0, H(h1, ... H(hn-2, hn-1)))``: the root of adjacent perfect subtrees
    listed left to right, largest first."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


class Frontier:
    """The hashes of the perfect subtrees covering leaves ``[0, size)`` (a compact range).

    Enough to append (each append merges the new leaf with the subtrees it completes) and to give
    the current root, without reading the tree back.
    """

    __slots__ = ("size", "_hashes")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError("a frontier has one hash per set bit of its size")
        self.size = size
        self._hashes = list(hashes)

    def copy(self) -> Frontier:
        return Frontier(self.size, self._hashes)

    def append(self, leaf: bytes) -> list[bytes]:
        """Append the leaf hash ``leaf``; return the hashes this completes, in stored order:
        the leaf, then one parent per trailing one bit of the old size."""
        completed = [leaf]
        merged = leaf
        size = self.size
        hashes = self._hashes
        while size & 1:
            merged = _sha256(b"\x01" + hashes.pop() + merged).digest()
            completed.append(merged)
            size >>= 1
        hashes.append(merged)
        self.size += 1
        return completed

    def root(self) -> bytes:
        return fold(self._hashes)
