"""Intents, offers, blocks and spam reports in SQLCipher: :class:`intents.repositories.
IntentRepository` (what both engines share is :class:`intents.sql.intents.SqlIntents`).

Intents, blocks and spam reports name their member by the integer key (``members.num``), read
through ``members``; a spam report's offer and member by a ``LEFT JOIN`` (set to NULL when they
go). SQLite is told which partial index to walk (``INDEXED BY``).
"""

from __future__ import annotations

from ..repositories import IntentRow
from ..sql.intents import INTENT_COLUMNS, OFFER_COLUMNS, SqlIntents, intent_row

_INTENT = f"SELECT i.num, i.id, m.id, {INTENT_COLUMNS}"
_MEMBER_NUM = "(SELECT num FROM members WHERE id = ?)"


def _intents(walk: str = "") -> str:
    """The intents with their members' public ids, over ``intents`` walked by ``walk``."""
    return f"{_INTENT} FROM intents i{walk} JOIN members m ON m.num = i.member_num"


class SqlcipherIntents(SqlIntents):
    _INTENTS = _intents()
    _OPEN_INTENTS_BY_CATEGORY = _intents(" INDEXED BY intents_open_by_category")
    _LIVE_INTENTS_BY_EXPIRY = _intents(" INDEXED BY intents_live_by_expiry")
    _NOT_BLOCKED = ("NOT EXISTS (SELECT 1 FROM intent_blocks k WHERE k.member_num = i.member_num"
                    " AND k.brand_id = ?)")
    _OFFER = (f"SELECT o.num, o.id, o.intent_num, i.id, m.id, {OFFER_COLUMNS}"
              " FROM intent_offers o JOIN intents i ON i.num = o.intent_num"
              " JOIN members m ON m.num = i.member_num JOIN brands b ON b.id = o.brand_id")
    _REPORT = ("SELECT r.id, o.id, m.id, r.brand_id, b.name, r.reason, r.status, r.reported_at,"
               " r.decided_at, r.decided_by, o.status FROM intent_spam_reports r"
               " JOIN brands b ON b.id = r.brand_id"
               " LEFT JOIN intent_offers o ON o.num = r.offer_num"
               " LEFT JOIN members m ON m.num = r.member_num")

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

    def number_above(self, floor: int) -> None:
        # AUTOINCREMENT's high-water mark (data migration 14), which SQLite lets be written.
        self._db.execute("INSERT INTO sqlite_sequence (name, seq) SELECT 'intents', 0"
                         " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence"
                         " WHERE name = 'intents')")
        self._db.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'intents'",
                         (floor,))

    def for_member(self, member_id: str) -> list[IntentRow]:
        return [intent_row(row, row[18]) for row in self._db.all(
            f"{_INTENT}, (SELECT count(*) FROM intent_offers o WHERE o.intent_num = i.num)"
            " FROM intents i JOIN members m ON m.num = i.member_num"
            f" WHERE i.member_num = {_MEMBER_NUM} ORDER BY i.num DESC", (member_id,))]

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
