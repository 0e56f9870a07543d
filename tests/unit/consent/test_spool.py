"""Access spools (consent/spool.py): a read sealed into a worker's own file, merged into the
ledger exactly once, in order, with the time it was served; damage found, spools of ended (or
moved-on) writers removed."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from consent.context import open_ledger
from consent.errors import ConsentInputError, PersonalDataError, SpoolDamagedError
from consent.events import Event, EventTag
from consent.spool import MAGIC, SpoolDirectory
from consent.sqlcipher.ledger import READS_OF_MEMBER
from vault.home import VaultHome
from vault.keys import MasterKey

READ = EventTag.ACCESS_PROFILE_READ


def read(n: int, member: str = "member:" + "a" * 32) -> Event:
    return Event(READ, "brand:brand_1", {"member": member, "client": "client_1",
                                         "purpose": "marketing", "fields": ["city"], "n": n})


def next_millisecond(seconds: float = 5.0) -> None:
    """Return once the wall clock a spool id begins with has moved to its next millisecond."""
    deadline = time.monotonic() + seconds
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 == start:
        assert time.monotonic() < deadline, "the wall clock did not move"


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
    assert spools.pending(ledger) == 5                 # ... all of it in the spool
    assert spools.merge_all(ledger) == 5
    merged = entries(ledger, 1)
    assert [e.details["n"] for e in merged] == [0, 1, 2, 3, 4]
    assert merged[0].time == "2027-01-15T07:43:20.250Z"   # served, not merged, at
    assert all(e.tag is READ for e in merged)
    assert ledger.verify().ok
    # Indexed for the member's access page with the same time.
    rows = ledger.database.all("SELECT seq, at FROM search_recent WHERE tag = ? ORDER BY seq",
                               (str(READ),))
    assert [tuple(r) for r in rows] == [(1 + n, 1_799_999_000 + n) for n in range(5)]
    assert spools.pending(ledger) == 0                 # taken, all of it
    assert spools.merge_all(ledger) == 0               # and never merged twice
    writer.append(read(5), at=1_799_999_010)
    assert spools.merge_all(ledger) == 1
    assert ledger.entry(6).details["n"] == 5
    writer.close()


def test_a_merger_that_starts_afresh_appends_nothing_twice(vault_home, spools, ledger):
    # A merger forgets what it read when it ends (a restarted keeper, a page that merges):
    # the ledger's mark, not the merger's memory, says what is in.
    writer = spools.writer()
    for n in range(3):
        writer.append(read(n), at=1_800_000_000)
    assert spools.merge_all(ledger) == 3
    writer.append(read(3), at=1_800_000_001)
    afresh = SpoolDirectory(vault_home, vault_home.master_key({}))
    assert afresh.pending(ledger) == 1
    assert afresh.merge_all(ledger) == 1               # only what the mark does not cover
    assert spools.merge_all(ledger) == 0
    assert [d["n"] for d in merged_details(ledger)] == [0, 1, 2, 3]
    writer.close()


def test_a_failed_ledger_write_leaves_the_reads_pending(spools, ledger, monkeypatch):
    writer = spools.writer()
    writer.append(read(0), at=1_800_000_000)

    def refuse(events):
        raise OSError("disk full")

    monkeypatch.setattr(ledger, "_append", refuse)
    with pytest.raises(OSError):
        spools.merge_all(ledger)
    monkeypatch.undo()
    assert ledger.size == 0 and spools.pending(ledger) == 1
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
                                               for suffix in (".lock", ".log")]
    living.close()
    assert spools.merge_all(ledger) == 0
    assert spools.spool_ids() == []


def test_a_spool_is_sealed_private_and_keyed_apart(vault_home, spools, ledger):
    writer = spools.writer()
    writer.append(read(0), at=1_800_000_000)
    path = spools.path / f"{writer.spool_id}.log"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(spools.path.stat().st_mode & 0o777) == "0o700"
    raw = path.read_bytes()
    assert raw.startswith(MAGIC)
    for clear in (b"brand_1", b"client_1", b"marketing", b"access:profile:read", b"member:"):
        assert clear not in raw
    # Another master key opens nothing, and says so rather than merging nonsense.
    other = SpoolDirectory(vault_home, MasterKey(bytes(range(32))))
    with pytest.raises(SpoolDamagedError):
        other.merge_all(ledger)
    assert ledger.size == 0
    writer.close()


def test_what_the_ledger_would_refuse_never_enters_a_spool(spools, ledger):
    writer = spools.writer()
    with pytest.raises(PersonalDataError):
        writer.append(Event(READ, "brand:brand_1", {"member": "alice@example.org"}),
                      at=1_800_000_000)
    writer.append(read(0), at=1_800_000_000)
    assert spools.pending(ledger) == 1 and spools.merge_all(ledger) == 1


@pytest.mark.parametrize("at", [float("nan"), -1.0, float("inf"), 1e13])
def test_a_read_time_the_ledger_could_not_write_never_enters_a_spool(spools, ledger, at):
    writer = spools.writer()
    with pytest.raises(ConsentInputError):
        writer.append(read(0), at=at)
    assert spools.pending(ledger) == 0
    writer.append(read(1), at=1_800_000_000)
    assert spools.merge_all(ledger) == 1


def test_merge_takes_large_backlogs_in_batches(spools, ledger, monkeypatch):
    monkeypatch.setattr("consent.spool.MERGE_BATCH", 7)
    writer = spools.writer()
    for n in range(20):
        writer.append(read(n), at=1_800_000_000)
    assert spools.merge_all(ledger) == 20
    assert [d["n"] for d in merged_details(ledger)] == list(range(20))
    marks = ledger.database.one("SELECT merged_through FROM spool_marks")[0]
    assert marks == 20
    assert json.loads(json.dumps(merged_details(ledger)[0]))["fields"] == ["city"]


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_damaged_spool_holds_up_no_other(spools, ledger):
    damaged, sound = spools.writer(), spools.writer()
    damaged.append(read(0), at=1_800_000_000)
    sound.append(read(1), at=1_800_000_000)
    flip(spools.path / f"{damaged.spool_id}.log", -3)      # inside the sealed text
    with pytest.raises(SpoolDamagedError):
        spools.merge_all(ledger)
    assert [d["n"] for d in merged_details(ledger)] == [1]     # the sound one is in
    assert spools.pending(ledger) == 1                  # the damaged read stays, unmerged
    assert spools.backlog(ledger).oldest_at is not None     # and the console sees it wait
    damaged.close()
    sound.close()


@pytest.mark.parametrize("damage", ["number", "length", "magic", "cut from the middle",
                                    "moved to another spool"])
def test_every_kind_of_damage_is_found(vault_home, spools, ledger, damage):
    writer, other = spools.writer(), spools.writer()
    for n in range(3):
        writer.append(read(n), at=1_800_000_000)
    other.append(read(9), at=1_800_000_000)
    path = spools.path / f"{writer.spool_id}.log"
    raw = path.read_bytes()
    first = len(MAGIC)
    length = int.from_bytes(raw[first + 8:first + 12], "big")
    record = 12 + length
    if damage == "number":
        flip(path, first + 7)
    elif damage == "length":
        flip(path, first + 11)
    elif damage == "magic":
        flip(path, 0)
    elif damage == "cut from the middle":
        path.write_bytes(raw[:first + record] + raw[first + 2 * record:])
    else:
        # A whole, well-sealed record of one spool put into another: its seal names its spool.
        other_path = spools.path / f"{other.spool_id}.log"
        other_path.write_bytes(raw[:first] + raw[first:first + record])
        writer.close()
        with pytest.raises(SpoolDamagedError):
            SpoolDirectory(vault_home, vault_home.master_key({})).merge_all(ledger)
        assert [d["n"] for d in merged_details(ledger)] == [0, 1, 2]
        other.close()
        return
    with pytest.raises(SpoolDamagedError):
        spools.merge_all(ledger)
    assert 9 in [d["n"] for d in merged_details(ledger)]    # the other spool went in
    writer.close()
    other.close()


def test_a_record_being_written_waits_and_a_torn_one_goes_with_its_ended_writer(
        vault_home, spools, ledger):
    process = multiprocessing.get_context("fork").Process(
        target=_write_and_die, args=(str(vault_home.root), 3))
    process.start()
    process.join()
    (spool_id,) = spools.spool_ids()
    path = spools.path / f"{spool_id}.log"
    raw = path.read_bytes()
    whole = len(raw)
    # Half of a fourth record, as a writer that died inside its write leaves it: never
    # acknowledged, so never served.
    path.write_bytes(raw + (4).to_bytes(8, "big") + (300).to_bytes(4, "big") + b"x" * 100)
    assert spools.merge_all(ledger) == 3
    assert spools.spool_ids() == [] and not path.exists()
    assert whole > len(MAGIC)


def test_a_living_writer_s_half_written_record_is_left_for_the_next_pass(spools, ledger,
                                                                          monkeypatch):
    writer = spools.writer()
    writer.append(read(0), at=1_800_000_000)
    path = spools.path / f"{writer.spool_id}.log"
    real_write = os.write
    halves: list[bytes] = []

    def half_then_fail(fd, data):
        if not halves:
            halves.append(bytes(data))
            real_write(fd, bytes(data)[:len(data) // 2])
            assert spools.merge_all(ledger) == 1      # a merger meanwhile: the half waits
            raise OSError("disk full")
        return real_write(fd, data)

    monkeypatch.setattr("consent.spool.os.write", half_then_fail)
    with pytest.raises(OSError):
        writer.append(read(1), at=1_800_000_000)
    monkeypatch.undo()
    # The half was cut back: the next record follows the last whole one.
    writer.append(read(2), at=1_800_000_000)
    assert spools.merge_all(ledger) == 1
    assert [d["n"] for d in merged_details(ledger)] == [0, 2]
    assert path.stat().st_size > len(MAGIC)
    writer.close()


def test_a_full_spool_is_left_for_a_new_one_and_removed_once_merged(spools, ledger,
                                                                     monkeypatch):
    monkeypatch.setattr("consent.spool.SPOOL_BYTES", 800)
    writer = spools.writer()
    first = writer.spool_id
    for n in range(12):
        writer.append(read(n), at=1_800_000_000 + n)
        next_millisecond()       # a new spool's id begins with its millisecond: they sort
    assert writer.spool_id != first and len(spools.spool_ids()) >= 3
    assert spools.merge_all(ledger) == 12
    # The writer's full spools were let go: merged, then removed while it lives on.
    assert spools.spool_ids() == [writer.spool_id]
    assert [d["n"] for d in merged_details(ledger)] == list(range(12))
    assert ledger.verify().ok
    writer.close()


def test_the_member_sees_merged_reads_in_the_order_they_were_served(spools, ledger):
    first_worker, second_worker = spools.writer(), spools.writer()
    member = "member:" + "d" * 32
    first_worker.append(read(0, member), at=1_800_000_001)
    second_worker.append(read(1, member), at=1_800_000_002)
    first_worker.append(read(2, member), at=1_800_000_003)
    spools.merge_all(ledger)          # one spool after the other: not the order of service
    shown = [r.entry.details["n"] for r in ledger.access_index.reads(member, limit=10)]
    assert shown == [2, 1, 0]
    # The member's folded reads are one walk of search_by_principal in its order (no sort);
    # only the recent rows not yet folded, and the two LIMIT-ed sides merged, are sorted.
    plan = [(row[1], row[3]) for row in ledger.database.all(
        "EXPLAIN QUERY PLAN " + READS_OF_MEMBER, (member, 10, member, 10, 10, 0))]
    walk = [parent for parent, step in plan if "search_by_principal" in step]
    assert walk and not [step for parent, step in plan
                         if parent in walk and step.startswith("USE TEMP B-TREE")], plan
    first_worker.close()
    second_worker.close()


@pytest.mark.parametrize("text", [
    b'[1800000000.0,"no:such:tag","brand:brand_1"]\n{"n":1}',
    b'[1800000000.0,"access:profile:read","brand:brand_1"]\n["not","an","object"]',
    b'[1800000000.0,"access:profile:read"]\n{"n":1}',
    b'not json',
    b'\xff\xfe',
])
def test_a_well_sealed_record_the_ledger_cannot_take_is_damage(spools, ledger, text):
    # Only someone holding the key could seal one: it stops its spool, and no other.
    from consent.spool import _HEADER, _aead, _associated, _nonce
    writer, sound = spools.writer(), spools.writer()
    writer.append(read(0), at=1_800_000_000)
    sound.append(read(1), at=1_800_000_000)
    sealed = _aead(spools._key, writer.spool_id).encrypt(
        _nonce(2), text, _associated(writer.spool_id, 2))
    with open(spools.path / f"{writer.spool_id}.log", "ab") as file:
        file.write(_HEADER.pack(2, len(sealed)) + sealed)
    with pytest.raises(SpoolDamagedError):
        spools.merge_all(ledger)
    assert sorted(d["n"] for d in merged_details(ledger)) == [0, 1]
    writer.close()
    sound.close()
