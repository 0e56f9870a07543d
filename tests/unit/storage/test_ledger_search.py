"""Contracts of the ledger's search index (``consent/repositories.py``
``LedgerSearchRepository``): rows written with their entries, every filter and its combinations
against a reference filter in Python, both directions from a position, counts."""

from __future__ import annotations

import hashlib
import itertools
import random

import pytest

from consent.ledger_search import LedgerQuery, Position, SearchRow
from consent.repositories import LedgerSearchRepository

from .conftest import Repositories

BRANDS = ("brand_a", "brand_b", None)
TAGS = ("consent:grant:given", "consent:grant:withdrawn", "access:profile:read",
        "community:opened")
PRINCIPALS = ("member:" + "1" * 32, "member:" + "2" * 32, None)
PURPOSES = ("dpv:Marketing", "dpv:ServiceProvision", "dpv:ResearchAndDevelopment")


def _rows(count: int, seed: int = 7) -> list[SearchRow]:
    """Rows with times that mostly rise but sometimes step back (reads merged from a spool)."""
    chooser = random.Random(seed)
    rows, at = [], 1_800_000_000
    for seq in range(count):
        at += chooser.choice((0, 1, 1, 2, 5))
        late = chooser.random() < 0.15
        purposes = tuple(sorted(set(chooser.sample(PURPOSES, chooser.choice((0, 1, 1, 2))))))
        rows.append(SearchRow(seq, at - (7 if late else 0), chooser.choice(TAGS),
                              chooser.choice(BRANDS), chooser.choice(PRINCIPALS), purposes))
    return rows


def _body(row: SearchRow) -> bytes:
    return b'{"details":{},"seq":%d}' % row.seq


def _write(repositories: Repositories, rows: list[SearchRow]) -> None:
    store = repositories.ledger
    with store.transaction():
        store.append([(r.seq, _body(r)) for r in rows],
                     [(r.seq, hashlib.sha256(bytes([r.seq % 256])).digest()) for r in rows],
                     rows)


def _matches(row: SearchRow, query: LedgerQuery) -> bool:
    return ((query.brand is None or row.brand == query.brand)
            and (query.principal is None or row.principal == query.principal)
            and (query.purpose is None or query.purpose in row.purposes)
            and (not query.tags or row.tag in query.tags)
            and (query.since is None or row.at >= query.since)
            and (query.until is None or row.at < query.until))


def _expected(rows: list[SearchRow], query: LedgerQuery) -> list[int]:
    found = [r for r in rows if _matches(r, query)]
    return [r.seq for r in sorted(found, key=lambda r: (r.at, r.seq), reverse=True)]


def _walk_older(index: LedgerSearchRepository, query: LedgerQuery, limit: int) -> list[int]:
    seen: list[int] = []
    position: Position | None = None
    while True:
        hits = index.search(query, before=position, limit=limit)
        seen += [h.row.seq for h in hits]
        if len(hits) < limit:
            return seen
        position = hits[-1].position


def _walk_newer(index: LedgerSearchRepository, query: LedgerQuery, limit: int,
                start: Position) -> list[int]:
    """From ``start`` towards the newest, each page newest first; in the end newest first."""
    pages: list[list[int]] = []
    position = start
    while True:
        hits = index.search(query, after=position, limit=limit)
        if hits:
            pages.append([h.row.seq for h in hits])
        if len(hits) < limit:
            return [seq for page in reversed(pages) for seq in page]
        position = hits[0].position


def _queries() -> list[LedgerQuery]:
    queries = []
    for brand, tags, principal, purpose, window in itertools.product(
            ("brand_a", None), ((), ("consent:grant:given",),
                                ("consent:grant:given", "consent:grant:withdrawn")),
            (PRINCIPALS[0], None), ("dpv:Marketing", None),
            ((None, None), (1_800_000_100, None), (None, 1_800_000_400),
             (1_800_000_100, 1_800_000_400))):
        queries.append(LedgerQuery(brand=brand, tags=tags, principal=principal,
                                   purpose=purpose, since=window[0], until=window[1]))
    return queries


def test_rows_are_read_back_as_written(repositories: Repositories) -> None:
    rows = _rows(40)
    _write(repositories, rows)
    assert repositories.ledger_search.rows([r.seq for r in rows]) == rows
    assert repositories.ledger_search.rows([3, 1, 99]) == [rows[1], rows[3]]
    hit = repositories.ledger_search.search(LedgerQuery(), before=None, limit=1)[0]
    assert hit.body == _body(hit.row)


def _name(query: LedgerQuery) -> str:
    return (f"{'B' if query.brand else ''}{'T' * len(query.tags)}{'M' if query.principal else ''}"
            f"{'P' if query.purpose else ''}{'S' if query.since else ''}"
            f"{'U' if query.until else ''}" or "all")


def test_every_filter_combination_finds_what_a_plain_filter_finds(
        repositories: Repositories) -> None:
    # One index for all 96 combinations: they only read it (written once, not 96 times).
    rows = _rows(300)
    _write(repositories, rows)
    index = repositories.ledger_search
    for query in _queries():
        expected = _expected(rows, query)
        assert _walk_older(index, query, 7) == expected, _name(query)
        assert index.count(query) == len(expected), _name(query)
        if expected:
            oldest = min((r for r in rows if r.seq in expected), key=lambda r: (r.at, r.seq))
            # From the oldest match upwards: every match but that one, newest first.
            assert _walk_newer(index, query, 5, (oldest.at, oldest.seq)) == expected[:-1], \
                _name(query)


def test_a_position_excludes_itself_and_splits_ties_by_seq(repositories: Repositories) -> None:
    rows = [SearchRow(seq, 100, "community:opened", "brand_a", None) for seq in range(5)]
    _write(repositories, rows)
    index = repositories.ledger_search
    assert [h.row.seq for h in index.search(LedgerQuery(), before=(100, 3), limit=10)] == [2, 1,
                                                                                          0]
    assert [h.row.seq for h in index.search(LedgerQuery(), after=(100, 1), limit=10)] == [4, 3, 2]
    assert [h.row.seq for h in index.search(LedgerQuery(), after=(100, 1), limit=2)] == [3, 2]
    with pytest.raises(ValueError, match="not both"):
        index.search(LedgerQuery(), before=(1, 1), after=(1, 1), limit=1)


def test_an_empty_index_finds_nothing(repositories: Repositories) -> None:
    index = repositories.ledger_search
    assert index.search(LedgerQuery(brand="brand_a"), before=None, limit=5) == []
    assert index.count(LedgerQuery()) == 0
    assert index.rows([0]) == []


def test_a_search_of_more_rows_than_a_statement_takes(repositories: Repositories) -> None:
    rows = [SearchRow(seq, 100 + seq, "community:opened", "brand_a", None, ("dpv:Marketing",))
            for seq in range(2500)]
    _write(repositories, rows)
    hits = repositories.ledger_search.search(LedgerQuery(purpose="dpv:Marketing"),
                                             limit=2400)
    assert [h.row.seq for h in hits] == list(range(2499, 99, -1))
    assert repositories.ledger_search.rows(list(range(2500))) == rows
