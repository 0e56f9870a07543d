"""Intents, offers, blocks and spam reports, what both engines share: :class:`intents.
repositories.IntentRepository`.

The listing walks the partial index of open intents of one category newest first
(``intents_open_by_category``), testing each row's filters and the member's blocks (a primary
key lookup) as it goes, and stops at the page's end: a page costs its length plus the rows the
filters skip, whatever the size of the category. Intents that share an expiry time, and offers
a validity, come in the order of their ``num``\\ s, as SQLite's index walk gives them. Every
change of state (an intent's status, a decision on an offer or on a spam report) is one
conditional ``UPDATE``; the caller learns from the row count whether it won.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from vault.sql import SqlRepository

from ..repositories import IntentRow, ListingFilter, OfferRow, ReportRow

# An intent's columns in IntentRow's order from its fourth field on, over ``intents`` as ``i``;
# the engine's statement adds its ``num``, id and member.
INTENT_COLUMNS = (
    "i.category, i.status, i.budget_min, i.budget_max, i.currency, i.window_from,"
    " i.window_until, i.country, i.region, i.description, i.city, i.reveal_fields,"
    " i.created_at, i.updated_at, i.expires_at")
# An offer's columns in OfferRow's order from its sixth field on, over ``intent_offers`` as
# ``o`` and ``brands`` as ``b``, and whether it was reported as spam.
OFFER_COLUMNS = (
    "o.brand_id, b.name, o.price, o.currency, o.terms, o.message, o.signed, o.valid_until,"
    " o.status, o.grant_id, o.fields, o.created_at, o.decided_at,"
    " EXISTS (SELECT 1 FROM intent_spam_reports AS r WHERE r.offer_num = o.num)")


def intent_row(row: Any, offers: int = 0) -> IntentRow:
    """A row of an engine's ``_INTENTS`` as an :class:`IntentRow` with ``offers`` offers."""
    values: Any = (*tuple(row)[:18], offers)     # the row's 18 columns, then the count
    return IntentRow(*values)


def _offer(row: Any) -> OfferRow:
    values: Any = (*tuple(row)[:18], bool(row[18]))
    return OfferRow(*values)


def _report(row: Any) -> ReportRow:
    return ReportRow(*(row[i] for i in range(11)))


def marks(count: int) -> str:
    """``count`` parameter marks, for ``IN (...)``."""
    return ", ".join("?" * count)


