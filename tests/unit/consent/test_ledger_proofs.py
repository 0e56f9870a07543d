"""consent.ledger_proofs: roots, inclusion and consistency proofs from the stored tree, checked
against the recursive definitions of RFC 9162 and with the verifier a third party would run."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.checkpoints import Ed25519NoteVerifier
from consent.errors import (
    ProofRequestError,
)
from consent.ledger import Ledger
from consent.merkle import (
    EMPTY_ROOT,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

from .conftest import (
    events,
    new_ledger,
    reference_mth,
    reference_path,
    reference_proof,
    stored_bodies,
)


# -- roots and proofs -------------------------------------------------------------------------
def test_roots_and_proofs_match_the_recursive_definition_for_sizes_1_to_64(
        ledger: Ledger) -> None:
    ledger.record_events(events(64))
    leaves = stored_bodies(ledger.database)
    assert ledger.root(0) == EMPTY_ROOT
    for size in range(1, 65):
        assert ledger.root(size) == reference_mth(leaves[:size])
        for index in range(size):
            assert ledger.inclusion_proof(index, size) == reference_path(index, leaves[:size])
        for size1 in range(1, size + 1):
            assert ledger.consistency_proof(size1, size) == reference_proof(size1, leaves[:size])


@pytest.fixture(scope="module")
def big_ledger(tmp_path_factory: pytest.TempPathFactory):
    opened, _, _ = new_ledger(tmp_path_factory.mktemp("big"), entries=700)
    yield opened
    opened.close()


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 700))
def test_inclusion_proofs_verify_for_every_index(big_ledger: Ledger, size: int) -> None:
    root = big_ledger.root(size)
    for index in range(size):
        proof = big_ledger.inclusion_proof(index, size)
        assert verify_inclusion(big_ledger.entry(index).leaf_hash, index, size, proof, root)


@settings(max_examples=15, deadline=None)
@given(size2=st.integers(0, 700))
def test_consistency_proofs_verify_for_every_smaller_size(big_ledger: Ledger,
                                                         size2: int) -> None:
    root2 = big_ledger.root(size2)
    for size1 in range(size2 + 1):
        proof = big_ledger.consistency_proof(size1, size2)
        assert verify_consistency(size1, size2, proof, big_ledger.root(size1), root2)


@pytest.mark.parametrize(("call", "args"), [
    ("inclusion_proof", (5, 5)), ("inclusion_proof", (-1, 3)), ("inclusion_proof", (0, 11)),
    ("consistency_proof", (4, 3)), ("consistency_proof", (0, 11)), ("root", (11,)),
    ("root", (-1,)), ("entry", (10,)),
])
def test_proofs_outside_the_ledger_are_refused(ledger: Ledger, call: str, args) -> None:
    ledger.record_events(events(10))
    with pytest.raises(ProofRequestError) as raised:
        getattr(ledger, call)(*args)
    assert isinstance(raised.value, ValueError)


def test_prove_entry_gives_a_third_party_everything_it_needs(ledger: Ledger) -> None:
    with pytest.raises(ProofRequestError, match="no entry 0: the ledger holds no entries yet"):
        ledger.prove_entry(0)
    ledger.record_events(events(9))
    with pytest.raises(ProofRequestError, match="no checkpoint"):
        ledger.prove_entry(0)
    checkpoint = ledger.checkpoint()
    bundle = ledger.prove_entry(4).as_json()
    document = json.loads(json.dumps(bundle))
    verifier = Ed25519NoteVerifier.from_verifier_key(document["verifier_key"])
    signed = verifier.open_checkpoint(document["checkpoint"])
    leaf = leaf_hash(document["entry"].encode())
    assert signed.tree_size == checkpoint.tree_size == document["tree_size"] == 9
    proof = [base64.b64decode(h) for h in document["inclusion_proof"]]
    assert verify_inclusion(leaf, document["seq"], signed.tree_size, proof, signed.root_hash)
    with pytest.raises(ProofRequestError, match="added after the latest checkpoint"):
        ledger.prove_entry(9)                     # the checkpoint's own entry comes after it
    with pytest.raises(ProofRequestError, match="there is no entry 10"):
        ledger.prove_entry(10)
