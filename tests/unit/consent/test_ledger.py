"""consent.ledger: the stored ledger, its proofs, checkpoints and end-to-end verification.

Tampering goes beneath the Ledger API, straight into the SQLCipher tables, as someone holding the
store key could; verify() must notice and name the first bad entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.checkpoints import Ed25519NoteVerifier
from consent.errors import (
    InconsistentCheckpointError,
    LedgerIntegrityError,
    PersonalDataError,
    ProofRequestError,
)
from consent.events import Event, EventTag, canonical_body
from consent.ledger import SYNC_TAIL, Ledger, ledger_path, open_ledger
from consent.merkle import (
    EMPTY_ROOT,
    Frontier,
    leaf_hash,
    node_position,
    verify_consistency,
    verify_inclusion,
)
from vault import migrations
from vault.errors import WrongKeyError
from vault.home import VaultHome
from vault.keys import MasterKey
from vault.schema import LEDGER
from vault.storage import Database

from .conftest import (
    events,
    new_ledger,
    pseudonym,
    raw_store,
    reference_mth,
    reference_path,
    reference_proof,
    replace_entries,
    stored_bodies,
)

SQLITE_HEADER = b"SQLite format 3\x00"
FAST = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- the file ---------------------------------------------------------------------------------
def test_the_ledger_is_its_own_encrypted_file(ledger: Ledger, vault_home, master) -> None:
    ledger.record_event(tag=EventTag.CONSENT_GRANT_GIVEN, actor=pseudonym(1), details={})
    path = ledger_path(vault_home)
    assert path == vault_home.root / "ledger.db"
    assert path.read_bytes()[:16] != SQLITE_HEADER
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    with pytest.raises(WrongKeyError):
        Database.open(path, master.derive("data-store"))
    with pytest.raises(WrongKeyError):
        open_ledger(vault_home, MasterKey(bytes(32)))


def test_migrations_are_recorded_and_reopening_is_harmless(ledger: Ledger, vault_home,
                                                            master) -> None:
    assert migrations.pending(ledger.database, LEDGER) == []
    ledger.record_events(events(3))
    ledger.close()
    with open_ledger(vault_home, master) as again:
        assert again.size == 3


# -- recording --------------------------------------------------------------------------------
def test_record_event_appends_a_canonical_entry(ledger: Ledger, clock) -> None:
    entry = ledger.record_event(tag="consent:grant:given", actor=pseudonym(1),
                                details={"purpose": "dpv:Marketing", "grant": "g1"})
    assert entry.seq == 0 and entry.tag is EventTag.CONSENT_GRANT_GIVEN
    assert entry.time == "2027-01-15T08:00:00.000Z"
    assert entry.body == canonical_body(0, entry.time, Event(
        EventTag.CONSENT_GRANT_GIVEN, pseudonym(1), {"purpose": "dpv:Marketing", "grant": "g1"}))
    assert entry.leaf_hash == hashlib.sha256(b"\x00" + entry.body).digest()
    assert ledger.entry(0) == entry
    clock.advance(1)
    second = ledger.record_event(tag=EventTag.MEMBER_DATA_EXPORTED, actor=pseudonym(2))
    assert second.seq == 1 and second.time == "2027-01-15T08:00:01.000Z"
    assert ledger.size == 2


def test_an_email_address_is_refused_and_nothing_is_written(ledger: Ledger) -> None:
    ledger.record_events(events(2))
    with pytest.raises(PersonalDataError):
        ledger.record_event(tag=EventTag.MEMBER_DATA_ERASED, actor=pseudonym(1),
                            details={"member": "alice@example.org"})
    with pytest.raises(ValueError):
        ledger.record_events(events(3) + [Event(EventTag.ACCESS_PROFILE_READ, "bob@example.org")])
    assert ledger.size == 2
    assert ledger.verify().ok


def test_a_transaction_is_all_or_nothing(ledger: Ledger) -> None:
    with ledger.transaction():
        for event in events(3):
            ledger.record_event(tag=event.tag, actor=event.actor, details=event.details)
    with pytest.raises(RuntimeError), ledger.transaction():
        ledger.record_events(events(5))
        raise RuntimeError("the caller changed its mind")
    assert ledger.size == 3
    ledger.record_events(events(2))
    assert ledger.size == 5 and ledger.verify().ok


def test_a_failed_write_inside_a_transaction_leaves_nothing_behind(ledger: Ledger) -> None:
    with ledger.transaction():
        ledger.record_events(events(2))
        with pytest.raises(PersonalDataError):
            ledger.record_events(events(2) + [Event(EventTag.ACCESS_PROFILE_READ,
                                                    "x@example.org")])
        ledger.record_events(events(1))
    assert ledger.size == 3 and ledger.verify().ok


def test_two_handles_on_one_file_interleave_safely(tmp_path: Path) -> None:
    first, home, master = new_ledger(tmp_path / "var")
    second = open_ledger(home, master, checkpoint_every=0)
    for round_number in range(5):
        first.record_events(events(round_number + 1))
        second.record_events(events(round_number + 2))
        first.checkpoint()
        second.checkpoint()
    report = second.verify()
    assert report.ok, report.summary()
    assert report.entries == first.size == second.size
    first.close()
    second.close()


@pytest.mark.parametrize("others", [1, 2, 7, SYNC_TAIL, SYNC_TAIL + 1])
def test_a_kept_handle_catches_up_with_what_others_appended(tmp_path: Path, others: int) -> None:
    # A gunicorn worker keeps its ledger open across requests; other workers append meanwhile.
    # Its frontier must be brought up to date under the write lock before it appends again
    # (from the tail of the tree for a few entries, from the frontier's nodes past SYNC_TAIL).
    kept, home, master = new_ledger(tmp_path / "var", entries=5)
    other = open_ledger(home, master, checkpoint_every=0)
    for _ in range(others):
        other.record_events(events(1))
    kept.record_events(events(2))
    other.record_events(events(1))
    kept.record_events(events(1))
    size = 5 + others + 4
    assert kept.size == other.size == size
    assert kept.root() == other.root() == reference_mth(stored_bodies(kept.database))
    kept.checkpoint()
    report = other.verify()
    assert report.ok and report.entries == size + 1, report.summary()
    kept.close()
    other.close()


def test_catching_up_refuses_a_forged_node_in_what_others_appended(tmp_path: Path) -> None:
    kept, home, master = new_ledger(tmp_path / "var", entries=4)
    with open_ledger(home, master, checkpoint_every=0) as other:
        other.record_events(events(2))               # entries 4 and 5, and the node over both
    _forge_node(home, master, 1, 2)
    with pytest.raises(LedgerIntegrityError, match="does not match the entries before it"):
        kept.record_events(events(1))
    assert kept.size == 6                            # nothing was appended on top
    kept.close()


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
    with pytest.raises(ProofRequestError, match="no checkpoint"):
        ledger.prove_entry(0)
    ledger.record_events(events(9))
    checkpoint = ledger.checkpoint()
    bundle = ledger.prove_entry(4).as_json()
    document = json.loads(json.dumps(bundle))
    verifier = Ed25519NoteVerifier.from_verifier_key(document["verifier_key"])
    signed = verifier.open_checkpoint(document["checkpoint"])
    leaf = leaf_hash(document["entry"].encode())
    assert signed.tree_size == checkpoint.tree_size == document["tree_size"] == 9
    proof = [base64.b64decode(h) for h in document["inclusion_proof"]]
    assert verify_inclusion(leaf, document["seq"], signed.tree_size, proof, signed.root_hash)
    with pytest.raises(ProofRequestError, match="not covered"):
        ledger.prove_entry(9)                     # the checkpoint's own entry comes after it


# -- checkpoints ------------------------------------------------------------------------------
def test_checkpoints_are_signed_notes_of_the_root(ledger: Ledger) -> None:
    ledger.record_events(events(5))
    checkpoint = ledger.checkpoint()
    assert checkpoint.tree_size == 5 and checkpoint.root_hash == ledger.root(5)
    body = Ed25519NoteVerifier.from_verifier_key(ledger.verifier_key).open_checkpoint(
        checkpoint.note)
    assert (body.origin, body.tree_size, body.root_hash) == (ledger.origin, 5, ledger.root(5))
    # Signing is itself recorded, as the next entry.
    recorded = ledger.entry(5)
    assert recorded.tag is EventTag.LEDGER_CHECKPOINT_SIGNED
    assert recorded.details["tree_size"] == 5
    assert ledger.latest_checkpoint() == checkpoint


def test_checkpoints_are_made_every_n_entries(tmp_path: Path) -> None:
    opened, _, _ = new_ledger(tmp_path / "var", checkpoint_every=10)
    for _ in range(25):
        opened.record_event(tag=EventTag.ACCESS_FEEDBACK_READ, actor=pseudonym(3))
    sizes = [c.tree_size for c in opened.checkpoints()]
    assert sizes == [10, 20]              # the signing's own entry counts towards the next
    opened.record_events(events(30))      # one batch: one checkpoint at its end
    assert [c.tree_size for c in opened.checkpoints()][-1] == opened.size - 1
    checkpoints = opened.checkpoints()
    for older, newer in zip(checkpoints, checkpoints[1:], strict=False):
        proof = opened.consistency_proof(older.tree_size, newer.tree_size)
        assert verify_consistency(older.tree_size, newer.tree_size, proof, older.root_hash,
                                  newer.root_hash)
    assert opened.verify().ok
    opened.close()


def test_the_signing_key_and_origin_come_from_the_master_key(tmp_path: Path) -> None:
    one, _, master = new_ledger(tmp_path / "a")
    two, _, _ = new_ledger(tmp_path / "b", master=master)
    three, _, _ = new_ledger(tmp_path / "c", master=MasterKey(bytes(32)))
    assert one.verifier_key == two.verifier_key != three.verifier_key
    assert one.origin.startswith("vrmvault.example/ledger/")
    custom = open_ledger(VaultHome(tmp_path / "d"), master, origin="consent.example/log")
    assert custom.verifier_key.startswith("consent.example/log+")
    for opened in (one, two, three, custom):
        opened.close()


def _forge_node(home, master, level: int, index: int) -> None:
    with raw_store(home, master) as database:
        database.execute("UPDATE tree_nodes SET hash = ? WHERE position = ?",
                         (hashlib.sha256(b"forged").digest(), node_position(level, index)))


@pytest.mark.parametrize(("level", "index"), [(0, 4), (2, 0)])
def test_it_refuses_to_sign_a_tree_that_does_not_extend_the_last_checkpoint(
        tmp_path: Path, level: int, index: int) -> None:
    opened, home, master = new_ledger(tmp_path / "var", entries=5)
    opened.checkpoint()                                     # size 5, then its own entry: 6
    # Between checkpoints, forge a stored hash that PROOF(5, D[8]) is built from: leaf 4 or
    # the node over entries 0-3.
    _forge_node(home, master, level, index)
    opened.record_events(events(2))
    with pytest.raises(InconsistentCheckpointError, match="refusing to sign"):
        opened.checkpoint()
    assert [c.tree_size for c in opened.checkpoints()] == [5]
    opened.close()


@pytest.mark.parametrize(("level", "index"), [(0, 4), (1, 2), (2, 0)])
def test_a_fresh_process_refuses_to_sign_over_a_forged_tree(tmp_path: Path, level: int,
                                                            index: int) -> None:
    opened, home, master = new_ledger(tmp_path / "var", entries=5)
    opened.checkpoint()
    opened.close()
    # The node over entries 4-5 is in the frontier a new process loads, so the root it builds
    # from there on is forged too; the consistency proof from the checkpoint exposes it.
    _forge_node(home, master, level, index)
    with open_ledger(home, master, checkpoint_every=0) as again:
        again.record_events(events(2))
        with pytest.raises(InconsistentCheckpointError):
            again.checkpoint()
        assert len(again.checkpoints()) == 1
        assert again.verify().bad_seq == index << level


def test_it_refuses_to_sign_when_entries_vanished_after_a_checkpoint(tmp_path: Path) -> None:
    opened, home, master = new_ledger(tmp_path / "var", entries=8)
    opened.checkpoint()
    opened.close()
    with raw_store(home, master) as database:
        database.execute("DELETE FROM entries WHERE seq >= 4")
        database.execute("DELETE FROM tree_nodes WHERE position >= ?", (node_position(0, 4),))
    with open_ledger(home, master) as again:
        with pytest.raises(InconsistentCheckpointError, match="fewer"):
            again.checkpoint()
        assert again.verify().bad_seq == 4


# -- verify -----------------------------------------------------------------------------------
def test_verify_reports_counts_and_root(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok and report.entries == 0 and report.root_hash == EMPTY_ROOT
    ledger.checkpoint()                                     # a checkpoint of the empty tree
    ledger.record_events(events(40))
    ledger.checkpoint()
    seen: list[int] = []
    report = ledger.verify(progress=seen.append)
    assert report.ok, report.summary()
    assert (report.entries, report.checkpoints) == (ledger.size, 2)
    assert report.root_hash == ledger.root()
    assert seen[-1] == ledger.size
    assert report.summary().startswith(f"OK: {ledger.size} entries, 2 checkpoints, root ")
    report.raise_for_problem()


def _damaged(tmp_path: Path, count: int, tamper) -> tuple[int | None, str]:
    opened, home, master = new_ledger(tmp_path, entries=count)
    opened.checkpoint()
    with raw_store(home, master) as database:
        tamper(database)
    report = opened.verify()
    opened.close()
    assert not report.ok
    with pytest.raises(LedgerIntegrityError):
        report.raise_for_problem()
    assert report.problem is not None
    return report.bad_seq, report.problem


@FAST
@given(data=st.data())
def test_any_changed_byte_of_a_body_is_found(tmp_path_factory, data) -> None:
    count = data.draw(st.integers(1, 40))
    seq = data.draw(st.integers(0, count - 1))
    flip = data.draw(st.integers(1, 255))

    def tamper(database: Database) -> None:
        body = bytearray(stored_bodies(database)[seq])
        position = data.draw(st.integers(0, len(body) - 1))
        body[position] ^= flip
        database.execute("UPDATE entries SET body = ? WHERE seq = ?", (bytes(body), seq))

    bad_seq, _ = _damaged(tmp_path_factory.mktemp("l"), count, tamper)
    assert bad_seq == seq


@FAST
@given(data=st.data())
def test_a_deleted_entry_is_found(tmp_path_factory, data) -> None:
    count = data.draw(st.integers(1, 40))
    seq = data.draw(st.integers(0, count))              # count: the checkpoint's own entry
    renumber = data.draw(st.booleans())

    def tamper(database: Database) -> None:
        if renumber:
            bodies = stored_bodies(database)
            replace_entries(database, bodies[:seq] + bodies[seq + 1:])
        else:
            database.execute("DELETE FROM entries WHERE seq = ?", (seq,))

    bad_seq, problem = _damaged(tmp_path_factory.mktemp("l"), count, tamper)
    assert bad_seq == seq, problem


@FAST
@given(data=st.data())
def test_two_swapped_entries_are_found(tmp_path_factory, data) -> None:
    count = data.draw(st.integers(2, 40))
    first = data.draw(st.integers(0, count - 1))
    second = data.draw(st.integers(first + 1, count))
    whole_rows = data.draw(st.booleans())

    def tamper(database: Database) -> None:
        bodies = stored_bodies(database)
        bodies[first], bodies[second] = bodies[second], bodies[first]
        if whole_rows:
            replace_entries(database, bodies)
        else:
            for seq in (first, second):
                database.execute("UPDATE entries SET body = ? WHERE seq = ?", (bodies[seq], seq))

    bad_seq, _ = _damaged(tmp_path_factory.mktemp("l"), count, tamper)
    assert bad_seq == first


@FAST
@given(data=st.data())
def test_an_inserted_entry_is_found(tmp_path_factory, data) -> None:
    count = data.draw(st.integers(1, 40))
    seq = data.draw(st.integers(0, count + 1))

    def tamper(database: Database) -> None:
        bodies = stored_bodies(database)
        time = json.loads(bodies[0])["time"]
        forged = canonical_body(seq, time, Event(EventTag.CONSENT_GRANT_WITHDRAWN, pseudonym(9)))
        renumbered = [json.dumps(dict(json.loads(b), seq=i + 1), sort_keys=True,
                                 separators=(",", ":")).encode() for i, b in enumerate(bodies)]
        replace_entries(database, bodies[:seq] + [forged] + renumbered[seq:])

    bad_seq, _ = _damaged(tmp_path_factory.mktemp("l"), count, tamper)
    assert bad_seq == seq


@pytest.mark.parametrize(("level", "index", "first_seq"), [(0, 3, 3), (1, 2, 4), (3, 1, 8)])
def test_a_changed_tree_node_is_found(tmp_path: Path, level: int, index: int,
                                      first_seq: int) -> None:
    def tamper(database: Database) -> None:
        database.execute("UPDATE tree_nodes SET hash = ? WHERE position = ?",
                         (hashlib.sha256(b"forged").digest(), node_position(level, index)))

    bad_seq, problem = _damaged(tmp_path, 20, tamper)
    assert bad_seq == first_seq, problem


def test_a_consistent_rewrite_of_the_whole_ledger_fails_its_checkpoint(tmp_path: Path) -> None:
    opened, home, master = new_ledger(tmp_path / "a", entries=10)
    opened.checkpoint()
    opened.record_events(events(10))
    opened.checkpoint()
    opened.close()
    # Someone with the store key (but not the signing key) rebuilds a different history from
    # entry 12 on, tree and all, and keeps the signed checkpoints.
    forger, forged_home, _ = new_ledger(tmp_path / "b", entries=0, master=master)
    with raw_store(home, master) as database:
        bodies = stored_bodies(database)
    forged = bodies[:12] + [canonical_body(i, "2027-01-15T08:00:00.000Z",
                                           Event(EventTag.ACCESS_PROFILE_READ, pseudonym(99)))
                            for i in range(12, len(bodies))]
    with raw_store(forged_home, master) as database:
        replace_entries(database, forged)
        frontier, rows = Frontier(), []
        for body in forged:
            first = len(rows)
            rows += [(first + i, h) for i, h in enumerate(frontier.append(leaf_hash(body)))]
        database.executemany("INSERT INTO tree_nodes (position, hash) VALUES (?, ?)", rows)
    with raw_store(home, master) as database, raw_store(forged_home, master) as forged_db:
        for row in database.all("SELECT tree_size, root_hash, signed_at, note FROM checkpoints"):
            forged_db.execute("INSERT INTO checkpoints VALUES (?, ?, ?, ?)", tuple(row))
    report = forger.verify()
    assert not report.ok
    # The checkpoint at 10 still holds; the one at 21 does not: the damage is in 10..20.
    assert report.bad_seq == 10 and "checkpoint signed at size 21" in (report.problem or "")
    forger.close()


def test_a_changed_byte_of_a_stored_checkpoint_note_is_found(tmp_path: Path) -> None:
    def tamper(database: Database) -> None:
        note = database.one("SELECT note FROM checkpoints")[0]
        changed = note.replace("\n5\n", "\n6\n")
        database.execute("UPDATE checkpoints SET note = ?", (changed,))

    bad_seq, problem = _damaged(tmp_path, 5, tamper)
    assert bad_seq is None and "does not verify" in problem


def test_a_changed_checkpoint_root_column_is_found(tmp_path: Path) -> None:
    def tamper(database: Database) -> None:
        database.execute("UPDATE checkpoints SET root_hash = ?", (EMPTY_ROOT,))

    bad_seq, problem = _damaged(tmp_path, 5, tamper)
    assert bad_seq is None and "signed note" in problem


# -- checkpoints on a clock (issue 12, item 8) ---------------------------------------------------
def test_a_checkpoint_is_signed_once_the_last_is_older_than_the_interval(tmp_path: Path) -> None:
    from vault.clock import FrozenClock

    clock = FrozenClock()
    home = VaultHome(tmp_path / "var")
    master = MasterKey.generate()
    with open_ledger(home, master, clock=clock, checkpoint_every=0) as opened:
        assert opened.checkpoint_if_due(60) is None                   # empty: nothing to sign
        opened.record_event(tag="consent:grant:given", actor="member:a")
        first = opened.checkpoint_if_due(60)                          # none yet: sign at once
        assert first is not None and first.tree_size == 1
        # Its own ledger:checkpoint:signed entry is not growth: an idle ledger stays quiet.
        clock.advance(3600)
        assert opened.checkpoint_if_due(60) is None
        opened.record_event(tag="consent:grant:given", actor="member:b")
        assert opened.checkpoint_if_due(60).tree_size == 3            # last one is an hour old
        opened.record_event(tag="consent:grant:given", actor="member:c")
        clock.advance(30)
        assert opened.checkpoint_if_due(60) is None                   # grew, but 30 s < 60 s
        assert opened.checkpoint_if_due(30).tree_size == 5            # an interval of 30: due
        opened.record_event(tag="consent:grant:given", actor="member:d")
        clock.advance(59)
        assert opened.checkpoint_if_due(60) is None
        clock.advance(1)
        latest = opened.checkpoint_if_due(60)
        assert latest is not None and latest.tree_size == opened.size - 1 == 7
        assert opened.prove_entry(latest.tree_size - 1).checkpoint == latest
        assert [c.tree_size for c in opened.checkpoints()] == [1, 3, 5, 7]
        assert opened.verify().ok
