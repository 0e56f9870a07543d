"""consent.ledger_verification: ``verify()`` trusts nothing stored.

Tampering goes beneath the Ledger API, straight into the SQLCipher tables, as someone holding the
store key could; verify() must notice and name the first bad entry.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.errors import (
    LedgerIntegrityError,
)
from consent.events import Event, EventTag, canonical_body
from consent.ledger import Ledger
from consent.merkle import (
    EMPTY_ROOT,
    Frontier,
    leaf_hash,
    node_position,
)
from vault.sqlcipher.database import Database

from .conftest import (
    events,
    new_ledger,
    pseudonym,
    raw_store,
    replace_entries,
    stored_bodies,
)

FAST = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


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
