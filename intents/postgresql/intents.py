"""Intents, offers, blocks and spam reports in PostgreSQL: :class:`intents.repositories.
IntentRepository`.

The same answers as ``intents/sqlcipher/intents.py``, over the tables of data migration 0010:
intents, the offers on them and a member's blocks are member-owned (``member_id`` first in
their keys; an offer carries its intent's member, so it is joined to its intent on the member
too, and is read without ``members``); spam reports are shared, and outlive their member and
offer. The listing walks the partial index of open intents of one category newest first
(``intents_open_by_category``), testing each row's filters and the member's blocks (a primary
key lookup on the member) as it goes, and stops at the page's end. A spam report's offer and
member are read by their ``num``s in a lookup of their own, never by joining a shared table to
member-owned ones on anything but the member; a ``num`` names one intent, offer or account for
ever, so a lookup made after the reports were read finds the row or finds it gone.

Where SQLCipher's transaction holds the store's write lock from its first read, here every
change to an intent or to an offer on it happens under its intent's row lock, taken first:
inside a write transaction, reading an intent (:meth:`~PostgresqlIntents.get`,
:meth:`~PostgresqlIntents.by_num`, :meth:`~PostgresqlIntents.listable`) or an offer
(:meth:`~PostgresqlIntents.offer`), counting the offers on an intent, and deciding an offer
lock the intent's row (``FOR UPDATE``), then read. So two hosts accepting two offers on one
intent, or editing an intent one of them withdraws, or reporting one offer twice, or offering
past the per-intent limit, go one after the other, each seeing what the other committed, and
locks are taken in one order (the intent, then its offers). A brand's offers of the day are
counted under its ``brands`` row's lock (``FOR NO KEY UPDATE``: the rows that reference the
brand are not held up). Intents that share an expiry time, and offers a validity, come in the
order of their ``num``\\ s, as SQLite's index walk gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vault.errors import ConstraintViolationError
from vault.postgresql import PostgresqlRepository

from ..repositories import IntentRow, ListingFilter, OfferRow, ReportRow

_INTENT = ("SELECT i.num, i.id, i.member_id, i.category, i.status, i.budget_min, i.budget_max,"
           " i.currency, i.window_from, i.window_until, i.country, i.region, i.description,"
           " i.city, i.reveal_fields, i.created_at, i.updated_at, i.expires_at")
_OFFER = ("SELECT o.num, o.id, o.intent_num, i.id, o.member_id, o.brand_id, b.name, o.price,"
          " o.currency, o.terms, o.message, o.signed, o.valid_until, o.status, o.grant_id,"
          " o.fields, o.created_at, o.decided_at,"
          " EXISTS (SELECT 1 FROM intent_spam_reports AS r WHERE r.offer_num = o.num)"
          " FROM intent_offers AS o"
          " JOIN intents AS i ON i.member_id = o.member_id AND i.num = o.intent_num"
          " JOIN brands AS b ON b.id = o.brand_id")
_REPORT = ("SELECT r.id, r.offer_num, r.member_num, r.brand_id, b.name, r.reason, r.status,"
           " r.reported_at, r.decided_at, r.decided_by FROM intent_spam_reports AS r"
           " JOIN brands AS b ON b.id = r.brand_id")
# The intent of an offer, locked (its row; the offer's member keeps the join on one shard).
_LOCK_OFFERS_INTENT = (
    "SELECT 1 FROM intent_offers AS o"
    " JOIN intents AS i ON i.member_id = o.member_id AND i.num = o.intent_num"
    " WHERE o.id = ? FOR UPDATE OF i")


def _intent(row: Any, offers: int = 0) -> IntentRow:
    values: Any = (*tuple(row)[:18], offers)     # the row's 18 columns, then the count
    return IntentRow(*values)


def _offer(row: Any) -> OfferRow:
    values: Any = (*tuple(row)[:18], bool(row[18]))
    return OfferRow(*values)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class PostgresqlIntents(PostgresqlRepository):
    # -- intents ------------------------------------------------------------------------------
    def insert(self, row: IntentRow) -> int:
        made = self._db.one(
            "INSERT INTO intents (member_id, member_num, id, category, status, budget_min,"
            " budget_max, currency, window_from, window_until, country, region, description,"
            " city, reveal_fields, created_at, updated_at, expires_at)"
            " SELECT m.id, m.num, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
            " FROM members AS m WHERE m.id = ? RETURNING num",
            (row.id, row.category, row.status, row.budget_min, row.budget_max, row.currency,
             row.window_from, row.window_until, row.country, row.region, row.description,
             row.city, row.reveal_fields, row.created_at, row.updated_at, row.expires_at,
             row.member_id))
        if made is None:
            # SQLCipher's row would name no member: its NOT NULL member_num refuses it.
            raise ConstraintViolationError("NOT NULL constraint failed: intents.member_num")
        return int(made[0])

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
            f" AND status IN ({_marks(len(only_from))})",
            (status, now, num, *only_from)).rowcount)

    def get(self, intent_id: str) -> IntentRow | None:
        self._lock("SELECT 1 FROM intents WHERE id = ? FOR UPDATE", intent_id)
        row = self._db.one(f"{_INTENT} FROM intents AS i WHERE i.id = ?", (intent_id,))
        return None if row is None else _intent(row)

    def by_num(self, num: int) -> IntentRow | None:
        self._lock("SELECT 1 FROM intents WHERE num = ? FOR UPDATE", num)
        row = self._db.one(f"{_INTENT} FROM intents AS i WHERE i.num = ?", (num,))
        return None if row is None else _intent(row)

    def for_member(self, member_id: str) -> list[IntentRow]:
        return [_intent(row, row[18]) for row in self._db.all(
            f"{_INTENT}, (SELECT count(*) FROM intent_offers AS o"
            "  WHERE o.member_id = i.member_id AND o.intent_num = i.num)"
            " FROM intents AS i WHERE i.member_id = ? ORDER BY i.num DESC", (member_id,))]

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
            f"{_INTENT} FROM intents AS i"
            f" WHERE {' AND '.join(where)} AND NOT EXISTS (SELECT 1 FROM intent_blocks AS k"
            "  WHERE k.member_id = i.member_id AND k.brand_id = ?)"
            " ORDER BY i.num DESC LIMIT ?", (*parameters, brand_id, limit))]

    def listable(self, brand_id: str, num: int, *, now: int) -> IntentRow | None:
        self._lock("SELECT 1 FROM intents WHERE num = ? FOR UPDATE", num)
        row = self._db.one(
            f"{_INTENT} FROM intents AS i"
            " WHERE i.num = ? AND i.status = 'open' AND i.expires_at > ?"
            " AND NOT EXISTS (SELECT 1 FROM intent_blocks AS k WHERE k.member_id = i.member_id"
            " AND k.brand_id = ?)", (num, now, brand_id))
        return None if row is None else _intent(row)

    def due_to_expire(self, now: int, limit: int) -> list[IntentRow]:
        return [_intent(row) for row in self._db.all(
            f"{_INTENT} FROM intents AS i"
            " WHERE i.status IN ('open', 'paused') AND i.expires_at <= ?"
            " ORDER BY i.expires_at, i.num LIMIT ?", (now, limit))]

    # -- offers -------------------------------------------------------------------------------
    def insert_offer(self, *, id: str, intent_num: int, brand_id: str, price: int,
                     currency: str, terms: bytes, message: bytes, signed: bytes,
                     valid_until: int, now: int) -> None:
        made = self._db.execute(
            "INSERT INTO intent_offers (member_id, id, intent_num, brand_id, price, currency,"
            " terms, message, signed, valid_until, status, created_at)"
            " SELECT i.member_id, ?, i.num, ?, ?, ?, ?, ?, ?, ?, 'open', ?"
            " FROM intents AS i WHERE i.num = ?",
            (id, brand_id, price, currency, terms, message, signed, valid_until, now,
             intent_num))
        if not made.rowcount:
            # SQLCipher's offer would name no intent: its foreign key refuses it.
            raise ConstraintViolationError("FOREIGN KEY constraint failed: intent_offers."
                                           "intent_num")

    def offer(self, offer_id: str) -> OfferRow | None:
        self._lock(_LOCK_OFFERS_INTENT, offer_id)
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
            self._lock("SELECT 1 FROM intents WHERE num = ? FOR UPDATE", intent_num)
            return int(self._db.one("SELECT count(*) FROM intent_offers WHERE intent_num = ?"
                                    " AND brand_id = ?", (intent_num, brand_id))[0])
        self._lock("SELECT 1 FROM brands WHERE id = ? FOR NO KEY UPDATE", brand_id)
        return int(self._db.one("SELECT count(*) FROM intent_offers WHERE brand_id = ?"
                                " AND created_at >= ?", (brand_id, since or 0))[0])

    def brand_offer_counts(self, brand_id: str, nums: Sequence[int]) -> dict[int, int]:
        if not nums:
            return {}
        return {int(row[0]): int(row[1]) for row in self._db.all(
            "SELECT intent_num, count(*) FROM intent_offers WHERE brand_id = ?"
            f" AND intent_num IN ({_marks(len(nums))}) GROUP BY intent_num",
            (brand_id, *nums))}

    def decide_offer(self, offer_id: str, status: str, now: int, *,
                     grant_id: str | None = None, fields: str | None = None) -> bool:
        self._lock(_LOCK_OFFERS_INTENT, offer_id)
        return bool(self._db.execute(
            "UPDATE intent_offers SET status = ?, decided_at = ?, grant_id = ?, fields = ?"
            " WHERE id = ? AND status = 'open'",
            (status, now, grant_id, fields, offer_id)).rowcount)

    def offers_due_to_expire(self, now: int, limit: int) -> list[OfferRow]:
        return [_offer(row) for row in self._db.all(
            f"{_OFFER} WHERE o.status = 'open' AND o.valid_until <= ?"
            " ORDER BY o.valid_until, o.num LIMIT ?", (now, limit))]

    def brands_offering(self, member_id: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self._db.all(
            "SELECT DISTINCT b.id, b.name FROM intent_offers AS o"
            " JOIN brands AS b ON b.id = o.brand_id"
            " WHERE o.member_id = ? ORDER BY b.name, b.id", (member_id,))]

    # -- blocks -------------------------------------------------------------------------------
    def block(self, member_id: str, brand_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "INSERT INTO intent_blocks (member_id, brand_id, member_num, blocked_at)"
            " SELECT m.id, ?, m.num, ? FROM members AS m WHERE m.id = ?"
            " ON CONFLICT (member_id, brand_id) DO NOTHING",
            (brand_id, now, member_id)).rowcount)

    def unblock(self, member_id: str, brand_id: str) -> bool:
        return bool(self._db.execute(
            "DELETE FROM intent_blocks WHERE member_id = ? AND brand_id = ?",
            (member_id, brand_id)).rowcount)

    def blocked(self, member_id: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self._db.all(
            "SELECT b.id, b.name FROM intent_blocks AS k JOIN brands AS b ON b.id = k.brand_id"
            " WHERE k.member_id = ? ORDER BY b.name, b.id", (member_id,))]

    # -- spam reports -------------------------------------------------------------------------
    def insert_report(self, *, id: str, offer_num: int, member_id: str, brand_id: str,
                      reason: bytes, now: int) -> None:
        member = self._db.one("SELECT num FROM members WHERE id = ? FOR KEY SHARE",
                              (member_id,))
        self._db.execute(
            "INSERT INTO intent_spam_reports (id, offer_num, member_num, brand_id, reason,"
            " reported_at) VALUES (?, ?, ?, ?, ?, ?)",
            (id, offer_num, None if member is None else member[0], brand_id, reason, now))

    def report(self, report_id: str) -> ReportRow | None:
        found = self._reports(f"{_REPORT} WHERE r.id = ?", (report_id,))
        return found[0] if found else None

    def reports(self, *, status: str | None, limit: int, offset: int) -> list[ReportRow]:
        state = "" if status is None else " WHERE r.status = ?"
        return self._reports(
            f"{_REPORT}{state} ORDER BY r.reported_at DESC, r.id DESC LIMIT ? OFFSET ?",
            (*(() if status is None else (status,)), limit, offset))

    def reports_of(self, member_id: str) -> list[ReportRow]:
        return self._reports(
            f"{_REPORT} WHERE r.member_num = (SELECT num FROM members WHERE id = ?)"
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
    def _lock(self, sql: str, key: object) -> None:
        """Inside a write transaction, lock the row ``sql`` selects ``FOR UPDATE`` (see the
        module docstring); outside one, each statement stands alone and nothing is held."""
        if self._db.in_transaction:
            self._db.execute(sql, (key,))

    def _reports(self, sql: str, parameters: Sequence[Any]) -> list[ReportRow]:
        """The reports ``sql`` selects (``_REPORT``'s columns), each with its offer's id and
        status and its member's id, while they exist."""
        rows = self._db.all(sql, parameters)
        offer_nums = {row[1] for row in rows if row[1] is not None}
        member_nums = {row[2] for row in rows if row[2] is not None}
        offers = {int(o[0]): (o[1], o[2]) for o in self._db.all(
            f"SELECT num, id, status FROM intent_offers WHERE num IN ({_marks(len(offer_nums))})",
            tuple(offer_nums))} if offer_nums else {}
        members = {int(m[0]): m[1] for m in self._db.all(
            f"SELECT num, id FROM members WHERE num IN ({_marks(len(member_nums))})",
            tuple(member_nums))} if member_nums else {}
        made = []
        for row in rows:
            offer_id, offer_status = offers.get(row[1], (None, None))
            made.append(ReportRow(row[0], offer_id, members.get(row[2]), row[3], row[4],
                                  row[5], row[6], row[7], row[8], row[9], offer_status))
        return made
