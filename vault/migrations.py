"""The runner of schema migrations: one ordered history per store, one bookkeeping table.

Every store of a vault home (``vault/schema``: data, keys, ledger, rates) has one list of
numbered, named migrations, and records those it applied in its table ``store_migrations``
(number, name, applied_at). This module applies them; it is the SQLite runner (the
bookkeeping SQL, ``sqlite_master`` and ``PRAGMA foreign_keys`` are SQLite's), and the
migrations' own SQL comes from ``vault/schema/sqlite/``, so that another engine gets a runner
and SQL files of its own beside these.

Invariants:
- A migration is never edited once released; each runs in its own transaction with its
  bookkeeping row, so a half-applied migration is impossible and ``vrmvault init`` / ``serve``
  can apply what is missing at any time, from several processes at once (the first one to
  take the write lock applies it, the others find it recorded).
- A store recording a migration its history does not have was made by a newer version: it is
  refused, never opened as if it were current.
- A store made before its history was squashed into a baseline (by vrmvault b89e8db, with a
  bookkeeping table per layer, :class:`Squashed`) is taken over once, in one transaction, and
  only if every old bookkeeping table is at that version's last migration and its schema is
  exactly the baseline's: the old tables' records become the baseline's row, the old tables go.
  No row of data is read or written by it. Anything else (older, unknown, changed by hand) is
  refused with what is wrong, and left as it was.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import StoreError
from .sqlcipher.database import Database

TABLE = "store_migrations"
ENGINE = "sqlite"              # the folder of vault/schema holding this runner's SQL


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str
    # A table rebuild (SQLite's 12-step procedure): foreign keys off while it runs, so dropping
    # the old table cascades nothing, and a foreign_key_check before it commits.
    rebuilds_tables: bool = False


@dataclass(frozen=True)
class Squashed:
    """The pre-release history a baseline replaced, as the version that made it recorded it.

    ``tables`` maps each old bookkeeping table to the (number, name) rows it held at that
    version's last migration; ``baseline`` is the number of the migration that replaced them.
    """

    made_by: str
    tables: Mapping[str, tuple[tuple[int, str], ...]]
    baseline: int = 1


@dataclass(frozen=True)
class Store:
    """One store of a vault home: its file, the purpose its key is derived for, its history."""

    name: str                          # "data", "keys", "ledger", "rates"
    file: str                          # in the vault home, e.g. "data.db"
    key_purpose: str                   # master.derive(key_purpose) opens it
    migrations: tuple[Migration, ...]
    squashed: Squashed | None = None

    @property
    def latest(self) -> int:
        return self.migrations[-1].number


def migration(store: str, number: int, name: str, *, rebuilds_tables: bool = False,
              engine: str = ENGINE) -> Migration:
    """The migration whose SQL is ``vault/schema/<engine>/<store>/<number:04>_<name>.sql``
    (another engine's history has the same numbers and names, and SQL of its own)."""
    sql = (resources.files("vault.schema") / engine / store / f"{number:04d}_{name}.sql"
           ).read_text(encoding="utf-8")
    return Migration(number, name, sql, rebuilds_tables)


def apply(database: Database, store: Store) -> list[str]:
    """Bring ``database`` to the last migration of ``store``; say what was done, in order
    (empty when it was current). A store of the pre-release history is taken over first."""
    done: list[str] = []
    if _taken_over(database, store):
        assert store.squashed is not None
        done.append(f"upgraded from the migration tables of vrmvault {store.squashed.made_by}"
                    f" ({', '.join(store.squashed.tables)}) to migration"
                    f" {store.squashed.baseline}")
    database.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
        " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
    _refuse_newer(database, store)
    recorded = _recorded(database)
    for step in store.migrations:
        if step.number in recorded:
            continue
        if step.rebuilds_tables:
            database.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction
        try:
            with database.transaction():
                if database.one(f"SELECT 1 FROM {TABLE} WHERE number = ?", (step.number,)):
                    continue     # another process applied it since the look above
                for statement in statements(step.sql):
                    database.execute(statement)
                if step.rebuilds_tables and database.all("PRAGMA foreign_key_check"):
                    raise StoreError(f"migration {step.name} broke a foreign key")
                _record(database, step)
        finally:
            if step.rebuilds_tables:
                database.execute("PRAGMA foreign_keys = ON")
        done.append(f"applied migration {step.number} {step.name}")
    return done


def pending(database: Database, store: Store) -> list[Migration]:
    """The migrations of ``store`` that ``database`` has not recorded (all of them for a store
    of the pre-release history, until :func:`apply` takes it over)."""
    if not _has_table(database, TABLE):
        return list(store.migrations)
    recorded = _recorded(database)
    return [m for m in store.migrations if m.number not in recorded]


def require_current(database: Database, store: Store) -> None:
    """Raise :class:`StoreError` unless ``database`` has every migration of ``store``."""
    if pending(database, store):
        raise StoreError(f"the {store.name} store needs migrations; run 'vrmvault init'")


def records_migrations(database: Database) -> bool:
    """Whether ``database`` keeps a record of its migrations, in this runner's table or a
    pre-release one: a store of ours, new or old, and not merely a file our key opens."""
    return any(name == TABLE or _pre_release_bookkeeping(name) for name in _tables(database))


def statements(script: str) -> list[str]:
    """The statements of a migration script, comments removed. Our scripts hold no ``--`` or
    semicolon inside a literal, so cutting at them is exact, except inside a trigger's
    ``BEGIN ... END``: pieces are joined until SQLite's own parser
    (``sqlite3.complete_statement``, no connection) finds a whole statement."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    found: list[str] = []
    pending = ""
    for piece in "\n".join(lines).split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                found.append(pending.strip().removesuffix(";").strip())
            pending = ""
    if pending.strip(" \n;"):
        found.append(pending.strip().removesuffix(";").strip())
    return found


def schema_of(database: Database) -> set[tuple[str, str, str]]:
    """Every table, index, view and trigger of ``database`` as (type, name, SQL), the SQL
    normalised (comments, identifier quotes, case and layout dropped), without SQLite's own
    objects or any bookkeeping table: two stores with equal schemas hold the same structure,
    however each was reached (``ALTER TABLE`` appends to the stored text, ``RENAME`` quotes)."""
    rows = database.all("SELECT type, name, tbl_name, sql FROM sqlite_master"
                        " WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    return {(row[0], row[1], _normalised(row[3])) for row in rows
            if not _bookkeeping(row[1]) and not _bookkeeping(row[2])}


def baseline_schema(store: Store) -> set[tuple[str, str, str]]:
    """:func:`schema_of` a new store brought to the baseline of ``store``, made in a scratch
    file (deleted at once) under a random key."""
    baseline = store.squashed.baseline if store.squashed else store.latest
    scratch = Store(store.name, store.file, store.key_purpose,
                    tuple(m for m in store.migrations if m.number <= baseline))
    with tempfile.TemporaryDirectory(prefix="vrmvault-schema-") as folder:
        database = Database.open(Path(folder) / store.file, secrets.token_bytes(32),
                                 create=True)
        try:
            apply(database, scratch)
            return schema_of(database)
        finally:
            database.close()


# -- the pre-release history ----------------------------------------------------------------

def _pre_release_bookkeeping(table: str) -> bool:
    """Whether ``table`` is named as the pre-release histories named their bookkeeping
    (``schema_migrations``, ``consent_migrations``, ``gateway_token_migrations``, ...)."""
    return table.endswith("_migrations") and table != TABLE


def _bookkeeping(table: str) -> bool:
    return table == TABLE or _pre_release_bookkeeping(table)


def _taken_over(database: Database, store: Store) -> bool:
    """Take over a store of the pre-release history (see the module docstring); False if
    ``database`` is not one (new, or on the new bookkeeping already)."""
    if _has_table(database, TABLE):
        return False
    old = [name for name in _tables(database) if _pre_release_bookkeeping(name)]
    if not old:
        if any(not name.startswith("sqlite_") for name in _tables(database)):
            raise StoreError(f"{database.path} holds tables but no record of its migrations:"
                             f" it is not a vrmvault {store.name} store")
        return False
    squashed = store.squashed
    if squashed is None:
        raise StoreError(f"{database.path} records its migrations in a form this version"
                         " does not know")
    _check_records(database, store, squashed)
    expected = baseline_schema(store)
    with database.transaction():
        if _has_table(database, TABLE):
            return False                     # another process took it over meanwhile
        found = schema_of(database)
        if found != expected:
            raise StoreError(
                f"{database.path} is at the last migrations of vrmvault {squashed.made_by}"
                f" but its schema is not that version's: {_first_difference(found, expected)}"
                "; it was changed by hand and is left as it is")
        database.execute(f"CREATE TABLE {TABLE} ("
                         " number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                         " applied_at INTEGER NOT NULL)")
        for step in store.migrations:
            if step.number <= squashed.baseline:
                _record(database, step)
        for name in squashed.tables:
            database.execute(f"DROP TABLE {name}")
    return True


def _check_records(database: Database, store: Store, squashed: Squashed) -> None:
    """Refuse unless every old bookkeeping table holds exactly what ``squashed`` says."""
    present = set(_tables(database))
    for table, wanted in squashed.tables.items():
        found = (tuple((row[0], row[1]) for row in database.all(
            f"SELECT number, name FROM {table} ORDER BY number"))
            if table in present else ())
        missing = [f"{number} {name}" for number, name in wanted if (number, name) not in found]
        unknown = [f"{number} {name}" for number, name in found if (number, name) not in wanted]
        if unknown:
            raise StoreError(
                f"{database.path} records migrations vrmvault {squashed.made_by} never had"
                f" ({table}: {', '.join(unknown)}): it was made by another version")
        if missing:
            raise StoreError(
                f"{database.path} was made by a vrmvault older than {squashed.made_by}: it"
                f" lacks {table} {', '.join(missing)}. Bring it to {squashed.made_by} with"
                f" that version's 'vrmvault init' first")
    extra = [t for t in present if _pre_release_bookkeeping(t) and t not in squashed.tables]
    if extra:
        raise StoreError(f"{database.path} records migrations in {', '.join(sorted(extra))},"
                         f" which a {store.name} store of vrmvault {squashed.made_by} has not")


def _first_difference(found: set[tuple[str, str, str]],
                      expected: set[tuple[str, str, str]]) -> str:
    found_names = {(kind, name): sql for kind, name, sql in found}
    expected_names = {(kind, name): sql for kind, name, sql in expected}
    # Tables first: a missing table also takes its indexes with it.
    for key in sorted(expected_names.keys() | found_names.keys(),
                      key=lambda key: (key[0] != "table", key)):
        if key not in found_names:
            return f"{key[0]} {key[1]} is missing"
        if key not in expected_names:
            return f"{key[0]} {key[1]} should not be there"
        if found_names[key] != expected_names[key]:
            return f"{key[0]} {key[1]} is defined otherwise"
    return "no difference"   # pragma: no cover (called only on a difference)


_COMMENT = re.compile(r"--[^\n]*")
_SPACE = re.compile(r"\s+")
_AROUND = re.compile(r"\s*([(),])\s*")


def _normalised(sql: str) -> str:
    text = _COMMENT.sub("", sql).replace('"', "")
    return _AROUND.sub(r"\1", _SPACE.sub(" ", text)).strip().lower()


# -- bookkeeping ----------------------------------------------------------------------------

def _record(database: Database, step: Migration) -> None:
    database.execute(f"INSERT INTO {TABLE} (number, name, applied_at) VALUES (?, ?, ?)",
                     (step.number, step.name, int(time.time())))


def _recorded(database: Database) -> set[int]:
    return {row[0] for row in database.all(f"SELECT number FROM {TABLE}")}


def _refuse_newer(database: Database, store: Store) -> None:
    known = {m.number for m in store.migrations}
    unknown = sorted(_recorded(database) - known)
    if unknown:
        raise StoreError(f"{database.path} was made by a newer version of vrmvault (its"
                         f" {store.name} migration {unknown[0]} is unknown here)")


def _tables(database: Database) -> list[str]:
    return [row[0] for row in database.all(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def _has_table(database: Database, name: str) -> bool:
    return database.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)) is not None
