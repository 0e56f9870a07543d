"""consent.merkle: RFC 9162 hashes, proofs and their verification, against known answers, the
RFC 6962 / 9162 test vectors and an independent recursive implementation."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent import merkle
from consent.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_ranges,
    fold,
    inclusion_ranges,
    leaf_hash,
    node_count,
    node_hash,
    node_position,
    subtree_nodes,
    verify_consistency,
    verify_inclusion,
)

from .conftest import reference_leaf, reference_mth, reference_path, reference_proof

H = bytes.fromhex

# The leaves and hashes of the certificate-transparency / transparency-dev Merkle test vectors
# (RFC 6962 test data, reused for RFC 9162 v2 which hashes trees the same way).
VECTOR_LEAVES = [H(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                "606162636465666768696a6b6c6d6e6f")]
VECTOR_ROOTS = [H(x) for x in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
VECTOR_INCLUSION = [          # (index, tree size, proof)
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
VECTOR_CONSISTENCY = [        # (size1, size2, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


class MemoryTree:
    """The ledger's storage scheme, in a dict: what Frontier.append completes, at node_position."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.frontier = Frontier()
        self.nodes: dict[int, bytes] = {}
        for leaf in leaves:
            first = node_count(self.frontier.size)
            for offset, completed in enumerate(self.frontier.append(leaf_hash(leaf))):
                self.nodes[first + offset] = completed

    def mth(self, start: int, end: int) -> bytes:
        return fold([self.nodes[node_position(level, index)]
                     for level, index in subtree_nodes(start, end)])

    def root(self, size: int) -> bytes:
        return self.mth(0, size) if size else EMPTY_ROOT

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return [self.mth(a, b) for a, b in inclusion_ranges(index, size)]

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        return [self.mth(a, b) for a, b in consistency_ranges(size1, size2)]


def data(count: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(count)]


# -- known answers ----------------------------------------------------------------------------
def test_the_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == VECTOR_ROOTS[0]
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert Frontier().root() == EMPTY_ROOT


@pytest.mark.parametrize("leaf", [b"", b"\x00", b"L123456", bytes(range(256))])
def test_leaf_hash_is_sha256_of_0x00_and_the_leaf(leaf: bytes) -> None:
    expected = hashlib.sha256()
    expected.update(bytes([0]))
    expected.update(leaf)
    assert leaf_hash(leaf) == expected.digest()


def test_node_hash_is_sha256_of_0x01_left_right() -> None:
    left, right = hashlib.sha256(b"l").digest(), hashlib.sha256(b"r").digest()
    assert node_hash(left, right) == hashlib.sha256(bytes([1]) + left + right).digest()
    assert node_hash(left, right) != node_hash(right, left)


def test_rfc6962_hasher_vectors() -> None:
    # transparency-dev/merkle rfc6962 hasher test: empty leaf, a leaf, a node of two strings.
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")


def test_roots_of_the_test_vector_trees() -> None:
    tree = MemoryTree(VECTOR_LEAVES)
    frontier = Frontier()
    for size, expected in enumerate(VECTOR_ROOTS):
        assert tree.root(size) == expected, size
        assert frontier.root() == expected, size
        assert reference_mth(VECTOR_LEAVES[:size]) == expected, size
        if size < len(VECTOR_LEAVES):
            frontier.append(leaf_hash(VECTOR_LEAVES[size]))


@pytest.mark.parametrize(("index", "size", "proof"), VECTOR_INCLUSION)
def test_inclusion_proof_vectors(index: int, size: int, proof: list[str]) -> None:
    expected = [H(p) for p in proof]
    assert MemoryTree(VECTOR_LEAVES).inclusion(index, size) == expected
    assert verify_inclusion(leaf_hash(VECTOR_LEAVES[index]), index, size, expected,
                            VECTOR_ROOTS[size])


@pytest.mark.parametrize(("size1", "size2", "proof"), VECTOR_CONSISTENCY)
def test_consistency_proof_vectors(size1: int, size2: int, proof: list[str]) -> None:
    expected = [H(p) for p in proof]
    assert MemoryTree(VECTOR_LEAVES).consistency(size1, size2) == expected
    assert verify_consistency(size1, size2, expected, VECTOR_ROOTS[size1], VECTOR_ROOTS[size2])


# -- against the independent recursive implementation, every size 1..64 ------------------------
def test_roots_and_proofs_match_the_recursive_definition_for_sizes_1_to_64() -> None:
    leaves = data(64)
    tree = MemoryTree(leaves)
    for size in range(1, 65):
        root = reference_mth(leaves[:size])
        assert tree.root(size) == root
        for index in range(size):
            assert tree.inclusion(index, size) == reference_path(index, leaves[:size])
        for size1 in range(1, size + 1):
            assert tree.consistency(size1, size) == reference_proof(size1, leaves[:size])


def test_the_stored_layout_is_gapless_post_order() -> None:
    tree = MemoryTree(data(100))
    assert sorted(tree.nodes) == list(range(node_count(100)))
    assert node_count(100) == 2 * 100 - bin(100).count("1")
    for level in range(7):
        for index in range(100 >> level):
            start, end = index << level, (index + 1) << level
            assert tree.nodes[node_position(level, index)] == reference_mth(data(100)[start:end])