class SqlIntents(SqlRepository):
    # The engine's SELECT of an intent's columns in IntentRow's order over ``intents`` as
    # ``i`` (its member's public id included), and the same walking the partial indexes of
    # open intents by category and of live intents by expiry (where the engine must be told
    # to); its condition that the member of ``i`` has not blocked the brand (one parameter);
    # its SELECT of an offer's columns in OfferRow's order (``o``, its intent ``i``); its
    # SELECT of a spam report's columns (``r``, as :meth:`_reports` reads them).
    _INTENTS: ClassVar[str]
    _OPEN_INTENTS_BY_CATEGORY: ClassVar[str]
    _LIVE_INTENTS_BY_EXPIRY: ClassVar[str]
    _NOT_BLOCKED: ClassVar[str]
    _OFFER: ClassVar[str]
    _REPORT: ClassVar[str]

    # -- intents ------------------------------------------------------------------------------
    def update(self, row: IntentRow) -> None:
        self._db.execute(
            "UPDATE intents SET category = ?, budget_min = ?, budget_max = ?, currency = ?,"
            " window_from = ?, window_until = ?, country = ?, region = ?, description = ?,"
            " city = ?, reveal_fields = ?, updated_at = ?, expires_at = ? WHERE num = ?",
            (row.category, row.budget_min, row.budget_max, row.currency, row.window_from,
             row.window_until, row.country, row.region, row.description, row.city,
             row.reveal_fields, row.updated_at, row.expires_at, row.num))

    def set_status(self, num: int, status: str, now: int, *, only_from: Sequence[str]) -> bool:
        return bool(self._db.execute(
            f"UPDATE intents SET status = ?, updated_at = ? WHERE num = ?"
            f" AND status IN ({marks(len(only_from))})",
            (status, now, num, *only_from)).rowcount)

    def get(self, intent_id: str) -> IntentRow | None:
        row = self._db.one(f"{self._INTENTS} WHERE i.id = ?", (intent_id,))
        return None if row is None else intent_row(row)

    def by_num(self, num: int) -> IntentRow | None:
        row = self._db.one(f"{self._INTENTS} WHERE i.num = ?", (num,))
        return None if row is None else intent_row(row)

    def listing(self, brand_id: str, category: str, *, now: int, before: int | None,
                limit: int, filters: ListingFilter) -> list[IntentRow]:
        where = ["i.category = ?", "i.status = 'open'", "i.expires_at > ?"]
        parameters: list[Any] = [category, now]
        if before is not None:
            where.append("i.num < ?")
            parameters.append(before)
        for clause, value in (("i.currency = ?", filters.currency),
                              ("i.budget_max >= ?", filters.budget_min),
                              ("i.budget_min <= ?", filters.budget_max),
                              ("i.window_until >= ?", filters.window_from),
                              ("i.window_from <= ?", filters.window_until)):
            if value is not None:
                where.append(clause)
                parameters.append(value)
        if filters.region is not None:
            where.append("i.region = ?" if "-" in filters.region else "i.country = ?")
            parameters.append(filters.region)
        return [intent_row(row) for row in self._db.all(
            f"{self._OPEN_INTENTS_BY_CATEGORY} WHERE {' AND '.join(where)}"
            f" AND {self._NOT_BLOCKED} ORDER BY i.num DESC LIMIT ?",
            (*parameters, brand_id, limit))]

    def listable(self, brand_id: str, num: int, *, now: int) -> IntentRow | None:
        row = self._db.one(
            f"{self._INTENTS} WHERE i.num = ? AND i.status = 'open' AND i.expires_at > ?"
            f" AND {self._NOT_BLOCKED}", (num, now, brand_id))
        return None if row is None else intent_row(row)

    def due_to_expire(self, now: int, limit: int) -> list[IntentRow]:
        return [intent_row(row) for row in self._db.all(
            f"{self._LIVE_INTENTS_BY_EXPIRY}"
            " WHERE i.status IN ('open', 'paused') AND i.expires_at <= ?"
            " ORDER BY i.expires_at, i.num LIMIT ?", (now, limit))]

    # -- offers -------------------------------------------------------------------------------
    def offer(self, offer_id: str) -> OfferRow | None:
        row = self._db.one(f"{self._OFFER} WHERE o.id = ?", (offer_id,))
        return None if row is None else _offer(row)

    def offers_on(self, intent_num: int) -> list[OfferRow]:
        return [_offer(row) for row in self._db.all(
            f"{self._OFFER} WHERE o.intent_num = ? ORDER BY o.num", (intent_num,))]

    def open_offers_on(self, intent_num: int) -> list[OfferRow]:
        return [_offer(row) for row in self._db.all(
            f"{self._OFFER} WHERE o.intent_num = ? AND o.status = 'open' ORDER BY o.num",
            (intent_num,))]

    def offers_by_brand(self, brand_id: str, *, status: str | None, limit: int,
                        offset: int) -> list[OfferRow]:
        state = "" if status is None else " AND o.status = ?"
        return [_offer(row) for row in self._db.all(
            f"{self._OFFER} WHERE o.brand_id = ?{state} ORDER BY o.created_at DESC, o.num DESC"
            " LIMIT ? OFFSET ?",
            (brand_id, *(() if status is None else (status,)), limit, offset))]

    def count_offers(self, brand_id: str, *, intent_num: int | None = None,
                     since: int | None = None) -> int:
        if intent_num is not None:
            return int(self._db.one("SELECT count(*) FROM intent_offers WHERE intent_num = ?"
                                    " AND brand_id = ?", (intent_num, brand_id))[0])
        return int(self._db.one("SELECT count(*) FROM intent_offers WHERE brand_id = ?"
                                " AND created_at >= ?", (brand_id, since or 0))[0])

    def brand_offer_counts(self, brand_id: str, nums: Sequence[int]) -> dict[int, int]:
        if not nums:
            return {}
        return {int(row[0]): int(row[1]) for row in self._db.all(
            "SELECT intent_num, count(*) FROM intent_offers WHERE brand_id = ?"
            f" AND intent_num IN ({marks(len(nums))}) GROUP BY intent_num",
            (brand_id, *nums))}

    def decide_offer(self, offer_id: str, status: str, now: int, *,
                     grant_id: str | None = None, fields: str | None = None) -> bool:
        return bool(self._db.execute(
            "UPDATE intent_offers SET status = ?, decided_at = ?, grant_id = ?, fields = ?"
            " WHERE id = ? AND status = 'open'",
            (status, now, grant_id, fields, offer_id)).rowcount)

    def offers_due_to_expire(self, now: int, limit: int) -> list[OfferRow]:
        return [_offer(row) for row in self._db.all(
            f"{self._OFFER} WHERE o.status = 'open' AND o.valid_until <= ?"
            " ORDER BY o.valid_until, o.num LIMIT ?", (now, limit))]

    # -- spam reports -------------------------------------------------------------------------
    def report(self, report_id: str) -> ReportRow | None:
        found = self._reports(f"{self._REPORT} WHERE r.id = ?", (report_id,))
        return found[0] if found else None

    def reports(self, *, status: str | None, limit: int, offset: int) -> list[ReportRow]:
        state = "" if status is None else " WHERE r.status = ?"
        return self._reports(
            f"{self._REPORT}{state} ORDER BY r.reported_at DESC, r.id DESC LIMIT ? OFFSET ?",
            (*(() if status is None else (status,)), limit, offset))

    def reports_of(self, member_id: str) -> list[ReportRow]:
        return self._reports(
            f"{self._REPORT} WHERE r.member_num = (SELECT num FROM members WHERE id = ?)"
            " ORDER BY r.reported_at, r.id", (member_id,))

    def count_reports(self, status: str | None) -> int:
        if status is None:
            return int(self._db.one("SELECT count(*) FROM intent_spam_reports")[0])
        return int(self._db.one("SELECT count(*) FROM intent_spam_reports WHERE status = ?",
                                (status,))[0])

    def decide_report(self, report_id: str, status: str, officer_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE intent_spam_reports SET status = ?, decided_at = ?, decided_by = ?"
            " WHERE id = ? AND status = 'open'", (status, now, officer_id, report_id)).rowcount)

    # -- inside -------------------------------------------------------------------------------
    def _reports(self, sql: str, parameters: Sequence[Any]) -> list[ReportRow]:
        """The reports ``sql`` selects (:attr:`_REPORT`'s columns, in ReportRow's order)."""
        return [_report(row) for row in self._db.all(sql, parameters)]
