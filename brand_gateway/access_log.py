"""The brand API's access log: which brand read which of a member's fields, when, and why.

The ledger (``consent/ledger.py``) is the tamper-evident record of every brand read; this table
is the member's view of the same reads ("Who read what"), kept in the data store beside the
member so it can be listed newest first, paged and counted per day in SQL, and so it goes when
the member goes. Numbered migrations of its own, recorded in ``gateway_access_migrations``
(after the gateway's: rows reference ``oauth_clients``), which also hold the per-client request
counters of :mod:`brand_gateway.rate_limits`.

Invariants:
- A row names fields, never their values; the purpose is a DPV code, the brand and client ids,
  and the seq of the ledger entry that records the same read.
- Rows are appended, never updated; they cascade on ``members(id)``, so an erased member's
  reads are gone with them (the ledger keeps only pseudonyms and so needs no erasure).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from vault.clock import Clock
from vault.migrations import LayerMigrations, Migration
from vault.storage import Database

TABLE = "gateway_access_migrations"
PROFILE = "profile"
FEEDBACK = "feedback"
RESOURCES = (PROFILE, FEEDBACK)
DAY = 86_400

ACCESS_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "api_access_log_rate_limits",
        """
        CREATE TABLE api_access_log (
            id          INTEGER PRIMARY KEY,
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            brand_id    TEXT NOT NULL REFERENCES brands(id),
            client_id   TEXT NOT NULL REFERENCES oauth_clients(client_id),
            resource    TEXT NOT NULL CHECK (resource IN ('profile', 'feedback')),
            purpose     TEXT NOT NULL,            -- DPV purpose code
            fields      TEXT NOT NULL,            -- JSON list of field names, never values
            ledger_seq  INTEGER,                  -- the ledger entry of the same read
            read_at     INTEGER NOT NULL
        );
        CREATE INDEX api_access_log_by_member ON api_access_log (member_id, read_at);
        -- Fixed-window request counters, one row per client (brand_gateway/rate_limits.py).
        CREATE TABLE api_rate_limits (
            client_id     TEXT PRIMARY KEY,
            window_start  INTEGER NOT NULL,
            used          INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
)


@dataclass(frozen=True)
class AccessRecord:
    """One brand read, as the member sees it."""

    id: int
    brand_id: str
    brand_name: str
    client_id: str
    resource: str
    purpose: str
    fields: tuple[str, ...]
    ledger_seq: int | None
    read_at: int


@dataclass(frozen=True)
class AccessPage:
    records: tuple[AccessRecord, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class DailyReads:
    """How many reads one brand made on one UTC day."""

    day: dt.date
    brand_name: str
    reads: int


class AccessLog:
    """Appends brand reads and lists them for their member."""

    def __init__(self, *, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def record(self, *, member_id: str, brand_id: str, client_id: str, resource: str,
               purpose: str, fields: Sequence[str], ledger_seq: int | None) -> None:
        if resource not in RESOURCES:
            raise ValueError(f"unknown resource {resource!r}")
        with self._db.transaction():       # the write lock waited for in short steps
            self._db.execute(
                "INSERT INTO api_access_log (member_id, brand_id, client_id, resource, purpose,"
                " fields, ledger_seq, read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (member_id, brand_id, client_id, resource, purpose, json.dumps(list(fields)),
                 ledger_seq, int(self._clock())))

    def page(self, member_id: str, *, page: int = 1, per_page: int = 50) -> AccessPage:
        """The member's reads, newest first; ``page`` counts from 1 (past the end: empty)."""
        page, per_page = max(1, page), max(1, per_page)
        total = self._db.one("SELECT count(*) FROM api_access_log WHERE member_id = ?",
                             (member_id,))[0]
        rows = self._db.all(
            "SELECT a.*, b.name AS brand_name FROM api_access_log AS a"
            " JOIN brands AS b ON b.id = a.brand_id WHERE a.member_id = ?"
            " ORDER BY a.read_at DESC, a.id DESC LIMIT ? OFFSET ?",
            (member_id, per_page, (page - 1) * per_page))
        records = tuple(
            AccessRecord(r["id"], r["brand_id"], r["brand_name"], r["client_id"],
                         r["resource"], r["purpose"], tuple(json.loads(r["fields"])),
                         r["ledger_seq"], r["read_at"]) for r in rows)
        return AccessPage(records, page, per_page, int(total))

    def daily(self, member_id: str, *, days: int = 14) -> list[DailyReads]:
        """Reads per brand per UTC day over the last ``days`` days, today included."""
        today = int(self._clock()) // DAY
        rows = self._db.all(
            "SELECT a.read_at / ? AS day, b.name AS brand_name, count(*) AS reads"
            " FROM api_access_log AS a JOIN brands AS b ON b.id = a.brand_id"
            " WHERE a.member_id = ? AND a.read_at >= ? GROUP BY day, a.brand_id"
            " ORDER BY day, brand_name",
            (DAY, member_id, (today - days + 1) * DAY))
        epoch = dt.date(1970, 1, 1)
        return [DailyReads(epoch + dt.timedelta(days=r["day"]), r["brand_name"], r["reads"])
                for r in rows]


_LAYER = LayerMigrations("brand API access", TABLE, ACCESS_MIGRATIONS)
initialise = _LAYER.initialise
require_current = _LAYER.require_current
