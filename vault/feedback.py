"""The feedback journal: what a member says about a brand at a touchpoint of the journey.

Invariants: the free-text comment is sealed under the member's key, bound to (member,
``feedback``, entry id, ``comment``); brand, touchpoint, rating, NPS and date are structured,
non-free-text values kept as columns inside the SQLCipher store so they can be aggregated in SQL
(insights, later issues). Entry ids are allocated inside the write transaction, before sealing,
so the associated data can name the entry. Edits and deletes only ever touch the member's own
entries (rectification, GDPR Art. 16).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .catalog import TOUCHPOINT_KEYS, clean_text
from .clock import Clock
from .errors import NotFoundError, ValidationError
from .keys import KeyStore
from .repositories import BrandRepository, FeedbackRepository, FeedbackRow
from .sealing import MemberCipher, associated_data

MAX_COMMENT = 2000
EARLIEST = dt.date(2000, 1, 1)
_NO_SUCH_BRAND = "Choose a brand from the list."
#: What a member is told of an entry id that is none of theirs (or no id at all).
NO_SUCH_ENTRY = "There is no such entry in your feedback journal; it may have been deleted."


@dataclass(frozen=True)
class FeedbackInput:
    """A validated entry, not yet stored."""

    brand_id: str
    touchpoint: str
    rating: int
    nps: int | None
    comment: str
    occurred_on: str


@dataclass(frozen=True)
class FeedbackEntry:
    id: int
    brand_id: str
    touchpoint: str
    rating: int
    nps: int | None
    comment: str
    occurred_on: str
    updated_at: int


@dataclass(frozen=True)
class TouchpointSummary:
    touchpoint: str
    entries: int
    mean_rating: float
    nps: float | None      # % promoters (9-10) minus % detractors (0-6), of entries with a score


# Rows point at their member by its integer key (``members.num``); callers speak the public id.
def _aad(member_id: str, entry_id: int) -> bytes:
    return associated_data(member_id, "feedback", entry_id, "comment")


_WHOLE = re.compile(r"[+-]?[0-9]{1,9}", re.ASCII)


def _whole(value: Any, low: int, high: int, field: str, errors: dict[str, list[str]]) -> Any:
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = [f"Enter a whole number from {low} to {high}."]
    elif not low <= value <= high:
        errors[field] = [f"Enter a whole number from {low} to {high}."]
    return value


def validate(raw: Mapping[str, Any], *, today: dt.date) -> FeedbackInput:
    """A :class:`FeedbackInput` from ``raw``, or one :class:`ValidationError` naming every field."""
    errors: dict[str, list[str]] = {}
    unknown = set(raw) - {"brand_id", "touchpoint", "rating", "nps", "comment", "occurred_on"}
    for key in sorted(unknown):
        errors[key] = ["Unknown field."]
    brand_id = raw.get("brand_id")
    if not isinstance(brand_id, str) or not brand_id:
        errors["brand_id"] = ["Choose a brand from the list."]
    touchpoint = raw.get("touchpoint")
    if not isinstance(touchpoint, str) or touchpoint not in TOUCHPOINT_KEYS:
        errors["touchpoint"] = ["Choose a moment from the list."]
    rating = _whole(raw.get("rating"), 1, 5, "rating", errors)
    nps = raw.get("nps")
    if nps in (None, ""):
        nps = None
    else:
        nps = _whole(nps, 0, 10, "nps", errors)
    comment = raw.get("comment") or ""
    try:
        comment = clean_text(comment, max_length=MAX_COMMENT, multiline=True)
    except ValueError as exc:
        errors["comment"] = [str(exc)]
    occurred = raw.get("occurred_on") or today.isoformat()
    if isinstance(occurred, dt.datetime):
        occurred = occurred.date()
    try:
        day = occurred if isinstance(occurred, dt.date) else dt.date.fromisoformat(str(occurred))
        if not EARLIEST <= day <= today:
            errors["occurred_on"] = [f"Enter a date from {EARLIEST} to today."]
        occurred = day.isoformat()
    except ValueError:
        errors["occurred_on"] = ["Enter a date as YYYY-MM-DD, for example 2026-03-31."]
    if errors:
        raise ValidationError(errors)
    return FeedbackInput(brand_id, touchpoint, rating, nps, comment, occurred)  # type: ignore[arg-type]


class FeedbackService:
    def __init__(self, *, entries: FeedbackRepository, brands: BrandRepository, keys: KeyStore,
                 clock: Clock) -> None:
        self._entries = entries
        self._brands = brands
        self._keys = keys
        self._clock = clock

    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()

    # -- writing ---------------------------------------------------------------------------
    def check(self, raw: Mapping[str, Any]) -> FeedbackInput:
        """The entry ``raw`` describes, or one :class:`ValidationError` naming every field,
        the brand's existence included. Writes nothing."""
        try:
            entry = validate(raw, today=self.today())
        except ValidationError as exc:
            brand_id = raw.get("brand_id")
            if isinstance(brand_id, str) and brand_id and "brand_id" not in exc.errors \
                    and not self._brand_exists(brand_id):
                exc.errors["brand_id"] = [_NO_SUCH_BRAND]
            raise
        if not self._brand_exists(entry.brand_id):
            raise ValidationError({"brand_id": [_NO_SUCH_BRAND]})
        return entry

    def add(self, member_id: str, raw: Mapping[str, Any]) -> int:
        entry = self.check(raw)
        return self.add_many([(member_id, entry)])[0]

    def add_many(self, entries: Sequence[tuple[str, FeedbackInput]]) -> list[int]:
        """Store validated entries (of one or many members) in one transaction; their ids."""
        now = int(self._clock())
        comments: dict[str, list[tuple[int, bytes, bytes]]] = {}
        with self._entries.transaction():
            first = self._entries.next_ids()
            members = list(dict.fromkeys(member_id for member_id, _ in entries))
            numbers = self._entries.member_numbers(members)
            if len(numbers) < len(members):
                raise NotFoundError("no such member")
            for offset, (member_id, e) in enumerate(entries):
                if e.comment:
                    comments.setdefault(member_id, []).append(
                        (offset, _aad(member_id, first + offset), e.comment.encode()))
            # Each member's comments sealed together under their key.
            sealed: dict[int, bytes] = {}
            for member_id, pending in comments.items():
                values = self._keys.cipher(member_id).seal_many([(a, p) for _, a, p in pending])
                for (offset, _, _), value in zip(pending, values, strict=True):
                    sealed[offset] = value
            self._entries.insert_many([
                (first + offset, numbers[member_id],
                 FeedbackRow(first + offset, e.brand_id, e.touchpoint, e.rating, e.nps,
                             sealed.get(offset), e.occurred_on, now))
                for offset, (member_id, e) in enumerate(entries)])
        return [first + i for i in range(len(entries))]

    def update(self, member_id: str, entry_id: int, raw: Mapping[str, Any]) -> FeedbackEntry:
        entry = self.check(raw)
        self.get(member_id, entry_id)
        sealed = self._keys.cipher(member_id).seal(
            _aad(member_id, entry_id), entry.comment.encode()
        ) if entry.comment else None
        self._entries.update(member_id, FeedbackRow(
            entry_id, entry.brand_id, entry.touchpoint, entry.rating, entry.nps, sealed,
            entry.occurred_on, int(self._clock())))
        return self.get(member_id, entry_id)

    def delete(self, member_id: str, entry_id: int) -> None:
        if not self._entries.delete(member_id, entry_id):
            raise NotFoundError(NO_SUCH_ENTRY)

    # -- reading ---------------------------------------------------------------------------
    def get(self, member_id: str, entry_id: int) -> FeedbackEntry:
        row = self._entries.get(member_id, entry_id)
        if row is None:
            raise NotFoundError(NO_SUCH_ENTRY)
        return self._entry(member_id, row, self._keys.cipher(member_id))

    def for_member(self, member_id: str) -> list[FeedbackEntry]:
        rows = self._entries.for_member(member_id)
        if not rows:
            return []
        sealed = [(i, row.comment_sealed) for i, row in enumerate(rows) if row.comment_sealed]
        comments = dict(zip(
            (i for i, _ in sealed),
            self._keys.cipher(member_id).open_many(
                [(_aad(member_id, rows[i].id), value) for i, value in sealed]),
            strict=True))
        return [FeedbackEntry(row.id, row.brand_id, row.touchpoint, row.rating, row.nps,
                              comments[i].decode() if i in comments else "", row.occurred_on,
                              row.updated_at)
                for i, row in enumerate(rows)]

    def by_touchpoint(self, brand_id: str | None = None) -> list[TouchpointSummary]:
        """Counts, mean rating and NPS per touchpoint, over everyone (or one brand)."""
        return [
            TouchpointSummary(
                r.touchpoint, r.entries, round(r.mean_rating, 3),
                round(100.0 * (r.promoters - r.detractors) / r.scored, 1) if r.scored else None,
            )
            for r in self._entries.by_touchpoint(brand_id)
        ]

    # -- helpers ---------------------------------------------------------------------------
    def _brand_exists(self, brand_id: str) -> bool:
        return self._brands.exists(brand_id)

    @staticmethod
    def _entry(member_id: str, row: FeedbackRow, cipher: MemberCipher) -> FeedbackEntry:
        sealed = row.comment_sealed
        comment = cipher.open(_aad(member_id, row.id), sealed).decode() if sealed else ""
        return FeedbackEntry(row.id, row.brand_id, row.touchpoint, row.rating, row.nps,
                             comment, row.occurred_on, row.updated_at)


def validated(raws: Iterable[Mapping[str, Any]], *, today: dt.date) -> list[FeedbackInput]:
    return [validate(raw, today=today) for raw in raws]
