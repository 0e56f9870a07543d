"""Contracts of the ledger store's repositories (``consent/repositories.py``): entries, tree
nodes, checkpoints, spool marks, and the brand reads found through the search rows written
with the entries."""

from __future__ import annotations

import hashlib

import pytest

from consent.access_index import MemberReads
from consent.event_details import GrantGiven, ProfileRead
from consent.events import Event, canonical_body, utc_time
from consent.ledger_proofs import Checkpoint
from consent.ledger_search import SearchRow, search_row
from consent.repositories import LedgerRepository

from .conftest import Repositories

MEMBER = "member:" + "a" * 32


def _read_event(brand: str = "brand_1", member: str = MEMBER,
                fields: tuple[str, ...] = ("city",)) -> Event:
    return Event.of(ProfileRead(member=member, client="client_1", purpose="dpv:Marketing",
                                fields=list(fields), grants=["grant_1"]), f"brand:{brand}")


def _written(seq: int, at: int, event: Event) -> tuple[tuple[int, bytes], SearchRow]:
    """The entry and the search row the ledger writes for ``event`` at ``seq``."""
    return (seq, canonical_body(seq, utc_time(at), event)), search_row(seq, at, event)


def _hash(seq: int) -> bytes:
    return hashlib.sha256(seq.to_bytes(8, "big")).digest()


def _append(store: LedgerRepository, events: list[tuple[int, Event]]) -> None:
    """Entries from the next seq on, ``(at, event)`` in the order given, one node each."""
    with store.transaction():
        first = store.size()
        written = [_written(first + n, at, event) for n, (at, event) in enumerate(events)]
        store.append([entry for entry, _ in written],
                     [(seq, _hash(seq)) for (seq, _), _ in written],
                     [row for _, row in written])


def test_an_empty_ledger_store(repositories: Repositories) -> None:
    store = repositories.ledger
    assert store.size() == 0
    assert store.body(0) is None
    assert store.last_position() is None
    assert list(store.entries()) == [] and list(store.nodes()) == []
    assert store.checkpoints() == [] and store.latest_checkpoint() is None
    assert store.latest_checkpoint_size() is None
    assert store.spool_marks() == {} and store.spool_mark("f" * 32) == 0
    assert repositories.access_index.count(MEMBER) == 0


def test_entries_and_nodes_are_read_back_as_written(repositories: Repositories) -> None:
    store = repositories.ledger
    bodies = [b'{"actor":"system","seq":0,"tag":"a",', b'{"actor":"member:x","seq":1,"tag":"b",',
              b'{"actor":"member:x","seq":2,"tag":"a","member:y"']
    with store.transaction():
        store.append(list(enumerate(bodies)), [(p, _hash(p)) for p in range(4)])
    assert store.size() == 3
    assert store.body(1) == bodies[1] and store.body(3) is None
    assert [(seq, bytes(body)) for seq, body in store.entries()] == list(enumerate(bodies))
    assert [(p, bytes(h)) for p, h in store.nodes()] == [(p, _hash(p)) for p in range(4)]
    assert store.nodes_at([3, 1, 9]) == {1: _hash(1), 3: _hash(3)}
    assert store.nodes_at([]) == {}
    assert store.nodes_from(2) == [(2, _hash(2)), (3, _hash(3))]
    assert store.last_position() == 3
    # The newest body with the prefix and the marker; a scan by bytes.
    assert store.latest_body(b'{"actor":"member:x",', b'"tag":"a",') == bodies[2]
    assert store.latest_body(b'{"actor":"member:x",', b'"tag":"c",') is None
    assert store.bodies_containing(b'"member:') == [(1, bodies[1]), (2, bodies[2])]


def test_an_append_is_all_or_nothing(repositories: Repositories) -> None:
    store = repositories.ledger
    with pytest.raises(RuntimeError), store.transaction():
        entry, row = _written(0, 5, _read_event())
        store.append([entry], [(0, _hash(0))], [row])
        raise RuntimeError("the caller failed")
    assert store.size() == 0 and store.last_position() is None
    assert repositories.access_index.count(MEMBER) == 0


def test_a_savepoint_undoes_only_its_own_part(repositories: Repositories) -> None:
    store = repositories.ledger
    with store.transaction():
        store.append([(0, b"kept")], [(0, _hash(0))])
        with pytest.raises(RuntimeError), store.savepoint():
            store.append([(1, b"undone")], [(1, _hash(1))])
            raise RuntimeError("the nested write failed")
        store.append([(1, b"next")], [(1, _hash(1))])
    assert [(seq, bytes(body)) for seq, body in store.entries()] == [(0, b"kept"), (1, b"next")]
    assert store.end_use() is False          # nothing was left open


