"""Ledger exports (consent/ledger_export.py) checked as a third party would: the checkpoint's
signed note with ``cryptography`` directly (c2sp.org/signed-note), every entry's leaf hash from
its body and its inclusion proof with an RFC 9162 verifier written here from the RFC (section
2.1.3.2), importing nothing of ``consent.merkle`` or ``consent.checkpoints``."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consent.context import open_ledger
from consent.errors import ProofRequestError
from consent.event_details import GrantGiven, ProfileRead
from consent.ledger import Ledger
from consent.ledger_export import open_export
from consent.ledger_search import LedgerQuery
from vault.home import VaultHome
from vault.keys import MasterKey

MEMBER = "member:" + "c" * 32


# -- the third party's code: RFC 9162 and c2sp.org/signed-note, from the texts -----------------
def rfc9162_verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes],
                             root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def signed_note_checkpoint(note: str, verifier_key: str) -> tuple[str, int, bytes]:
    """Origin, size and root of a tlog-checkpoint note once its Ed25519 signature by the key
    ``<name>+<hex key id>+<base64(0x01 || key)>`` verifies."""
    name, key_hex, encoded = verifier_key.split("+", 2)
    typed = base64.b64decode(encoded)
    assert typed[0] == 0x01 and len(typed) == 33
    key_id = hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4]
    assert key_id.hex() == key_hex
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    verified = False
    for line in signatures.rstrip("\n").split("\n"):
        assert line.startswith("\u2014 ")
        signer, signature = line[2:].split(" ")
        raw = base64.b64decode(signature)
        if signer == name and raw[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(typed[1:]).verify(raw[4:], text.encode())
            verified = True
    assert verified
    origin, size, root = text.split("\n")[:3]
    assert origin == name
    return origin, int(size), base64.b64decode(root)


# -- fixtures ----------------------------------------------------------------------------------
class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    clock = Clock()
    with open_ledger(VaultHome(tmp_path / "var"), MasterKey.generate(), clock=clock,
                     checkpoint_every=0) as opened:
        for n in range(300):
            clock.now += 0.7
            if n % 3:
                opened.record_event(actor="brand:brand_" + "ab"[n % 2], details=ProfileRead(
                    member=MEMBER, client="client_1", purpose="dpv:Marketing",
                    fields=["city"], grants=["grant_1"]))
            else:
                opened.record_event(actor=MEMBER, details=GrantGiven(
                    grant=f"grant_{n}", brand="brand_a", purpose="dpv:ServiceProvision",
                    fields=["city"], mode="shared", ends_at=1_900_000_000, version=1))
            if n in (40, 170):
                opened.checkpoint()
        yield opened


def _check(header: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    checkpoint = header["checkpoint"]
    origin, size, root = signed_note_checkpoint(checkpoint["note"], header["verifier_key"])
    assert (origin, size, base64.b64encode(root).decode()) == (
        checkpoint["origin"], checkpoint["tree_size"], checkpoint["root_hash"])
    for entry in entries:
        body = entry["entry"].encode("utf-8")
        leaf = hashlib.sha256(b"\x00" + body).digest()
        assert base64.b64encode(leaf).decode() == entry["leaf_hash"]
        assert json.loads(body)["seq"] == entry["seq"]
        path = [base64.b64decode(h) for h in entry["inclusion_proof"]]
        assert rfc9162_verify_inclusion(leaf, entry["seq"], size, path, root), entry["seq"]
        # And a proof that anything changed fails: the body, the index, a path hash.
        changed = hashlib.sha256(b"\x00" + body[:-1] + b" }").digest()
        assert not rfc9162_verify_inclusion(changed, entry["seq"], size, path, root)
        if path:
            flipped = [bytes([path[0][0] ^ 1]) + path[0][1:], *path[1:]]
            assert not rfc9162_verify_inclusion(leaf, entry["seq"], size, flipped, root)


def test_a_json_export_checks_with_rfc_9162_and_the_signed_note_alone(ledger: Ledger) -> None:
    size_before = ledger.size
    export = open_export(ledger, LedgerQuery(brand="brand_a"), batch=16)
    document = json.loads("".join(export.json_chunks()))
    # The ledger had grown since its last checkpoint: one was signed, covering all of it.
    assert document["checkpoint"]["tree_size"] == size_before
    assert ledger.size == size_before + 1                     # that checkpoint's own record
    assert document["format"] == "vrmvault-ledger-export/1"
    assert document["filters"]["brand"] == "brand_a"
    seqs = [e["seq"] for e in document["entries"]]
    expected = [s for s in range(size_before)
                if json.loads(ledger.entry(s).body).get("details", {}).get("brand") == "brand_a"
                or json.loads(ledger.entry(s).body)["actor"] == "brand:brand_a"]
    assert sorted(seqs) == expected and len(seqs) == 200
    _check(document, document["entries"])
    assert document["left_out"]["entries"] == 0


def test_entries_the_checkpoint_does_not_cover_are_left_out_and_counted(ledger: Ledger) -> None:
    ledger.checkpoint()
    first = open_export(ledger, LedgerQuery(tags=("ledger:checkpoint:signed",)))
    document = json.loads("".join(first.json_chunks()))
    # No new checkpoint for the last one's own record; that record is left out, and said so.
    assert document["left_out"]["entries"] == 1
    assert "not in this export" in document["left_out"]["reason"]
    assert document["checkpoint"]["tree_size"] == 302
    assert [e["seq"] for e in document["entries"]] == [172, 41]
    _check(document, document["entries"])


def test_a_csv_export_holds_the_same(ledger: Ledger) -> None:
    query = LedgerQuery(principal=MEMBER, purpose="dpv:Marketing", since=1_800_000_050)
    export = open_export(ledger, query, batch=7)
    as_json = json.loads("".join(export.json_chunks()))
    rows = list(csv.DictReader(io.StringIO("".join(open_export(ledger, query,
                                                                batch=7).csv_chunks()))))
    assert rows[0]["record"] == "checkpoint" and rows[-1]["record"] == "left_out"
    entries = [{"seq": int(r["seq"]), "entry": r["entry"], "leaf_hash": r["leaf_hash"],
                "inclusion_proof": r["inclusion_proof"].split()} for r in rows[1:-1]]
    header = {"checkpoint": {"note": rows[0]["note"], "origin": rows[0]["note"].split("\n")[0],
                             "tree_size": int(rows[0]["tree_size"]),
                             "root_hash": rows[0]["root_hash"]},
              "verifier_key": rows[0]["verifier_key"]}
    _check(header, entries)
    assert [e["seq"] for e in entries] == [e["seq"] for e in as_json["entries"]]
    assert all(r["principal"] == MEMBER and "dpv:Marketing" in r["purposes"].split()
               for r in rows[1:-1])
    assert len(entries) > 50


def test_an_empty_ledger_has_nothing_to_export(tmp_path: Path) -> None:
    with open_ledger(VaultHome(tmp_path / "var"), MasterKey.generate()) as empty:
        with pytest.raises(ProofRequestError, match="no entries"):
            open_export(empty, LedgerQuery())


def test_batched_proofs_are_the_ledgers_own_for_every_leaf_and_size(ledger: Ledger) -> None:
    """ProofBatches' direct decomposition against consent.merkle's recursion (RFC 9162
    2.1.3.1): the same ranges for every leaf of every size up to 70 and a few large ones, and
    the same hashes from the store."""
    from consent.ledger_export import ProofBatches
    from consent.merkle import inclusion_ranges

    def ranges(batches: ProofBatches, seq: int) -> list[tuple[int, int]]:
        found = []
        for step in batches.plan(seq):
            if len(step) == 3:
                found.append((step[0], step[1]))
            else:
                level, index = step[0], step[1]
                found.append((index << level, (index + 1) << level))
        return found

    for size in [*range(1, 71), 1_000_003, 2**20, 2**20 + 1]:
        batches = ProofBatches(ledger.tree, size)
        for seq in ({*range(size)} if size <= 70 else {0, 1, size // 3, size - 2, size - 1}):
            assert ranges(batches, seq) == inclusion_ranges(seq, size), (seq, size)
    size = ledger.size
    batches = ProofBatches(ledger.tree, size)
    seqs = list(range(size))
    assert batches.proofs(seqs) == {seq: ledger.inclusion_proof(seq, size) for seq in seqs}
    encoded = batches.encoded(seqs[::7])
    assert encoded[7] == [base64.b64encode(h).decode() for h in ledger.inclusion_proof(7, size)]
    with pytest.raises(ProofRequestError):
        batches.plan(size)


def test_entry_lines_are_what_the_csv_module_writes(ledger: Ledger) -> None:
    """The export writes its entry lines by hand for speed: byte for byte csv.writer's, for
    values that need quoting (a comma, a quote, a line break) and values that do not."""
    ledger.record_event(actor="brand:a,b", tag="community:opened", details={
        "brand": 'quote " and, comma', "purposes": ["line\nbreak", "plain", "cr\rhere"]})
    export = open_export(ledger, LedgerQuery(tags=("community:opened",)))
    text = "".join(export.csv_chunks())
    written = io.StringIO()
    writer = csv.writer(written, lineterminator="\r\n")
    for exported in open_export(ledger, LedgerQuery(tags=("community:opened",))).entries():
        row = exported.hit.row
        writer.writerow(["entry", row.seq, exported.time, row.tag, row.brand or "",
                         row.principal or "", " ".join(row.purposes),
                         exported.hit.body.decode(), base64.b64encode(hashlib.sha256(
                             b"\x00" + exported.hit.body).digest()).decode(),
                         export.checkpoint.tree_size, "", " ".join(exported.proof), "", ""])
    assert written.getvalue() in text
    assert 'quote "" and, comma' in text
