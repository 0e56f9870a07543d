"""Access spools (consent/spool.py): a read committed to a worker's own file, merged into the
ledger exactly once, in order, with the time it was served; spools of ended writers removed."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from consent.access_index import AccessIndex
from consent.errors import ConsentInputError, PersonalDataError
from consent.events import Event, EventTag
from consent.ledger import open_ledger
from consent.spool import SpoolDirectory, merge
from vault.home import VaultHome
from vault.storage import Database, WrongKeyError

READ = EventTag.ACCESS_PROFILE_READ


def read(n: int, member: str = "member:" + "a" * 32) -> Event:
    return Event(READ, "brand:brand_1", {"member": member, "client": "client_1",
                                         "purpose": "marketing", "fields": ["city"], "n": n})


@pytest.fixture
def spools(vault_home: VaultHome) -> SpoolDirectory:
    return SpoolDirectory(vault_home, vault_home.master_key({}))


@pytest.fixture
def ledger(vault_home: VaultHome, clock):
    with open_ledger(vault_home, vault_home.master_key({}), clock=clock) as opened:
        yield opened


def entries(ledger, first: int = 0) -> list:
    return [ledger.entry(seq) for seq in range(first, ledger.size)]


def merged_details(ledger, first: int = 0) -> list[dict]:
    return [dict(entry.details) for entry in entries(ledger, first)]


def test_reads_reach_the_ledger_in_order_with_the_time_they_were_served(spools, ledger, clock):
    writer = spools.writer()
    clock.now = 1_800_000_000
    ledger.record_event(tag=EventTag.LEDGER_CHECKPOINT_SIGNED, actor="system")
    for n in range(5):
        writer.append(read(n), at=1_799_999_000.25 + n)
    assert ledger.size == 1                            # nothing in the ledger yet ...
    assert spools.pending() == 5                       # ... all of it durably in the spool
    assert spools.merge_all(ledger) == 5
    merged = entries(ledger, 1)
    assert [e.details["n"] for e in merged] == [0, 1, 2, 3, 4]
    assert merged[0].time == "2027-01-15T07:43:20.250Z"   # served, not merged, at
    assert all(e.tag is READ for e in merged)
    assert ledger.verify().ok
    # Indexed for the member's access page with the same time.
    rows = ledger.database.all("SELECT seq, read_at FROM access_index ORDER BY seq")
    assert [tuple(r) for r in rows] == [(1 + n, 1_799_999_000 + n) for n in range(5)]
    assert spools.pending() == 0                       # trimmed once merged
    assert spools.merge_all(ledger) == 0               # and never merged twice
    writer.append(read(5), at=1_799_999_010)           # numbered on, though the spool was empty
    assert spools.merge_all(ledger) == 1
    assert ledger.entry(6).details["n"] == 5
    writer.close()


def test_a_crash_between_the_merge_and_the_trim_appends_nothing_twice(spools, ledger,
                                                                       monkeypatch):
    writer = spools.writer()
    for n in range(3):
        writer.append(read(n), at=1_800_000_000)
    real_execute = Database.execute

    def crash_on_trim(self, sql, parameters=()):
        if sql.startswith("DELETE FROM pending"):
            raise OSError("power cut")
        return real_execute(self, sql, parameters)

    monkeypatch.setattr(Database, "execute", crash_on_trim)
    with pytest.raises(OSError):
        spools.merge_all(ledger)
    monkeypatch.undo()
    assert ledger.size == 3 and spools.pending() == 3  # in the ledger, and still in the spool
    writer.append(read(3), at=1_800_000_001)
    assert spools.merge_all(ledger) == 1               # only what the mark does not cover
    assert [d["n"] for d in merged_details(ledger)] == [0, 1, 2, 3]


def test_a_failed_ledger_write_leaves_the_reads_pending(spools, ledger, monkeypatch):
    writer = spools.writer()
    writer.append(read(0), at=1_800_000_000)

    def refuse(events):
        raise OSError("disk full")

    monkeypatch.setattr(ledger, "_append", refuse)
    with pytest.raises(OSError):
        spools.merge_all(ledger)
    monkeypatch.undo()
    assert ledger.size == 0 and spools.pending() == 1
    assert spools.merge_all(ledger) == 1


def test_mergers_at_once_append_each_read_exactly_once(vault_home, spools, clock, ledger):
    # (on a ledger made and migrated before, as by init)
    writers = [spools.writer() for _ in range(3)]
    for n in range(300):
        writers[n % 3].append(read(n), at=1_800_000_000)
    errors: list[BaseException] = []

    def merger() -> None:
        try:
            with open_ledger(vault_home, vault_home.master_key({}), clock=clock) as opened:
                for _ in range(3):
                    SpoolDirectory(vault_home, vault_home.master_key({})).merge_all(opened)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=merger) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, [(e, e.__cause__) for e in errors]
    with open_ledger(vault_home, vault_home.master_key({}), clock=clock) as opened:
        assert sorted(d["n"] for d in merged_details(opened)) == list(range(300))
        assert opened.verify().ok
    for writer in writers:
        writer.close()


def _write_and_die(home_root: str, count: int) -> None:
    home = VaultHome(Path(home_root))
    writer = SpoolDirectory(home, home.master_key({})).writer()
    for n in range(count):
        writer.append(read(n), at=1_800_000_000)
    os._exit(0)                                        # no close: as a killed worker


def test_the_spool_of_an_ended_writer_is_merged_then_removed(vault_home, spools, ledger):
    living = spools.writer()
    living.append(read(100), at=1_800_000_000)
    process = multiprocessing.get_context("fork").Process(
        target=_write_and_die, args=(str(vault_home.root), 4))
    process.start()
    process.join()
    assert len(spools.spool_ids()) == 2
    assert spools.merge_all(ledger) == 5
    # The ended writer's spool is gone; the living one stays (its lock is held).
    assert spools.spool_ids() == [living.spool_id]
    assert sorted(os.listdir(spools.path)) == [living.spool_id + suffix
                                               for suffix in (".db", ".db-shm", ".db-wal",
                                                              ".lock")]
    living.close()
    assert spools.merge_all(ledger) == 0
    assert spools.spool_ids() == []


def test_a_spool_is_encrypted_private_and_keyed_apart(vault_home, spools):
    writer = spools.writer()
    writer.append(read(0), at=1_800_000_000)
    path = spools.path / f"{writer.spool_id}.db"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(spools.path.stat().st_mode & 0o777) == "0o700"
    raw = path.read_bytes() + (spools.path / f"{writer.spool_id}.db-wal").read_bytes()
    assert b"brand_1" not in raw and b"SQLite format 3" not in raw[:16]
    ledger_key = vault_home.master_key({}).derive("ledger-store")
    with pytest.raises(WrongKeyError):
        Database.open(path, ledger_key)
    writer.close()


def test_what_the_ledger_would_refuse_never_enters_a_spool(spools, ledger):
    writer = spools.writer()
    with pytest.raises(PersonalDataError):
        writer.append(Event(READ, "brand:brand_1", {"member": "alice@example.org"}),
                      at=1_800_000_000)
    writer.append(read(0), at=1_800_000_000)
    assert spools.pending() == 1 and spools.merge_all(ledger) == 1


@pytest.mark.parametrize("at", [float("nan"), -1.0, float("inf"), 1e13])
def test_a_read_time_the_ledger_could_not_write_never_enters_a_spool(spools, ledger, at):
    writer = spools.writer()
    with pytest.raises(ConsentInputError):
        writer.append(read(0), at=at)
    assert spools.pending() == 0
    writer.append(read(1), at=1_800_000_000)
    assert spools.merge_all(ledger) == 1


def test_merge_takes_large_backlogs_in_batches(spools, ledger, monkeypatch):
    monkeypatch.setattr("consent.spool.MERGE_BATCH", 7)
    writer = spools.writer()
    for n in range(20):
        writer.append(read(n), at=1_800_000_000)
    assert merge(ledger, writer.spool_id, writer.database) == 20
    assert [d["n"] for d in merged_details(ledger)] == list(range(20))
    marks = ledger.database.one("SELECT merged_through FROM spool_marks")[0]
    assert marks == 20
    assert json.loads(json.dumps(merged_details(ledger)[0]))["fields"] == ["city"]


def test_a_damaged_spool_holds_up_no_other(spools, ledger):
    damaged, sound = spools.writer(), spools.writer()
    damaged.append(read(0), at=1_800_000_000)
    sound.append(read(1), at=1_800_000_000)
    # Someone with the key writes a row the ledger cannot take (an unknown tag).
    damaged.database.execute("UPDATE pending SET tag = 'no:such:tag'")
    with pytest.raises(ValueError):
        spools.merge_all(ledger)
    assert [d["n"] for d in merged_details(ledger)] == [1]     # the sound one is in
    assert spools.pending() == 1                                # the damaged row stays, unmerged
    damaged.close()
    sound.close()


def test_the_member_sees_merged_reads_in_the_order_they_were_served(spools, ledger):
    first_worker, second_worker = spools.writer(), spools.writer()
    member = "member:" + "d" * 32
    first_worker.append(read(0, member), at=1_800_000_001)
    second_worker.append(read(1, member), at=1_800_000_002)
    first_worker.append(read(2, member), at=1_800_000_003)
    spools.merge_all(ledger)          # one spool after the other: not the order of service
    shown = [r.entry.details["n"] for r in AccessIndex(ledger.database).reads(member, limit=10)]
    assert shown == [2, 1, 0]
    plan = " ".join(str(tuple(row)) for row in ledger.database.all(
        "EXPLAIN QUERY PLAN SELECT seq FROM access_index WHERE principal = ?"
        " ORDER BY read_at DESC, seq DESC", (member,)))
    assert "access_index_by_time" in plan and "TEMP B-TREE" not in plan
    first_worker.close()
    second_worker.close()
