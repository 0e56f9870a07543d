"""The PostgreSQL runner of schema migrations: the same histories and bookkeeping as SQLite's.

A store's PostgreSQL history (``vault/schema/postgresql/<store>/``, listed by
:func:`vault.schema.on_postgresql`) has the numbers and names of its SQLite history
(:mod:`vault.migrations`), with SQL of its own; applied migrations are recorded in the same
table, ``store_migrations`` (number, name, applied_at), in the store's schema (the first of
the connection's ``search_path``).

Invariants:
- A migration is never edited once released; each runs in its own transaction with its
  bookkeeping row (PostgreSQL's DDL is transactional), so a half-applied migration is
  impossible. A migration's script goes to the server whole: it may hold several statements,
  none of which may refuse to run in a transaction (``CREATE INDEX CONCURRENTLY``).
- Several processes may apply a history at once: each transaction first takes a
  transaction-level advisory lock of the store's (:func:`lock_key`), then looks again at what
  is recorded, so the first one applies a migration and the others find it recorded.
- What a store needs beside its history (the schema a store is kept in, :func:`make_schema`;
  the master key's check, :mod:`vault.postgresql.stores`) is made the same way, under
  :data:`BOOTSTRAP_LOCK`: every host runs ``init`` or ``serve``, and they start together.
  ``CREATE ... IF NOT EXISTS`` alone is not enough: two sessions at once both find nothing, both
  insert the name into the catalog, and the second breaks a unique index of it
  (``pg_type_typname_nsp_index``) as soon as the first commits. Under the lock, the second
  looks only once the first has committed, with a query of the catalog (a statement sees what
  was committed before it began), and finds the object made.
- A store recording a migration its history does not have was made by a newer version: it is
  refused, never opened as if it were current. A schema holding tables but no record of its
  migrations is not a vrmvault store: it is refused and left as it is.
- No PostgreSQL store predates the baselines, so there is nothing to take over (SQLite's
  :class:`vault.migrations.Squashed` has no counterpart here).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator

from ..errors import StoreError
from ..migrations import TABLE, Migration, Store
from .database import Database


def _advisory_key(name: str) -> int:
    """The advisory lock ``name`` stands for: the first 8 bytes of its SHA-256, as the signed
    64-bit key ``pg_advisory_xact_lock`` takes; the same in every process and version."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def lock_key(store: Store) -> int:
    """The advisory lock (a signed 64-bit key) that serialises the migrations of ``store``
    within its database."""
    return _advisory_key(f"vrmvault:migrations:{store.name}")


#: The advisory lock that serialises what stores need beside their histories, in one database
#: (see the module docstring), taken by every process that opens a store to migrate it: the key
#: of ``vrmvault:bootstrap`` (:func:`_advisory_key`), 9008492408953993078. Hosts of two versions
#: may start together (a rolling upgrade): it must never change.
BOOTSTRAP_LOCK = _advisory_key("vrmvault:bootstrap")


@contextlib.contextmanager
def bootstrapping(database: Database) -> Iterator[None]:
    """A transaction holding :data:`BOOTSTRAP_LOCK` from its start to its end: inside it, look
    whether what is to be made is there (another process may have made it since), and make it
    only if it is not."""
    with database.transaction():
        database.execute("SELECT pg_advisory_xact_lock(?)", (BOOTSTRAP_LOCK,))
        yield


def make_schema(dsn: str, schema: str, *, setting: str | None = None) -> None:
    """Make the schema ``schema`` (a name of ours, never the caller's input) in the database
    ``dsn`` names (the value of ``setting``, which messages name), unless it is there."""
    database = Database.connect(dsn, setting=setting)
    try:
        with bootstrapping(database):
            if database.one("SELECT 1 FROM pg_namespace WHERE nspname = ?", (schema,)) is None:
                database.execute(f"CREATE SCHEMA {schema}")
    finally:
        database.close()


def apply(database: Database, store: Store) -> list[str]:
    """Bring ``database`` to the last migration of ``store``; say what was done, in order
    (empty when it was current)."""
    with database.transaction():
        _lock(database, store)
        if not records_migrations(database):
            if _tables(database):
                raise StoreError(f"{database.where} holds tables but no record of its"
                                 f" migrations: it is not a vrmvault {store.name} store")
            database.execute(
                f"CREATE TABLE {TABLE} (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at BIGINT NOT NULL)")
        _refuse_newer(database, store)
    done: list[str] = []
    for step in store.migrations:
        with database.transaction():
            _lock(database, store)
            if database.one(f"SELECT 1 FROM {TABLE} WHERE number = ?", (step.number,)):
                continue        # applied before, or by another process since the look above
            database.execute(step.sql)
            database.execute(f"INSERT INTO {TABLE} (number, name, applied_at) VALUES (?, ?, ?)",
                             (step.number, step.name, int(time.time())))
        done.append(f"applied migration {step.number} {step.name}")
    return done


def connect(dsn: str, store: Store) -> Database:
    """A connection of its own to the database ``dsn`` names, brought to the last migration of
    ``store``. Close it."""
    database = Database.connect(dsn)
    try:
        apply(database, store)
    except BaseException:
        database.close()
        raise
    return database


def pending(database: Database, store: Store) -> list[Migration]:
    """The migrations of ``store`` that ``database`` has not recorded."""
    recorded = _recorded(database) if records_migrations(database) else set()
    return [step for step in store.migrations if step.number not in recorded]


def require_current(database: Database, store: Store) -> None:
    """Raise :class:`StoreError` unless ``database`` has every migration of ``store``."""
    if pending(database, store):
        raise StoreError(f"the {store.name} store needs migrations; run 'vrmvault init'")


def _lock(database: Database, store: Store) -> None:
    database.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(store),))


def _refuse_newer(database: Database, store: Store) -> None:
    unknown = sorted(_recorded(database) - {m.number for m in store.migrations})
    if unknown:
        raise StoreError(f"{database.where} was made by a newer version of vrmvault (its"
                         f" {store.name} migration {unknown[0]} is unknown here)")


def _recorded(database: Database) -> set[int]:
    return {row[0] for row in database.all(f"SELECT number FROM {TABLE}")}


def _tables(database: Database) -> list[str]:
    return [row[0] for row in database.all(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        " ORDER BY tablename")]


def records_migrations(database: Database) -> bool:
    return database.one("SELECT 1 FROM pg_tables WHERE schemaname = current_schema()"
                        " AND tablename = ?", (TABLE,)) is not None
