"""Searching the ledger: by brand, purpose, event tag, time and pseudonym, a page at a time.

The ledger store keeps a search index beside the tree (ledger migration 2,
``vault/schema/sqlite/ledger/0002_search_index.sql``): per entry its time, tag, brand and
principal, and one row per purpose it names. :func:`search_row` says what an entry is indexed
under; :class:`consent.ledger.Ledger` writes that row in the transaction of the append, and the
migration filled it in by the same rules for the entries a ledger held before it (a test holds
the two equal). Where each field comes from (consent/event_details.py):

    brand      ``details.brand`` (grants, terms, agreements, communities, surveys' posts, care
               cases), else the actor less ``brand:`` (brand reads, insights queries)
    principal  ``details.member`` (brand reads, released survey answers, officer roles), else a
               ``member:`` actor (a member's own grants, terms, erasure, memberships)
    purposes   ``details.purpose`` (grants, brand reads) and ``details.purposes`` (standing
               terms, communities)

Invariants:
- Derived, not recorded: a row holds only what its entry holds, is never signed or proved, and
  is written with its entry (never alone, never changed). Entries hold pseudonyms and digests,
  never personal data, and so does the index.
- Found as soon as it is appended. SQLCipher's store writes a new row to ``search_recent``, a
  table with no index but its seq, and the append that makes FOLD_ROWS of them moves them all
  into the index, in its own transaction (ledger migration 4): the index's B-trees, ordered by
  member, brand, tag and purpose, then take thousands of rows per page written instead of a
  few. Every search reads both: one walk of an index and a scan of at most FOLD_ROWS recent
  rows, merged (``consent/sqlcipher/ledger_search.py``).
- Results come newest first: by the entry's time, then by ``seq`` (reads merged from a worker's
  spool keep the time they were served, a little before entries appended meanwhile; the order is
  the one the member's own access log shows). A cursor is the ``(time, seq)`` of a page's edge,
  so a page costs its own rows whatever its depth, and entries appended while one pages never
  move the pages already seen.
- A cursor is opaque and bound to its search: HMAC-SHA-256 under a key of the vault over the
  position, direction and filters. One that was edited, cut short, or carried over to other
  filters is refused with :class:`SearchCursorError` (a 400), never half-read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConsentInputError, SearchCursorError
from .events import Event, EventTag

if TYPE_CHECKING:
    from .repositories import LedgerSearchRepository

BRAND_ACTOR = "brand:"
MEMBER_ACTOR = "member:"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
TAG_SEPARATOR = ":"

Position = tuple[int, int]                  # (time in Unix seconds, seq)


@dataclass(frozen=True)
class SearchRow:
    """What one entry is found under."""

    seq: int
    at: int
    tag: str
    brand: str | None
    principal: str | None
    purposes: tuple[str, ...] = ()


def search_row(seq: int, at: int, event: Event) -> SearchRow:
    """The index row of ``event`` appended at ``seq`` at Unix second ``at`` (the rules of the
    module docstring; the migration's SQL applies the same)."""
    details: Mapping[str, Any] = event.details
    actor = event.actor
    brand = details.get("brand")
    if not isinstance(brand, str):
        brand = (actor[len(BRAND_ACTOR):]
                 if actor.startswith(BRAND_ACTOR) and len(actor) > len(BRAND_ACTOR) else None)
    principal = details.get("member")
    if not isinstance(principal, str):
        principal = (actor if actor.startswith(MEMBER_ACTOR) and len(actor) > len(MEMBER_ACTOR)
                     else None)
    purposes: set[str] = set()
    if isinstance(details.get("purpose"), str):
        purposes.add(details["purpose"])
    named = details.get("purposes")
    if isinstance(named, list):
        purposes.update(p for p in named if isinstance(p, str))
    return SearchRow(seq, at, str(event.tag), brand, principal, tuple(sorted(purposes)))


def purposes_text(purposes: tuple[str, ...]) -> str | None:
    """How the index stores an entry's purposes: a sorted JSON array (as the migration's
    ``json_group_array`` writes it), or None for none."""
    if not purposes:
        return None
    return json.dumps(sorted(purposes), ensure_ascii=False, separators=(",", ":"))


def tags_matching(pattern: str) -> tuple[str, ...]:
    """The tags a tag filter stands for: one tag exactly, or every tag starting with a prefix
    that ends at a colon (``consent:``, ``consent:grant:``); empty if none does."""
    if pattern.endswith(TAG_SEPARATOR):
        return tuple(sorted(tag.value for tag in EventTag if tag.value.startswith(pattern)))
    return (pattern,) if pattern in {tag.value for tag in EventTag} else ()


def tag_prefixes() -> list[str]:
    """Every prefix a tag filter may end at a colon with, for the form's suggestions."""
    found = set()
    for tag in EventTag:
        parts = tag.value.split(TAG_SEPARATOR)
        for cut in range(1, len(parts)):
            found.add(TAG_SEPARATOR.join(parts[:cut]) + TAG_SEPARATOR)
    return sorted(found)


DAY = 86_400
MAX_FILTER_LENGTH = 200


def day_start(day: dt.date) -> int:
    """Unix seconds at the start of ``day``, UTC."""
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


def query_of(*, brand: str | None = None, purpose: str | None = None, tag: str | None = None,
             principal: str | None = None, since: int | None = None,
             until: int | None = None) -> LedgerQuery:
    """The query of filters as an officer gives them (blank: any); ``tag`` an exact tag or a
    prefix ending at a colon. Raises ConsentInputError naming what is wrong."""
    def given(value: str | None, name: str) -> str | None:
        value = (value or "").strip() or None
        if value is not None and len(value) > MAX_FILTER_LENGTH:
            raise ConsentInputError(f"the {name} is at most {MAX_FILTER_LENGTH} characters")
        return value

    pattern = given(tag, "tag")
    tags = tags_matching(pattern) if pattern else ()
    if pattern and not tags:
        raise ConsentInputError(
            f"no ledger tag is {pattern!r} or starts with it: give a whole tag, such as"
            " consent:grant:given, or a prefix ending in a colon, such as consent:")
    if since is not None and until is not None and until <= since:
        raise ConsentInputError("the end of the time range is not after its start")
    return LedgerQuery(brand=given(brand, "brand"), purpose=given(purpose, "purpose"),
                       tags=tags, principal=given(principal, "pseudonym"), since=since,
                       until=until)


@dataclass(frozen=True)
class LedgerQuery:
    """A search: every filter given must hold (blank ones are left out). ``tags``: the exact
    tags allowed (:func:`tags_matching` of the officer's pattern), empty for any; ``since``
    inclusive and ``until`` exclusive, Unix seconds."""

    brand: str | None = None
    purpose: str | None = None
    tags: tuple[str, ...] = ()
    principal: str | None = None
    since: int | None = None
    until: int | None = None

    def fingerprint(self) -> bytes:
        return json.dumps([self.brand, self.purpose, list(self.tags), self.principal,
                           self.since, self.until], separators=(",", ":")).encode()


@dataclass(frozen=True)
class SearchHit:
    """One entry found: its index row and its body, exactly as stored (the Merkle leaf)."""

    row: SearchRow
    body: bytes

    @property
    def position(self) -> Position:
        return (self.row.at, self.row.seq)

    def details(self) -> dict[str, Any]:
        fields: dict[str, Any] = json.loads(self.body)["details"]
        return fields


@dataclass(frozen=True)
class SearchPage:
    """One page, newest first, with the cursors of the pages either side (None at an end)."""

    hits: list[SearchHit]
    older: str | None
    newer: str | None
    query: LedgerQuery = field(repr=False)


class LedgerSearch:
    """Pages of the ledger's entries matching a :class:`LedgerQuery`."""

    def __init__(self, index: LedgerSearchRepository, cursor_key: bytes) -> None:
        self.index = index
        self._key = cursor_key

    def page(self, query: LedgerQuery, cursor: str | None = None, *,
             size: int = PAGE_SIZE) -> SearchPage:
        """The page at ``cursor`` (the first, newest, without one). Raises
        :class:`SearchCursorError` for a cursor this search did not hand out."""
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"a page holds 1 to {MAX_PAGE_SIZE} entries")
        if cursor is None:
            hits = self.index.search(query, before=None, limit=size + 1)
            more_older, more_newer = len(hits) > size, False
            hits = hits[:size]
        else:
            direction, position = self._open(cursor, query)
            if direction == "older":
                hits = self.index.search(query, before=position, limit=size + 1)
                more_older, more_newer = len(hits) > size, True
                hits = hits[:size]
            else:
                hits = self.index.search(query, after=position, limit=size + 1)
                more_older, more_newer = True, len(hits) > size
                hits = hits[-size:]
        if not hits:
            return SearchPage([], None, None, query)
        return SearchPage(
            hits,
            self._cursor("older", hits[-1].position, query) if more_older else None,
            self._cursor("newer", hits[0].position, query) if more_newer else None,
            query)

    def all(self, query: LedgerQuery, *, batch: int = MAX_PAGE_SIZE) -> Iterator[SearchHit]:
        """Every entry matching ``query``, newest first, read ``batch`` at a time (for exports:
        never more than one batch in memory)."""
        position: Position | None = None
        while True:
            hits = self.index.search(query, before=position, limit=batch)
            yield from hits
            if len(hits) < batch:
                return
            position = hits[-1].position

    def count(self, query: LedgerQuery) -> int:
        return self.index.count(query)

    def cursor_at(self, query: LedgerQuery, position: Position) -> str:
        """The cursor of the page just older than ``position`` (what a page ending there hands
        out as ``older``), for tools that start deep in the log."""
        return self._cursor("older", position, query)

    # -- cursors ---------------------------------------------------------------------------
    def _cursor(self, direction: str, position: Position, query: LedgerQuery) -> str:
        payload = json.dumps([direction, position[0], position[1]],
                             separators=(",", ":")).encode()
        mac = self._mac(payload, query)
        return base64.urlsafe_b64encode(payload + mac).decode("ascii").rstrip("=")

    def _open(self, cursor: str, query: LedgerQuery) -> tuple[str, Position]:
        refused = SearchCursorError(
            "this page link is not one this search made (changed, cut short, or from other"
            " filters); start again from the first page")
        if not isinstance(cursor, str) or not 0 < len(cursor) <= 200:
            raise refused
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise refused from None
        payload, mac = raw[:-16], raw[-16:]
        if len(raw) <= 16 or not hmac.compare_digest(mac, self._mac(payload, query)):
            raise refused
        direction, at, seq = json.loads(payload)     # made by _cursor: well formed
        return direction, (at, seq)

    def _mac(self, payload: bytes, query: LedgerQuery) -> bytes:
        return hmac.new(self._key, query.fingerprint() + b"\n" + payload,
                        hashlib.sha256).digest()[:16]


def tagged(index: LedgerSearchRepository, tags: tuple[str, ...]) -> Iterator[SearchHit]:
    """Every entry with one of ``tags``, newest first (for the vault's own walks, which hand
    out no cursors: the search's cursor key is not used)."""
    return LedgerSearch(index, b"").all(LedgerQuery(tags=tags))
