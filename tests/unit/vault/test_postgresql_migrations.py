"""vault.postgresql.migrations and the PostgreSQL histories of vault.schema: the same numbers,
names and bookkeeping as SQLite's, each migration in its own transaction, applied once even by
several processes at once; and each store with the same tables and columns on both engines, but
for what the data store adds on PostgreSQL to be distributed by member."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from vault import migrations as sqlite_migrations
from vault import schema
from vault.errors import StoreError
from vault.migrations import Migration
from vault.postgresql import migrations
from vault.postgresql.data import open_data_store
from vault.postgresql.database import Database
from vault.sqlcipher.database import Database as SqlcipherDatabase

from .test_migrations import (
    applies_once,
    community_sizes_are_kept_from_now_on,
    endpoints_get_public_ids,
    intent_numbers_are_never_reused,
    joins_agreements_become_the_members,
    recorded,
    request_reasons_of_erased_members_are_emptied,
    store,
)

SQL = Path(schema.__file__).parent / "postgresql"
PG_ONLY_TABLES = {"data": {"member_logins"}}
SQLITE_ONLY_TABLES = {"ledger": {"search_recent"}}   # its rows wait for a fold only on SQLite
# The member's keys, and SQLite's implicit rowid made a column where queries order by it.
PG_ONLY_COLUMNS = {"member_id", "member_num", "rowid"}


@pytest.fixture
def database(postgresql_dsn: str):
    db = Database.connect(postgresql_dsn)
    yield db
    db.close()


def tables(db: Database) -> set[str]:
    """The store's tables; a partitioned table once (its partitions are storage, not schema)."""
    return {row[0] for row in db.all(
        "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        " AND NOT c.relispartition")}


# -- the histories -------------------------------------------------------------------------------
def test_each_postgresql_history_is_its_sqlite_historys_numbers_and_names() -> None:
    sqlite = {s.name: s for s in schema.STORES}
    for wanted in schema.POSTGRESQL_STORES:
        assert [(m.number, m.name) for m in wanted.migrations] == [
            (m.number, m.name) for m in sqlite[wanted.name].migrations]
        files = sorted(path.name for path in (SQL / wanted.name).iterdir())
        assert files == [f"{m.number:04d}_{m.name}.sql" for m in wanted.migrations]
    # Beside the histories, the Citus distribution (tests/unit/storage/test_citus_ready.py).
    assert {path.name for path in SQL.iterdir()} == \
        {s.name for s in schema.POSTGRESQL_STORES} | {"citus.sql"}


@pytest.mark.parametrize("wanted", schema.POSTGRESQL_STORES, ids=lambda s: s.name)
def test_applying_twice_applies_nothing_the_second_time(database, wanted) -> None:
    applies_once(migrations, database, wanted)


def test_existing_endpoints_get_public_ids(database) -> None:
    endpoints_get_public_ids(migrations, database, schema.on_postgresql(schema.DATA))


def test_agreements_a_join_made_are_told_apart(database) -> None:
    joins_agreements_become_the_members(migrations, database, schema.on_postgresql(schema.DATA))


def test_intent_numbers_are_never_reused(database) -> None:
    intent_numbers_are_never_reused(migrations, database, schema.on_postgresql(schema.DATA))


def test_community_sizes_are_kept_from_now_on(database) -> None:
    community_sizes_are_kept_from_now_on(migrations, database, schema.on_postgresql(schema.DATA))


def test_request_reasons_of_erased_members_are_emptied(database) -> None:
    request_reasons_of_erased_members_are_emptied(
        migrations, database, schema.on_postgresql(schema.DATA))


@pytest.mark.parametrize("wanted", schema.POSTGRESQL_STORES, ids=lambda s: s.name)
def test_a_store_has_the_same_tables_and_columns_on_both_engines(database, wanted, tmp_path):
    migrations.apply(database, wanted)
    on_postgresql = {table: [row[0] for row in database.all(
        "SELECT column_name FROM information_schema.columns WHERE table_schema ="
        " current_schema() AND table_name = ? ORDER BY ordinal_position", (table,))]
        for table in tables(database)}
    sqlite = SqlcipherDatabase.open(tmp_path / "store.db", bytes(32), create=True)
    try:
        sqlite_migrations.apply(sqlite, next(s for s in schema.STORES if s.name == wanted.name))
        # table_xinfo: generated columns too (insight_feedback_tallies' classes)
        on_sqlite = {row[0]: [column[1] for column in sqlite.all(
            f"PRAGMA table_xinfo({row[0]})")] for row in sqlite.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    finally:
        sqlite.close()
    # What PostgreSQL adds (the rules at the head of postgresql/data/0001_baseline.sql): the
    # member's keys carried by member-owned tables so Citus can distribute them by member, the
    # table that keeps one account per blind index across members, and a rowid column where
    # SQLite's implicit one orders rows.
    assert set(on_postgresql) == (set(on_sqlite) - SQLITE_ONLY_TABLES.get(wanted.name, set())
                                  | PG_ONLY_TABLES.get(wanted.name, set()))
    for table, columns in on_sqlite.items():
        if table in SQLITE_ONLY_TABLES.get(wanted.name, set()):
            continue
        assert set(columns) <= set(on_postgresql[table]), table
        assert set(on_postgresql[table]) - set(columns) <= PG_ONLY_COLUMNS, table


# -- the runner ------------------------------------------------------------------------------------
def test_migrations_apply_in_number_order_and_only_missing_ones(database) -> None:
    first = Migration(1, "one", "CREATE TABLE a (x INTEGER PRIMARY KEY)")
    second = Migration(2, "two", "CREATE TABLE b (x INTEGER REFERENCES a);"
                                 " CREATE INDEX b_x ON b (x)")
    assert migrations.apply(database, store(first)) == ["applied migration 1 one"]
    assert migrations.apply(database, store(first, second)) == ["applied migration 2 two"]
    assert recorded(database) == [(1, "one"), (2, "two")]
    assert tables(database) == {"a", "b", "store_migrations"}


def test_a_failing_migration_leaves_nothing_half_applied(database) -> None:
    good = Migration(1, "good", "CREATE TABLE a (x INTEGER)")
    bad = Migration(2, "bad", "CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1)")
    with pytest.raises(StoreError):
        migrations.apply(database, store(good, bad))
    assert recorded(database) == [(1, "good")]
    assert tables(database) == {"a", "store_migrations"}
    assert not database.in_transaction


def test_a_store_of_a_newer_version_is_refused(database) -> None:
    first = Migration(1, "one", "CREATE TABLE a (x INTEGER)")
    migrations.apply(database, store(first, Migration(2, "two", "CREATE TABLE b (x INTEGER)")))
    with pytest.raises(StoreError, match="newer version") as caught:
        migrations.apply(database, store(first))
    assert "test migration 2" in str(caught.value)


def test_a_database_with_tables_and_no_record_of_migrations_is_refused(database) -> None:
    database.execute("CREATE TABLE someone_elses (x INTEGER)")
    with pytest.raises(StoreError, match="not a vrmvault test store"):
        migrations.apply(database, store(Migration(1, "one", "CREATE TABLE a (x INTEGER)")))
    assert tables(database) == {"someone_elses"}


def test_two_processes_applying_at_once_apply_each_migration_once(postgresql_dsn) -> None:
    """Two connections (as two ``vrmvault serve`` hosts starting together) apply one history at
    once: the advisory lock lets one apply each migration, the other finds it recorded."""
    history = store(*(Migration(n, f"step{n}", f"CREATE TABLE t{n} (x INTEGER)")
                      for n in range(1, 6)))
    start = threading.Barrier(2)
    done: list[list[str]] = []
    failures: list[BaseException] = []

    def applying() -> None:
        try:
            db = Database.connect(postgresql_dsn)
            try:
                start.wait(timeout=10)
                done.append(migrations.apply(db, history))
            finally:
                db.close()
        except BaseException as exc:       # reported below, in the test's own thread
            failures.append(exc)

    threads = [threading.Thread(target=applying) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures and len(done) == 2, failures
    assert sorted(done[0] + done[1]) == [f"applied migration {n} step{n}" for n in range(1, 6)]
    db = Database.connect(postgresql_dsn)
    try:
        assert recorded(db) == [(n, f"step{n}") for n in range(1, 6)]
    finally:
        db.close()


def test_a_data_database_that_sorts_text_by_a_language_is_refused(postgresql,
                                                                  postgresql_dsn) -> None:
    """The repositories order text as SQLite does, byte by byte: a database whose collation
    is a language's (ICU's English here) is refused before anything is written to it."""
    name = f"{postgresql.prefix}_english"
    admin = Database.connect(postgresql.admin_dsn)
    try:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu"
                      " ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
    finally:
        admin.close()
    try:
        with pytest.raises(StoreError, match="C collation") as refused:
            open_data_store(postgresql.dsn(name)).close()
        assert "LOCALE 'C.UTF-8'" in str(refused.value)
        english = Database.connect(postgresql.dsn(name))
        try:
            assert tables(english) == set()                 # nothing was written
        finally:
            english.close()
    finally:
        admin = Database.connect(postgresql.admin_dsn)
        try:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        finally:
            admin.close()
    open_data_store(postgresql_dsn).close()         # the run's own (C.UTF-8) is taken


def test_the_bootstrap_lock_is_the_key_its_documentation_gives() -> None:
    """Hosts of two versions may start together (a rolling upgrade): they serialise what they
    make only if both take the one key the module documents."""
    assert migrations.BOOTSTRAP_LOCK == 9008492408953993078
    assert migrations.BOOTSTRAP_LOCK not in {migrations.lock_key(store)
                                             for store in schema.STORES}
