"""Intents, offers, blocks and spam reports in SQLCipher: :class:`intents.repositories.
IntentRepository`.

The listing walks the partial index of open intents of one category newest first
(``intents_open_by_category``), testing each row's filters and the member's blocks (a primary
key lookup) as it goes, and stops at the page's end: a page costs its length plus the rows the
filters skip, whatever the size of the category.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..repositories import IntentRow, ListingFilter, OfferRow, ReportRow

_INTENT = ("SELECT i.num, i.id, m.id, i.category, i.status, i.budget_min, i.budget_max,"
           " i.currency, i.window_from, i.window_until, i.country, i.region, i.description,"
           " i.city, i.reveal_fields, i.created_at, i.updated_at, i.expires_at")
_OFFER = ("SELECT o.num, o.id, o.intent_num, i.id, m.id, o.brand_id, b.name, o.price,"
          " o.currency, o.terms, o.message, o.signed, o.valid_until, o.status, o.grant_id,"
          " o.fields, o.created_at, o.decided_at,"
          " EXISTS (SELECT 1 FROM intent_spam_reports r WHERE r.offer_num = o.num)"
          " FROM intent_offers o JOIN intents i ON i.num = o.intent_num"
          " JOIN members m ON m.num = i.member_num JOIN brands b ON b.id = o.brand_id")
_REPORT = ("SELECT r.id, o.id, m.id, r.brand_id, b.name, r.reason, r.status, r.reported_at,"
           " r.decided_at, r.decided_by, o.status FROM intent_spam_reports r"
           " JOIN brands b ON b.id = r.brand_id"
           " LEFT JOIN intent_offers o ON o.num = r.offer_num"
           " LEFT JOIN members m ON m.num = r.member_num")
_MEMBER_NUM = "(SELECT num FROM members WHERE id = ?)"


def _intent(row: Any, offers: int = 0) -> IntentRow:
    values: Any = (*tuple(row)[:18], offers)     # the row's 18 columns, then the count
    return IntentRow(*values)


def _offer(row: Any) -> OfferRow:
    values: Any = (*tuple(row)[:18], bool(row[18]))
    return OfferRow(*values)


def _report(row: Any) -> ReportRow:
    return ReportRow(*(row[i] for i in range(11)))


class SqlcipherIntents(SqlcipherRepository):
    # -- intents ------------------------------------------------------------------------------
    def insert(self, row: IntentRow) -> int:
        cursor = self._db.execute(
            "INSERT INTO intents (id, member_num, category, status, budget_min, budget_max,"
            " currency, window_from, window_until, country, region, description, city,"
            f" reveal_fields, created_at, updated_at, expires_at) VALUES (?, {_MEMBER_NUM},"
            " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.id, row.member_id, row.category, row.status, row.budget_min, row.budget_max,
             row.currency, row.window_from, row.window_until, row.country, row.region,
             row.description, row.city, row.reveal_fields, row.created_at, row.updated_at,
             row.expires_at))
        return int(cursor.lastrowid)

    def update(self, row: IntentRow) -> None:
        self._db.execute(
            "UPDATE intents SET category = ?, budget_min = ?, budget_max = ?, currency = ?,"
            " window_from = ?, window_until = ?, country = ?, region = ?, description = ?,"
            " city = ?, reveal_fields = ?, updated_at = ?, expires_at = ? WHERE num = ?",
            (row.category, row.budget_min, row.budget_max, row.currency, row.window_from,
             row.window_until, row.country, row.region, row.description, row.city,
             row.reveal_fields, row.updated_at, row.expires_at, row.num))

    def set_status(self, num: int, status: str, now: int, *, only_from: Sequence[str]) -> bool:
        marks = ", ".join("?" * len(only_from))
        return bool(self._db.execute(
            f"UPDATE intents SET status = ?, updated_at = ? WHERE num = ? AND status IN ({marks})",
            (status, now, num, *only_from)).rowcount)

    def get(self, intent_id: str) -> IntentRow | None:
        row = self._db.one(f"{_INTENT} FROM intents i JOIN members m ON m.num = i.member_num"
                           " WHERE i.id = ?", (intent_id,))
        return None if row is None else _intent(row)

    def by_num(self, num: int) -> IntentRow | None:
        row = self._db.one(f"{_INTENT} FROM intents i JOIN members m ON m.num = i.member_num"
                           " WHERE i.num = ?", (num,))
        return None if row is None else _intent(row)

    def for_member(self, member_id: str) -> list[IntentRow]:
        return [_intent(row, row[18]) for row in self._db.all(
            f"{_INTENT}, (SELECT count(*) FROM intent_offers o WHERE o.intent_num = i.num)"
            " FROM intents i JOIN members m ON m.num = i.member_num"
            f" WHERE i.member_num = {_MEMBER_NUM} ORDER BY i.num DESC", (member_id,))]

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
        return [_intent(row) for row in self._db.all(
            f"{_INTENT} FROM intents i INDEXED BY intents_open_by_category"
            " JOIN members m ON m.num = i.member_num"
            f" WHERE {' AND '.join(where)} AND NOT EXISTS (SELECT 1 FROM intent_blocks k"
            "  WHERE k.member_num = i.member_num AND k.brand_id = ?)"
            " ORDER BY i.num DESC LIMIT ?", (*parameters, brand_id, limit))]

    def listable(self, brand_id: str, num: int, *, now: int) -> IntentRow | None:
        row = self._db.one(
            f"{_INTENT} FROM intents i JOIN members m ON m.num = i.member_num"
            " WHERE i.num = ? AND i.status = 'open' AND i.expires_at > ?"
            " AND NOT EXISTS (SELECT 1 FROM intent_blocks k WHERE k.member_num = i.member_num"
            " AND k.brand_id = ?)", (num, now, brand_id))
        return None if row is None else _intent(row)

    def due_to_expire(self, now: int, limit: int) -> list[IntentRow]:
        return [_intent(row) for row in self._db.all(
            f"{_INTENT} FROM intents i INDEXED BY intents_live_by_expiry"
            " JOIN members m ON m.num = i.member_num"
            " WHERE i.status IN ('open', 'paused') AND i.expires_at <= ?"
            " ORDER BY i.expires_at LIMIT ?", (now, limit))]

    # -- offers -------------------------------------------------------------------------------
    def insert_offer(self, *, id: str, intent_num: int, brand_id: str, price: int,
                     currency: str, terms: bytes, message: bytes, signed: bytes,
                     valid_until: int, now: int) -> None:
        self._db.execute(
            "INSERT INTO intent_offers (id, intent_num, brand_id, price, currency, terms,"
            " message, signed, valid_until, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
            (id, intent_num, brand_id, price, currency, terms, message, signed, valid_until,
             now))

    def offer(self, offer_id: str) -> OfferRow | None:
        row = self._db.one(f"{_OFFER} WHERE o.id = ?", (offer_id,))
        return None if row is None else _offer(row)

    def offers_on(self, intent_num: int) -> list[OfferRow]:
        return [_offer(row) for row in self._db.all(
            f"{_OFFER} WHERE o.intent_num = ? ORDER BY o.num", (intent_num,))]

    def open_offers_on(self, intent_num: int) -> list[OfferRow]:
        return [_offer(row) for row in self._db.all(
            f"{_OFFER} WHERE o.intent_num = ? AND o.status = 'open' ORDER BY o.num",
            (intent_num,))]

    def offers_by_brand(self, brand_id: str, *, status: str | None, limit: int,
                        offset: int) -> list[OfferRow]:
        state = "" if status is None else " AND o.status = ?"
        return [_offer(row) for row in self._db.all(
            f"{_OFFER} WHERE o.brand_id = ?{state} ORDER BY o.created_at DESC, o.num DESC"
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
        marks = ", ".join("?" * len(nums))
        return {row[0]: row[1] for row in self._db.all(
            "SELECT intent_num, count(*) FROM intent_offers WHERE brand_id = ?"
            f" AND intent_num IN ({marks}) GROUP BY intent_num", (brand_id, *nums))}

    def decide_offer(self, offer_id: str, status: str, now: int, *,
                     grant_id: str | None = None, fields: str | None = None) -> bool:
        return bool(self._db.execute(
            "UPDATE intent_offers SET status = ?, decided_at = ?, grant_id = ?, fields = ?"
            " WHERE id = ? AND status = 'open'",
            (status, now, grant_id, fields, offer_id)).rowcount)

    def offers_due_to_expire(self, now: int, limit: int) -> list[OfferRow]:
        return [_offer(row) for row in self._db.all(
            f"{_OFFER} WHERE o.status = 'open' AND o.valid_until <= ?"
            " ORDER BY o.valid_until LIMIT ?", (now, limit))]

    def brands_offering(self, member_id: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self._db.all(
            "SELECT DISTINCT b.id, b.name FROM intent_offers o"
            " JOIN intents i ON i.num = o.intent_num JOIN brands b ON b.id = o.brand_id"
            f" WHERE i.member_num = {_MEMBER_NUM} ORDER BY b.name, b.id", (member_id,))]

    # -- blocks -------------------------------------------------------------------------------
    def block(self, member_id: str, brand_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "INSERT OR IGNORE INTO intent_blocks (member_num, brand_id, blocked_at)"
            f" VALUES ({_MEMBER_NUM}, ?, ?)", (member_id, brand_id, now)).rowcount)

    def unblock(self, member_id: str, brand_id: str) -> bool:
        return bool(self._db.execute(
            f"DELETE FROM intent_blocks WHERE member_num = {_MEMBER_NUM} AND brand_id = ?",
            (member_id, brand_id)).rowcount)

    def blocked(self, member_id: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self._db.all(
            "SELECT b.id, b.name FROM intent_blocks k JOIN brands b ON b.id = k.brand_id"
            f" WHERE k.member_num = {_MEMBER_NUM} ORDER BY b.name, b.id", (member_id,))]

    # -- spam reports -------------------------------------------------------------------------
    def insert_report(self, *, id: str, offer_num: int, member_id: str, brand_id: str,
                      reason: bytes, now: int) -> None:
        self._db.execute(
            "INSERT INTO intent_spam_reports (id, offer_num, member_num, brand_id, reason,"
            f" reported_at) VALUES (?, ?, {_MEMBER_NUM}, ?, ?, ?)",
            (id, offer_num, member_id, brand_id, reason, now))

    def report(self, report_id: str) -> ReportRow | None:
        row = self._db.one(f"{_REPORT} WHERE r.id = ?", (report_id,))
        return None if row is None else _report(row)

    def reports(self, *, status: str | None, limit: int, offset: int) -> list[ReportRow]:
        state = "" if status is None else " WHERE r.status = ?"
        return [_report(row) for row in self._db.all(
            f"{_REPORT}{state} ORDER BY r.reported_at DESC, r.id DESC LIMIT ? OFFSET ?",
            (*(() if status is None else (status,)), limit, offset))]

    def reports_of(self, member_id: str) -> list[ReportRow]:
        return [_report(row) for row in self._db.all(
            f"{_REPORT} WHERE r.member_num = {_MEMBER_NUM} ORDER BY r.reported_at, r.id",
            (member_id,))]

    def count_reports(self, status: str | None) -> int:
        if status is None:
            return int(self._db.one("SELECT count(*) FROM intent_spam_reports")[0])
        return int(self._db.one("SELECT count(*) FROM intent_spam_reports WHERE status = ?",
                                (status,))[0])

    def decide_report(self, report_id: str, status: str, officer_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE intent_spam_reports SET status = ?, decided_at = ?, decided_by = ?"
            " WHERE id = ? AND status = 'open'", (status, now, officer_id, report_id)).rowcount)