def test_checkpoints_come_by_tree_size(repositories: Repositories) -> None:
    store = repositories.ledger
    later = Checkpoint(9, _hash(9), "2026-01-02T00:00:00Z", "note 9")
    earlier = Checkpoint(4, _hash(4), "2026-01-01T00:00:00Z", "note 4")
    with store.transaction():
        store.add_checkpoint(later)
        store.add_checkpoint(earlier)
    assert store.checkpoints() == [earlier, later]
    assert store.latest_checkpoint() == later
    assert store.latest_checkpoint_size() == 9


def test_spool_marks_are_set_and_moved(repositories: Repositories) -> None:
    store = repositories.ledger
    first, second = "0" * 32, "1" * 32
    with store.transaction():
        store.set_spool_mark(first, 3)
        store.set_spool_mark(second, 1)
        store.set_spool_mark(first, 7)
    assert store.spool_mark(first) == 7 and store.spool_mark("2" * 32) == 0
    assert store.spool_marks() == {first: 7, second: 1}


def test_the_read_index_lists_reads_by_when_they_were_served(
        repositories: Repositories) -> None:
    # Merged late: seq 2 was served before seq 1 (spools enter the ledger one after another).
    _append(repositories.ledger, [(86_400 + 50, _read_event("brand_1")),
                                  (2 * 86_400 + 10, _read_event("brand_2")),
                                  (86_400 + 60, _read_event("brand_2")),
                                  (2 * 86_400 + 10, _read_event("brand_1"))])
    index = repositories.access_index
    assert index.count(MEMBER) == 4 and index.count("member:" + "b" * 32) == 0
    reads = index.reads(MEMBER, limit=10)
    assert [(r.entry.seq, r.brand_id, r.read_at) for r in reads] == [
        (3, "brand_1", 2 * 86_400 + 10), (1, "brand_2", 2 * 86_400 + 10),
        (2, "brand_2", 86_400 + 60), (0, "brand_1", 86_400 + 50)]
    assert reads[0].entry.details["member"] == MEMBER
    assert [r.entry.seq for r in index.reads(MEMBER, limit=2, offset=1)] == [1, 2]
    daily = [(d.day, d.brand_id, d.reads) for d in index.daily(MEMBER, since=86_400,
                                                              day=86_400)]
    assert sorted(daily) == [(1, "brand_1", 1), (1, "brand_2", 1), (2, "brand_1", 1),
                             (2, "brand_2", 1)]
    assert [d.day for d in index.daily(MEMBER, since=2 * 86_400, day=86_400)] == [2, 2]


def test_the_read_index_sums_up_a_brands_reads_per_member(
        repositories: Repositories) -> None:
    other = "member:" + "0" * 32                   # sorts before MEMBER
    _append(repositories.ledger, [
        (at, _read_event(brand, member)) for at, brand, member in [
            (300, "brand_1", MEMBER), (100, "brand_2", MEMBER), (200, "brand_1", MEMBER),
            (400, "brand_1", other), (200, "brand_1", MEMBER)]])
    listed = repositories.access_index.by_brand("brand_1")
    assert listed == [MemberReads(other, 1, frozenset({"city"}), 400, 400),
                      MemberReads(MEMBER, 3, frozenset({"city"}), 200, 300)]
    assert repositories.access_index.by_brand("brand_2") == [
        MemberReads(MEMBER, 1, frozenset({"city"}), 100, 100)]
    assert repositories.access_index.by_brand("brand_3") == []


def test_a_read_naming_no_field_still_counts(repositories: Repositories) -> None:
    _append(repositories.ledger, [(50, _read_event(fields=()))])
    assert repositories.access_index.by_brand("brand_1") == [
        MemberReads(MEMBER, 1, frozenset(), 50, 50)]


def test_only_brand_reads_are_reads(repositories: Repositories) -> None:
    """The member's other entries (a grant they gave) and an entry of a read's tag whose actor
    is no brand are in the ledger and its search, but not among the member's reads."""
    grant = Event.of(GrantGiven(grant="grant_1", brand="brand_1", purpose="dpv:Marketing",
                                fields=["city"], mode="shared", ends_at=900, version=1), MEMBER)
    _append(repositories.ledger, [(10, grant), (20, _read_event()),
                                  (30, Event(_read_event().tag, "system",
                                             _read_event().details))])
    index = repositories.access_index
    assert index.count(MEMBER) == 1
    assert [r.entry.seq for r in index.reads(MEMBER, limit=10)] == [1]
    assert [(d.brand_id, d.reads) for d in index.daily(MEMBER, since=0, day=86_400)] == [
        ("brand_1", 1)]
    assert index.by_brand("brand_1") == [MemberReads(MEMBER, 1, frozenset({"city"}), 20, 20)]


def test_a_snapshot_reads_what_was_committed(repositories: Repositories) -> None:
    store = repositories.ledger
    with store.transaction():
        store.append([(0, b"a")], [(0, _hash(0))])
    with store.snapshot():
        assert store.size() == 1
        assert [(seq, bytes(body)) for seq, body in store.entries()] == [(0, b"a")]
