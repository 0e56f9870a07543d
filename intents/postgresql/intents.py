"""Intents, offers, blocks and spam reports in PostgreSQL: :class:`intents.repositories.
IntentRepository` (what both engines share is :class:`intents.sql.intents.SqlIntents`).

The same answers as ``intents/sqlcipher/intents.py``, over the tables of data migration 0010:
intents, the offers on them and a member's blocks are member-owned (``member_id`` first in
their keys; an offer carries its intent's member, so it is joined to its intent on the member
too, and is read without ``members``); spam reports are shared, and outlive their member and
offer. PostgreSQL's planner walks the partial indexes by itself. A spam report's offer and
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
brand are not held up).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vault.errors import ConstraintViolationError

from ..repositories import IntentRow, OfferRow, ReportRow
from ..sql.intents import INTENT_COLUMNS, OFFER_COLUMNS, SqlIntents, intent_row, marks

_INTENT = f"SELECT i.num, i.id, i.member_id, {INTENT_COLUMNS}"
# The intent of an offer, locked (its row; the offer's member keeps the join on one shard).
_LOCK_OFFERS_INTENT = (
    "SELECT 1 FROM intent_offers AS o"
    " JOIN intents AS i ON i.member_id = o.member_id AND i.num = o.intent_num"
    " WHERE o.id = ? FOR UPDATE OF i")


class PostgresqlIntents(SqlIntents):
    _INTENTS = _OPEN_INTENTS_BY_CATEGORY = _LIVE_INTENTS_BY_EXPIRY = (
        f"{_INTENT} FROM intents AS i")
    _NOT_BLOCKED = ("NOT EXISTS (SELECT 1 FROM intent_blocks AS k"
                    " WHERE k.member_id = i.member_id AND k.brand_id = ?)")
    _OFFER = (f"SELECT o.num, o.id, o.intent_num, i.id, o.member_id, {OFFER_COLUMNS}"
              " FROM intent_offers AS o"
              " JOIN intents AS i ON i.member_id = o.member_id AND i.num = o.intent_num"
              " JOIN brands AS b ON b.id = o.brand_id")
    _REPORT = ("SELECT r.id, r.offer_num, r.member_num, r.brand_id, b.name, r.reason, r.status,"
               " r.reported_at, r.decided_at, r.decided_by FROM intent_spam_reports AS r"
               " JOIN brands AS b ON b.id = r.brand_id")

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

    def number_above(self, floor: int) -> None:
        # The identity's sequence, moved on only (its last value, if it gave one, is kept).
        self._db.execute(
            "SELECT setval(q.s, greatest(?, coalesce(pg_sequence_last_value(q.s), 0)))"
            " FROM (SELECT pg_get_serial_sequence('intents', 'num')::regclass AS s) AS q",
            (floor,))

    def get(self, intent_id: str) -> IntentRow | None:
        self._lock("SELECT 1 FROM intents WHERE id = ? FOR UPDATE", intent_id)
        return super().get(intent_id)

    def by_num(self, num: int) -> IntentRow | None:
        self._lock("SELECT 1 FROM intents WHERE num = ? FOR UPDATE", num)
        return super().by_num(num)

    def for_member(self, member_id: str) -> list[IntentRow]:
        return [intent_row(row, row[18]) for row in self._db.all(
            f"{_INTENT}, (SELECT count(*) FROM intent_offers AS o"
            "  WHERE o.member_id = i.member_id AND o.intent_num = i.num)"
            " FROM intents AS i WHERE i.member_id = ? ORDER BY i.num DESC", (member_id,))]

    def listable(self, brand_id: str, num: int, *, now: int) -> IntentRow | None:
        self._lock("SELECT 1 FROM intents WHERE num = ? FOR UPDATE", num)
        return super().listable(brand_id, num, now=now)

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
        return super().offer(offer_id)

    def count_offers(self, brand_id: str, *, intent_num: int | None = None,
                     since: int | None = None) -> int:
        if intent_num is not None:
            self._lock("SELECT 1 FROM intents WHERE num = ? FOR UPDATE", intent_num)
        else:
            self._lock("SELECT 1 FROM brands WHERE id = ? FOR NO KEY UPDATE", brand_id)
        return super().count_offers(brand_id, intent_num=intent_num, since=since)

    def decide_offer(self, offer_id: str, status: str, now: int, *,
                     grant_id: str | None = None, fields: str | None = None) -> bool:
        self._lock(_LOCK_OFFERS_INTENT, offer_id)
        return super().decide_offer(offer_id, status, now, grant_id=grant_id, fields=fields)

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
            f"SELECT num, id, status FROM intent_offers WHERE num IN ({marks(len(offer_nums))})",
            tuple(offer_nums))} if offer_nums else {}
        members = {int(m[0]): m[1] for m in self._db.all(
            f"SELECT num, id FROM members WHERE num IN ({marks(len(member_nums))})",
            tuple(member_nums))} if member_nums else {}
        made = []
        for row in rows:
            offer_id, offer_status = offers.get(row[1], (None, None))
            made.append(ReportRow(row[0], offer_id, members.get(row[2]), row[3], row[4],
                                  row[5], row[6], row[7], row[8], row[9], offer_status))
        return made
