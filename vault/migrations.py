"""Numbered schema migrations for the data store and the key store.

Invariants: a migration is never edited once released; each one runs in its own transaction and
is recorded in ``schema_migrations`` with its number and name, so a half-applied migration is
impossible and ``vrmvault init`` / ``serve`` can apply what is missing at any time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .errors import StoreError
from .storage import Database


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str
    # A table rebuild (SQLite's 12-step procedure): foreign keys off while it runs, so dropping
    # the old table cascades nothing, and a foreign_key_check before it commits.
    rebuilds_tables: bool = False


DATA_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "members_profile_feedback",
        """
        CREATE TABLE members (
            id              TEXT PRIMARY KEY,
            email_index     BLOB NOT NULL UNIQUE,   -- keyed hash (blind index), never the address
            email_sealed    BLOB NOT NULL,
            password_hash   TEXT NOT NULL,
            totp_sealed     BLOB,
            totp_last_step  INTEGER,
            created_at      INTEGER NOT NULL
        );
        CREATE TABLE brands (
            id          TEXT PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            categories  TEXT NOT NULL DEFAULT '[]',
            created_at  INTEGER NOT NULL
        );
        CREATE TABLE profile_values (
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            attribute   TEXT NOT NULL,
            value_sealed BLOB NOT NULL,
            updated_at  INTEGER NOT NULL,
            PRIMARY KEY (member_id, attribute)
        ) WITHOUT ROWID;
        CREATE TABLE feedback (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            member_id       TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            brand_id        TEXT NOT NULL REFERENCES brands(id),
            touchpoint      TEXT NOT NULL,
            rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
            nps             INTEGER CHECK (nps BETWEEN 0 AND 10),
            comment_sealed  BLOB,
            occurred_on     TEXT NOT NULL,
            updated_at      INTEGER NOT NULL
        );
        CREATE INDEX feedback_by_member ON feedback (member_id, occurred_on);
        CREATE INDEX feedback_by_touchpoint ON feedback (touchpoint, brand_id);
        """,
    ),
    Migration(
        2,
        "sessions_throttle_erasures",
        """
        CREATE TABLE web_sessions (
            id_hash     BLOB PRIMARY KEY,          -- SHA-256 of the cookie value
            member_id   TEXT REFERENCES members(id) ON DELETE CASCADE,
            data        TEXT NOT NULL DEFAULT '{}',
            device      TEXT NOT NULL DEFAULT '',
            created_at  INTEGER NOT NULL,
            last_seen   INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX web_sessions_by_member ON web_sessions (member_id);
        CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
        CREATE TABLE login_throttle (
            subject     BLOB PRIMARY KEY,          -- keyed hash of an address or a client IP
            failures    INTEGER NOT NULL,
            last_failure INTEGER NOT NULL,
            locked_until INTEGER NOT NULL
        ) WITHOUT ROWID;
        -- Pseudonymous record of erasures, for the ledger (issue 3) and for restore.
        CREATE TABLE erasures (
            subject     TEXT PRIMARY KEY,          -- keyed pseudonym of the member id
            erased_at   INTEGER NOT NULL,
            rows_deleted INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        3,
        "integer_member_keys_for_feedback",
        # Feedback rows point at their member by a small integer instead of the 32-character
        # id: the member index shrinks to a third, and with it the pages every commit rewrites
        # (each one encrypted and MACed by SQLCipher). The touchpoint index went: aggregates
        # scan the table anyway. Sealed values stay bound to the public member id.
        """
        CREATE TABLE members_new (
            num             INTEGER PRIMARY KEY AUTOINCREMENT,
            id              TEXT NOT NULL UNIQUE,
            email_index     BLOB NOT NULL UNIQUE,
            email_sealed    BLOB NOT NULL,
            password_hash   TEXT NOT NULL,
            totp_sealed     BLOB,
            totp_last_step  INTEGER,
            created_at      INTEGER NOT NULL
        );
        INSERT INTO members_new (id, email_index, email_sealed, password_hash, totp_sealed,
                                 totp_last_step, created_at)
            SELECT id, email_index, email_sealed, password_hash, totp_sealed, totp_last_step,
                   created_at FROM members ORDER BY created_at;
        CREATE TABLE feedback_new (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            member_num      INTEGER NOT NULL REFERENCES members_new(num) ON DELETE CASCADE,
            brand_id        TEXT NOT NULL REFERENCES brands(id),
            touchpoint      TEXT NOT NULL,
            rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
            nps             INTEGER CHECK (nps BETWEEN 0 AND 10),
            comment_sealed  BLOB,
            occurred_on     TEXT NOT NULL,
            updated_at      INTEGER NOT NULL
        );
        INSERT INTO feedback_new (id, member_num, brand_id, touchpoint, rating, nps,
                                  comment_sealed, occurred_on, updated_at)
            SELECT f.id, m.num, f.brand_id, f.touchpoint, f.rating, f.nps, f.comment_sealed,
                   f.occurred_on, f.updated_at
            FROM feedback AS f JOIN members_new AS m ON m.id = f.member_id;
        DROP TABLE feedback;
        DROP TABLE members;
        ALTER TABLE members_new RENAME TO members;
        ALTER TABLE feedback_new RENAME TO feedback;
        CREATE INDEX feedback_by_member ON feedback (member_num);
        """,
        rebuilds_tables=True,
    ),
    Migration(
        4,
        "member_roles",
        # Compliance officers are members with a role: they sign in like anyone and
        # may also open the compliance console. Every existing account stays a member.
        """
        ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
            CHECK (role IN ('member', 'compliance'));
        CREATE INDEX members_by_role ON members (role) WHERE role <> 'member';
        """,
    ),
    Migration(
        5,
        "erasure_intents",
        # A confirmed erasure, recorded before any step of it (vault/erasure.py): finished at
        # the next start or by the keeper whatever step a crash stopped it at. No foreign key:
        # the row outlives the member's, and goes once the last step is done.
        """
        CREATE TABLE erasure_intents (
            member_id   TEXT PRIMARY KEY,
            erased_at   INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        6,
        "account_recovery",
        # Issue 12 item 5. A sign-up waits in signup_requests until its mailed link is followed
        # (no member row or key exists before): the address and password hash are sealed under
        # a key derived from the link's token, which the store never holds, only its SHA-256.
        # Reset links and recovery codes belong to a member and go with the account.
        # request_limits counts requests that send mail, per keyed-hash subject and window.
        """
        CREATE TABLE signup_requests (
            token_hash  BLOB PRIMARY KEY,          -- SHA-256 of the link's random token
            email_index BLOB NOT NULL,             -- blind index of the address
            sealed      BLOB NOT NULL,             -- address + argon2id hash, token-keyed
            created_at  INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX signup_requests_by_address ON signup_requests (email_index);
        CREATE INDEX signup_requests_by_expiry ON signup_requests (expires_at);
        CREATE TABLE password_resets (
            token_hash  BLOB PRIMARY KEY,          -- SHA-256 of the link's random token
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            created_at  INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX password_resets_by_member ON password_resets (member_id);
        CREATE TABLE totp_recovery_codes (
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            code_hash   BLOB NOT NULL,             -- HMAC-SHA256 under a key from the master key
            created_at  INTEGER NOT NULL,
            used_at     INTEGER,
            PRIMARY KEY (member_id, code_hash)
        ) WITHOUT ROWID;
        CREATE TABLE request_limits (
            subject     BLOB PRIMARY KEY,          -- keyed hash of an address or a client
            window_start INTEGER NOT NULL,
            requests    INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
)

KEY_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "member_keys",
        """
        CREATE TABLE member_keys (
            member_id   TEXT PRIMARY KEY,
            wrapped     BLOB NOT NULL,             -- AES-256-GCM under the key-encryption key
            created_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        -- The erasure list outlives any data backup: restore re-applies it.
        CREATE TABLE erased_members (
            member_id   TEXT PRIMARY KEY,
            erased_at   INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
)


def apply(database: Database, migrations: tuple[Migration, ...], *,
          table: str = "schema_migrations") -> list[Migration]:
    """Apply the migrations ``database`` lacks, in order; return the ones applied.

    ``table`` records them; another layer keeping tables in the same file (consent/) numbers
    its migrations in a table of its own.
    """
    _check_table_name(table)
    database.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    done = {row["number"] for row in database.all(f"SELECT number FROM {table}")}
    applied = []
    for migration in sorted(migrations, key=lambda m: m.number):
        if migration.number in done:
            continue
        if migration.rebuilds_tables:
            database.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction
        try:
            with database.transaction():
                if database.one(f"SELECT 1 FROM {table} WHERE number = ?",
                                (migration.number,)):
                    continue     # another process applied it since the look above
                for statement in _statements(migration.sql):
                    database.execute(statement)
                if migration.rebuilds_tables and database.all("PRAGMA foreign_key_check"):
                    raise StoreError(f"migration {migration.name} broke a foreign key")
                database.execute(
                    f"INSERT INTO {table} (number, name, applied_at) VALUES (?, ?, ?)",
                    (migration.number, migration.name, int(time.time())),
                )
        finally:
            if migration.rebuilds_tables:
                database.execute("PRAGMA foreign_keys = ON")
        applied.append(migration)
    return applied


def pending(database: Database, migrations: tuple[Migration, ...], *,
            table: str = "schema_migrations") -> list[Migration]:
    _check_table_name(table)
    row = database.one(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    )
    if not row[0]:
        return list(migrations)
    done = {r["number"] for r in database.all(f"SELECT number FROM {table}")}
    return [m for m in migrations if m.number not in done]


def _statements(script: str) -> list[str]:
    # Our migration scripts hold no semicolons inside literals, so a split is exact; comments go.
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _check_table_name(table: str) -> None:
    # Interpolated into SQL (a table name cannot be a parameter): only plain identifiers.
    if not table.replace("_", "").isalnum() or not table.isascii():
        raise ValueError(f"not a table name: {table!r}")


@dataclass(frozen=True)
class LayerMigrations:
    """The migrations one layer keeps in another layer's store, under its own table.

    ``vrmvault init`` calls :meth:`initialise`; the layer's services call
    :meth:`require_current` before they touch its tables.
    """

    layer: str                         # for messages, e.g. "consent"
    table: str                         # e.g. "consent_migrations"
    migrations: tuple[Migration, ...]

    def initialise(self, database: Database) -> list[str]:
        """Apply what ``database`` lacks; the names applied."""
        return [m.name for m in apply(database, self.migrations, table=self.table)]

    def require_current(self, database: Database) -> None:
        if pending(database, self.migrations, table=self.table):
            raise StoreError(f"the store needs {self.layer} migrations; run 'vrmvault init'")
