"""The ledger search (consent/ledger_search.py) over the real ledger store: what each entry is
found under, the migration's backfill against the ledger's own rules, the plan of every filter
combination (an index walk, never a scan), and cursors that refuse to be edited."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent.context import open_ledger
from consent.errors import SearchCursorError
from consent.event_details import (
    CommunityOpened,
    GrantGiven,
    InsightsQueried,
    ProfileRead,
    RoleGranted,
    TermsChanged,
)
from consent.events import Event
from consent.ledger import Ledger
from consent.ledger_search import (
    LedgerQuery,
    LedgerSearch,
    tag_prefixes,
    tags_matching,
)
from consent.sqlcipher.ledger_search import SqlcipherLedgerSearch
from vault import migrations, schema
from vault.home import VaultHome
from vault.keys import MasterKey

MEMBER = "member:" + "a" * 32
OTHER = "member:" + "b" * 32
KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.25

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["recent", "folded"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    """A ledger whose search rows wait in ``search_recent`` as appended (the first 16,384), or
    are folded into the index every 3: every search reads both."""
    with open_ledger(VaultHome(tmp_path / "var"), MasterKey.generate(), clock=clock,
                     checkpoint_every=0) as opened:
        if request.param == "folded":
            opened.store.fold_rows = 3                # type: ignore[attr-defined]
        yield opened


def _record_each_kind(ledger: Ledger, clock: Clock) -> None:
    ledger.record_event(actor=MEMBER, details=GrantGiven(
        grant="grant_1", brand="brand_a", purpose="dpv:Marketing", fields=["city"],
        mode="shared", ends_at=1_900_000_000, version=1))
    clock.now += 1.5
    ledger.record_event(actor="brand:brand_b", details=ProfileRead(
        member=OTHER, client="client_1", purpose="dpv:ServiceProvision", fields=["city"],
        grants=["grant_2"]))
    ledger.record_event(actor=MEMBER, details=TermsChanged(
        version=2, purposes=["dpv:Marketing", "dpv:ResearchAndDevelopment"], max_days=30))
    ledger.record_event(actor="brand:brand_c", details=CommunityOpened(
        community="com_1", brand="brand_c", purposes=["dpv:ServiceOptimisation"]))
    ledger.record_event(actor="brand:brand_a", details=InsightsQueried(
        kind="touchpoints:nps", epsilon=0.5, suppressed=False))
    ledger.record_event(actor="ledger", details=RoleGranted(member=OTHER))
    ledger.record_event(actor="brand:", tag="community:opened", details={"purposes": [3]})


def test_what_each_entry_is_found_under(ledger: Ledger, clock: Clock) -> None:
    _record_each_kind(ledger, clock)
    assert ledger.search_index is not None
    rows = ledger.search_index.rows(range(ledger.size))
    assert [(r.at, r.tag, r.brand, r.principal, r.purposes) for r in rows] == [
        (1_800_000_000, "consent:grant:given", "brand_a", MEMBER, ("dpv:Marketing",)),
        (1_800_000_001, "access:profile:read", "brand_b", OTHER, ("dpv:ServiceProvision",)),
        (1_800_000_001, "consent:terms:changed", None, MEMBER,
         ("dpv:Marketing", "dpv:ResearchAndDevelopment")),
        (1_800_000_001, "community:opened", "brand_c", None, ("dpv:ServiceOptimisation",)),
        (1_800_000_001, "insights:query", "brand_a", None, ()),
        (1_800_000_001, "officer:role:granted", None, OTHER, ()),
        (1_800_000_001, "community:opened", None, None, ()),
    ]


def test_the_migration_fills_the_index_by_the_ledgers_own_rules(
        ledger: Ledger, clock: Clock) -> None:
    _record_each_kind(ledger, clock)
    for offset in range(20):          # reads merged late, with milliseconds
        ledger.record_events([Event.of(ProfileRead(
            member=MEMBER, client="c", purpose="dpv:Marketing", fields=["city"], grants=["g"]),
            "brand:brand_a", at=clock.now - 3.999 + offset / 7)])
    assert ledger.search_index is not None
    written = ledger.search_index.rows(range(ledger.size))
    database = ledger.database
    step = next(m for m in schema.LEDGER.migrations if m.name == "search_index")
    with database.transaction():
        database.execute("DELETE FROM search_purposes")
        database.execute("DELETE FROM search_index")
        database.execute("DELETE FROM search_recent")
        for statement in migrations.statements(step.sql):
            if statement.startswith("INSERT"):
                database.execute(statement)
    assert ledger.search_index.rows(range(ledger.size)) == written


def test_recent_rows_are_folded_into_the_index_with_the_append_that_fills_them(
        tmp_path: Path, clock: Clock) -> None:
    """Rows wait in search_recent until FOLD_ROWS of them are there; the append that makes
    them so many moves them all, and their purposes, into the index in its own transaction
    (so an append rolled back leaves the rows where they were)."""
    with open_ledger(VaultHome(tmp_path / "var"), MasterKey.generate(), clock=clock,
                     checkpoint_every=0) as ledger:
        ledger.store.fold_rows = 4                    # type: ignore[attr-defined]
        database = ledger.database

        def counts() -> tuple[int, int, int]:
            return tuple(database.one(f"SELECT count(*) FROM {table}")[0] for table in (
                "search_recent", "search_index", "search_purposes"))  # type: ignore[return-value]

        def grant(n: int) -> Event:
            return Event.of(GrantGiven(grant=f"grant_{n}", brand="brand_a",
                                       purpose="dpv:Marketing", fields=["city"], mode="shared",
                                       ends_at=1_900_000_000, version=1), MEMBER)

        ledger.record_events([grant(0), grant(1), grant(2)])
        assert counts() == (3, 0, 0)
        with pytest.raises(RuntimeError), ledger.transaction():
            ledger.record_events([grant(3)])           # the fourth: folded ...
            assert counts() == (0, 4, 4)
            raise RuntimeError                          # ... and rolled back with the append
        assert counts() == (3, 0, 0) and ledger.size == 3
        ledger.record_events([grant(3), grant(4)])
        assert counts() == (0, 5, 5)
        ledger.record_events([grant(5)])
        assert counts() == (1, 5, 5)
        assert [row.seq for row in ledger.search_index.rows(range(6))] == list(range(6))


def test_a_search_finds_the_same_however_much_was_folded(tmp_path: Path, clock: Clock) -> None:
    """The same entries in a ledger that never folded and in one that folded every 5: every
    filter combination, both directions, page by page, finds the same entries."""
    events = []
    for n in range(40):
        events.append((n, Event.of(GrantGiven(
            grant=f"grant_{n}", brand=("brand_a", "brand_b")[n % 2],
            purpose=("dpv:Marketing", "dpv:ServiceProvision")[n % 3 == 0], fields=["city"],
            mode="shared", ends_at=1_900_000_000, version=1), (MEMBER, OTHER)[n % 5 == 0])))
        if n % 4 == 0:                                # a read served a little earlier
            events.append((n, Event.of(ProfileRead(
                member=(MEMBER, OTHER)[n % 8 == 0], client="client_1", purpose="dpv:Marketing",
                fields=["city"], grants=["g"]), "brand:brand_a", at=clock.now + n - 2.5)))
    searches = []
    for fold in (16_384, 5):
        ledger = open_ledger(VaultHome(tmp_path / str(fold)), MasterKey.generate(),
                             clock=clock, checkpoint_every=0)
        ledger.store.fold_rows = fold                 # type: ignore[attr-defined]
        start = clock.now
        for n, event in events:
            clock.now = start + n
            ledger.record_events([event])
        clock.now = start
        searches.append((ledger, _search(ledger)))
    (never, unfolded), (often, folded) = searches
    assert never.database.one("SELECT count(*) FROM search_index")[0] == 0
    assert often.database.one("SELECT count(*) FROM search_recent")[0] < 5
    base = int(clock.now)
    try:
        for brand, tags, principal, purpose, since, until in itertools.product(
                (None, "brand_a"), ((), ("consent:grant:given",),
                                    ("consent:grant:given", "access:profile:read")),
                (None, MEMBER), (None, "dpv:Marketing"), (None, base + 9), (None, base + 30)):
            query = LedgerQuery(brand=brand, tags=tags, principal=principal, purpose=purpose,
                                since=since, until=until)
            found = [h.row.seq for h in unfolded.all(query, batch=7)]
            assert [h.row.seq for h in folded.all(query, batch=7)] == found, query
            assert folded.count(query) == unfolded.count(query) == len(found)
            if len(found) > 3:                        # back from the second page
                second = folded.page(query, folded.page(query, size=3).older, size=3)
                assert second.newer is not None
                assert [h.row.seq for h in folded.page(query, second.newer, size=3).hits] == (
                    found[:3])
        for principal in (MEMBER, OTHER):
            assert [(r.entry.seq, r.brand_id, r.read_at) for r in often.access_index.reads(
                principal, limit=4, offset=1)] == [
                (r.entry.seq, r.brand_id, r.read_at) for r in never.access_index.reads(
                    principal, limit=4, offset=1)]
            assert often.access_index.count(principal) == never.access_index.count(principal)
            assert often.access_index.daily(principal, since=0, day=10) == (
                never.access_index.daily(principal, since=0, day=10))
        assert often.access_index.by_brand("brand_a") == never.access_index.by_brand("brand_a")
    finally:
        never.close()
        often.close()


def test_tag_patterns() -> None:
    assert tags_matching("consent:grant:given") == ("consent:grant:given",)
    assert tags_matching("consent:grant") == ()             # a prefix ends at a colon
    assert tags_matching("consent:grant:") == (
        "consent:grant:expired", "consent:grant:given", "consent:grant:narrowed",
        "consent:grant:released", "consent:grant:replaced", "consent:grant:withdrawn")
    assert set(tags_matching("consent:")) >= set(tags_matching("consent:grant:"))
    assert tags_matching("nothing:") == () and tags_matching("") == ()
    assert "consent:" in tag_prefixes() and "consent:grant:" in tag_prefixes()


def _queries() -> Iterator[LedgerQuery]:
    for brand, tags, principal, purpose, since, until in itertools.product(
            (None, "brand_a"), ((), ("consent:grant:given",),
                                ("consent:grant:given", "consent:grant:withdrawn")),
            (None, MEMBER), (None, "dpv:Marketing"), (None, 5), (None, 9)):
        yield LedgerQuery(brand=brand, tags=tags, principal=principal, purpose=purpose,
                          since=since, until=until)


def test_no_filter_combination_scans_a_table(ledger: Ledger) -> None:
    """Every combination, each direction: every table of the index is reached through an index
    whose leading columns are the filters (or the time index), and never sorted; what is
    scanned or sorted is only the recent rows not yet folded in (at most ``FOLD_ROWS``) and
    the LIMIT-ed walks being merged."""
    index = SqlcipherLedgerSearch(ledger.database)
    checked = 0
    for query in _queries():
        for before, after in ((None, None), ((7, 3), None), (None, (7, 3))):
            sql, parameters = index.statement(query, before=before, after=after, limit=51)
            plan = [(row[0], row[1], row[3]) for row in ledger.database.all(
                "EXPLAIN QUERY PLAN " + sql, parameters)]
            steps = [detail for _, _, detail in plan]
            walks = [step for step in steps if step.startswith(("SEARCH s ", "SCAN s "))]
            assert walks and all(step.startswith(("SEARCH s USING", "SCAN s USING COVERING"
                                                  " INDEX search_by_time")) for step in walks)
            if any(step.startswith("SCAN s") for step in walks):    # no filter, newest first
                assert query == LedgerQuery() and before is None and after is None
            assert all(step.startswith(("SEARCH s ", "SCAN s ", "SEARCH p EXISTS USING PRIMARY"
                                        " KEY", "SCAN r", "SCAN j EXISTS VIRTUAL TABLE",
                                        "SCAN (subquery", "USE TEMP B-TREE FOR ORDER BY",
                                        "MERGE (UNION ALL)", "LEFT", "RIGHT", "CO-ROUTINE"))
                       for step in steps), steps
            for _, parent, detail in plan:
                if detail.startswith("USE TEMP B-TREE"):
                    beside = [d for _, p, d in plan if p == parent]
                    assert not any(d.startswith(("SEARCH s ", "SCAN s ")) for d in beside), plan
            assert steps.count("SCAN r") == 1               # the recent rows, once per search
            if query.brand or query.tags:
                assert all(("brand=?" in s) == bool(query.brand) or query.principal
                           for s in walks if s.startswith("SEARCH s")), plan
            checked += 1
    assert checked == 2 * 3 * 2 * 2 * 2 * 2 * 3


def _search(ledger: Ledger) -> LedgerSearch:
    assert ledger.search_index is not None
    return LedgerSearch(ledger.search_index, KEY)


def test_pages_go_back_and_forth_by_cursor(ledger: Ledger, clock: Clock) -> None:
    for n in range(23):
        clock.now += 1
        ledger.record_event(actor=MEMBER, details=GrantGiven(
            grant=f"grant_{n}", brand="brand_a" if n % 2 else "brand_b", purpose="dpv:Marketing",
            fields=["city"], mode="shared", ends_at=1_900_000_000, version=1))
    search = _search(ledger)
    query = LedgerQuery(brand="brand_a")
    first = search.page(query, size=5)
    assert [h.row.seq for h in first.hits] == [21, 19, 17, 15, 13]
    assert first.newer is None and first.older is not None
    second = search.page(query, first.older, size=5)
    assert [h.row.seq for h in second.hits] == [11, 9, 7, 5, 3]
    third = search.page(query, second.older, size=5)
    assert [h.row.seq for h in third.hits] == [1] and third.older is None
    assert third.newer is not None
    back = search.page(query, third.newer, size=5)
    assert [h.row.seq for h in back.hits] == [11, 9, 7, 5, 3]
    assert back.newer is not None and back.older is not None
    assert [h.row.seq for h in search.page(query, back.newer, size=5).hits] == [
        21, 19, 17, 15, 13]
    # Entries appended meanwhile do not move the pages already seen.
    ledger.record_event(actor=MEMBER, details=GrantGiven(
        grant="grant_new", brand="brand_a", purpose="dpv:Marketing", fields=["city"],
        mode="shared", ends_at=1_900_000_000, version=1))
    assert [h.row.seq for h in search.page(query, first.older, size=5).hits] == [
        11, 9, 7, 5, 3]
    assert [h.row.seq for h in search.all(query, batch=4)] == [23, *range(21, -1, -2)]
    assert search.count(query) == 12


def _tampered(cursor: str) -> list[str]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    flipped = bytes([raw[0] ^ 1]) + raw[1:]
    moved = raw.replace(b",", b",1", 1)
    return [cursor[:-1], cursor + "A", cursor[:-2] + ("AB" if cursor[-2:] != "AB" else "BA"),
            base64.urlsafe_b64encode(flipped).decode().rstrip("="),
            base64.urlsafe_b64encode(moved).decode().rstrip("="),
            "", "!!!!", "x" * 300, "AAAA", "a"]


def test_a_changed_or_foreign_cursor_is_refused(ledger: Ledger, clock: Clock) -> None:
    for _ in range(6):
        clock.now += 1
        ledger.record_event(actor=MEMBER, details=RoleGranted(member=MEMBER))
    search = _search(ledger)
    cursor = search.page(LedgerQuery(), size=2).older
    assert cursor is not None
    for bad in _tampered(cursor):
        with pytest.raises(SearchCursorError):
            search.page(LedgerQuery(), bad, size=2)
    with pytest.raises(SearchCursorError):          # made for another search
        search.page(LedgerQuery(tags=("officer:role:granted",)), cursor, size=2)
    with pytest.raises(SearchCursorError):          # made by another vault
        LedgerSearch(search.index, b"o" * 32).page(LedgerQuery(), cursor, size=2)
    assert len(search.page(LedgerQuery(), cursor, size=2).hits) == 2


def test_a_pages_rows_and_bodies_are_read_by_primary_key(ledger: Ledger) -> None:
    """After the walk, a page's index rows and bodies: by seq, never a scan (a join with the
    purposes table, which leads with the purpose, would scan it)."""
    database = ledger.database
    for sql in ("SELECT seq, at, tag, brand, principal, purposes FROM search_index"
                " WHERE seq IN (?, ?)",
                "SELECT seq, at, tag, brand, principal, purposes FROM search_recent"
                " WHERE seq IN (?, ?)",
                "SELECT seq, body FROM entries WHERE seq IN (?, ?)"):
        plan = [row[3] for row in database.all("EXPLAIN QUERY PLAN " + sql, (1, 2))]
        assert all(step.startswith("SEARCH") and "PRIMARY KEY" in step for step in plan), plan
