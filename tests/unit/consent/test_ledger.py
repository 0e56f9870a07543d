"""consent.ledger: the encrypted ledger file, appending (alone, in transactions, from several
processes) and signing checkpoints, on demand, every n entries and on a clock.

Tampering goes beneath the Ledger API, straight into the SQLCipher tables, as someone holding the
store key could; the ledger must refuse to sign over it.
"""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from consent.checkpoints import Ed25519NoteVerifier
from consent.context import ledger_path, open_ledger
from consent.errors import (
    InconsistentCheckpointError,
    LedgerIntegrityError,
    PersonalDataError,
)
from consent.events import Event, EventTag, canonical_body
from consent.ledger import SYNC_TAIL, Ledger
from consent.merkle import (
    node_position,
    verify_consistency,
)
from vault import migrations
from vault.errors import WrongKeyError
from vault.home import VaultHome
from vault.keys import MasterKey
from vault.schema import LEDGER
from vault.sqlcipher.database import Database

from .conftest import (
    events,
    new_ledger,
    pseudonym,
    raw_store,
    reference_mth,
    stored_bodies,
)

SQLITE_HEADER = b"SQLite format 3\x00"


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
    # A web worker keeps its ledger open across requests; other workers append meanwhile.
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


# -- checkpoints on a clock ------------------------------------------------------------------
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