# -- properties -------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), salt=st.binary(max_size=8))
def test_inclusion_proofs_verify_for_every_index(size: int, salt: bytes) -> None:
    leaves = [salt + i.to_bytes(4, "big") for i in range(size)]
    tree = MemoryTree(leaves)
    root = tree.root(size)
    assert root == reference_mth(leaves)
    for index in range(size):
        proof = tree.inclusion(index, size)
        assert verify_inclusion(reference_leaf(leaves[index]), index, size, proof, root)
        assert not verify_inclusion(reference_leaf(leaves[index] + b"x"), index, size, proof,
                                    root)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 80), salt=st.binary(max_size=8))
def test_consistency_proofs_verify_for_every_pair_of_sizes(size: int, salt: bytes) -> None:
    leaves = [salt + i.to_bytes(4, "big") for i in range(size)]
    tree = MemoryTree(leaves)
    roots = [tree.root(n) for n in range(size + 1)]
    for size2 in range(size + 1):
        for size1 in range(size2 + 1):
            proof = tree.consistency(size1, size2)
            assert verify_consistency(size1, size2, proof, roots[size1], roots[size2])
            if 0 < size1 < size2:
                wrong = hashlib.sha256(roots[size1]).digest()
                assert not verify_consistency(size1, size2, proof, wrong, roots[size2])
                assert not verify_consistency(size1, size2, proof, roots[size1], wrong)


# -- verification refuses what it must --------------------------------------------------------
def _corrupt_inclusion(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    other = hashlib.sha256(b"other").digest()
    yield index + 1, size, proof, root, leaf
    if index:
        yield index - 1, size, proof, root, leaf
    yield index ^ 2, size, proof, root, leaf
    yield index, size * 2, proof, root, leaf
    yield index, size // 2, proof, root, leaf
    yield index, size, proof, root, other
    yield index, size, proof, EMPTY_ROOT, leaf
    yield index, size, proof + [root], root, leaf
    yield index, size, [root] + proof, root, leaf
    yield index, size, proof + [b""], root, leaf
    if proof:
        yield index, size, proof[:-1], root, leaf
        for position in range(len(proof)):
            flipped = list(proof)
            flipped[position] = bytes([proof[position][0] ^ 8]) + proof[position][1:]
            yield index, size, flipped, root, leaf


@pytest.mark.parametrize(("index", "size"), [(0, 1), (0, 8), (5, 8), (2, 3), (1, 5), (6, 7)])
def test_corrupted_inclusion_proofs_are_refused(index: int, size: int) -> None:
    tree = MemoryTree(VECTOR_LEAVES)
    proof, root = tree.inclusion(index, size), tree.root(size)
    leaf = leaf_hash(VECTOR_LEAVES[index])
    assert verify_inclusion(leaf, index, size, proof, root)
    for case in _corrupt_inclusion(index, size, proof, root, leaf):
        assert not verify_inclusion(*case), case


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (-1, 4)])
def test_inclusion_needs_an_index_inside_the_tree(index: int, size: int) -> None:
    assert not verify_inclusion(leaf_hash(b""), index, size, [], EMPTY_ROOT)


def test_corrupted_consistency_proofs_are_refused() -> None:
    tree = MemoryTree(VECTOR_LEAVES)
    for size1, size2 in [(1, 8), (6, 8), (2, 5), (3, 7), (4, 7)]:
        proof = tree.consistency(size1, size2)
        root1, root2 = tree.root(size1), tree.root(size2)
        assert verify_consistency(size1, size2, proof, root1, root2)
        assert not verify_consistency(size1, size2, [], root1, root2)
        assert not verify_consistency(size1, size2, proof[:-1], root1, root2)
        assert not verify_consistency(size1, size2, proof + [root2], root1, root2)
        assert not verify_consistency(size1, size2, proof, root2, root1)
        assert not verify_consistency(size2, size1, proof, root2, root1)
        for position in range(len(proof)):
            flipped = list(proof)
            flipped[position] = bytes([proof[position][0] ^ 1]) + proof[position][1:]
            assert not verify_consistency(size1, size2, flipped, root1, root2)


def test_consistency_edges_outside_the_rfc_algorithm() -> None:
    tree = MemoryTree(VECTOR_LEAVES)
    root = tree.root(5)
    assert verify_consistency(5, 5, [], root, root)
    assert not verify_consistency(5, 5, [], root, tree.root(4))
    assert not verify_consistency(5, 5, [root], root, root)
    assert verify_consistency(0, 5, [], EMPTY_ROOT, root)
    assert not verify_consistency(0, 5, [root], EMPTY_ROOT, root)
    assert not verify_consistency(-1, 5, [], EMPTY_ROOT, root)


def test_split_point_is_the_largest_power_of_two_below_n() -> None:
    assert [merkle.split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]
    with pytest.raises(ValueError):
        merkle.split_point(1)


def test_ranges_outside_the_recursion_are_refused() -> None:
    with pytest.raises(ValueError):
        subtree_nodes(1, 4)            # starts inside its own left half
    with pytest.raises(ValueError):
        subtree_nodes(3, 3)
    with pytest.raises(ValueError):
        inclusion_ranges(4, 4)
    with pytest.raises(ValueError):
        consistency_ranges(5, 4)
    with pytest.raises(ValueError):
        Frontier(3, [EMPTY_ROOT])
