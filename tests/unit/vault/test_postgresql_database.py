"""vault.postgresql.database: what is PostgreSQL's own (what every engine's connection does alike
is in tests/unit/storage/test_connections.py): the one translation of ``?`` placeholders, its
errors told without values or credentials, and the pool that lends connections clean."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from vault.errors import ConstraintViolationError, StoreError
from vault.postgresql.database import Database, Pool, placeholders


@pytest.mark.parametrize(("written", "sent"), [
    ("SELECT a FROM t WHERE b = ? AND c > ?", "SELECT a FROM t WHERE b = %s AND c > %s"),
    ("SELECT '?', 'it''s ?', ? FROM t", "SELECT '?', 'it''s ?', %s FROM t"),
    ("SELECT E'\\'?', ?", "SELECT E'\\'?', %s"),
    ('SELECT "odd?name" FROM t WHERE x = ?', 'SELECT "odd?name" FROM t WHERE x = %s'),
    ("SELECT ? -- why?\n, ?", "SELECT %s -- why?\n, %s"),
    ("SELECT /* ? */ ?", "SELECT /* ? */ %s"),
    ("SELECT $$ ? $$, $body$ ?'$ $body$, ?", "SELECT $$ ? $$, $body$ ?'$ $body$, %s"),
    ("SELECT 7 % ?, '100%'", "SELECT 7 %% %s, '100%%'"),
    ("SELECT x::text FROM t WHERE y = ?", "SELECT x::text FROM t WHERE y = %s"),
])
def test_question_marks_become_psycopgs_placeholders_in_one_place(written: str,
                                                                  sent: str) -> None:
    assert placeholders(written) == sent


def test_a_server_that_cannot_be_reached_is_told_without_the_connection_string() -> None:
    """Each cause and its words: tests/unit/vault/test_postgresql_connection_failures.py."""
    dsn = ("host=/nonexistent/socket/folder dbname=member_data user=vault"
           " password=hunter2 connect_timeout=2")
    with pytest.raises(StoreError) as caught:
        Database.connect(dsn, setting="VRMVAULT_DATABASE_URL")
    assert str(caught.value) == ("cannot connect to the PostgreSQL database of"
                                 " VRMVAULT_DATABASE_URL: nothing listens at the URL's host and"
                                 " port (connection refused)")
    assert caught.value.__cause__ is not None
    with pytest.raises(StoreError) as caught:
        Database.connect("host=a password=hunter2 no_such_option=1")
    assert str(caught.value) == ("cannot connect to the PostgreSQL database: the URL cannot be"
                                 " read as a PostgreSQL connection URL (a password holding / :"
                                 " @ # ? must be percent-encoded)")


def test_a_pool_that_cannot_connect_is_told_without_the_connection_string() -> None:
    with pytest.raises(StoreError) as caught:
        Pool("host=/nonexistent/socket/folder dbname=rates password=hunter2",
             setting="VRMVAULT_DATABASE_URL", timeout=0.2)
    assert str(caught.value) == ("cannot connect to the PostgreSQL database of"
                                 " VRMVAULT_DATABASE_URL: nothing listens at the URL's host and"
                                 " port (connection refused)")


@pytest.fixture
def database(postgresql_dsn: str):
    db = Database.connect(postgresql_dsn)
    db.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE children (id INTEGER PRIMARY KEY,"
               " parent INTEGER NOT NULL REFERENCES parents (id),"
               " age INTEGER CONSTRAINT children_age_check CHECK (age >= 0))")
    db.execute("INSERT INTO parents (id) VALUES (1)")
    yield db
    db.close()


@pytest.mark.parametrize(("values", "message"), [
    ((1, 1, 4), "UNIQUE constraint children_pkey of table children"),
    ((2, 777, 4), "FOREIGN KEY constraint children_parent_fkey of table children"),
    ((3, 1, -777), "CHECK constraint children_age_check of table children"),
    ((4, None, 4), "NOT NULL constraint on column parent of table children"),
])
def test_each_broken_constraint_is_named_never_its_values(database, values, message) -> None:
    database.execute("INSERT INTO children (id, parent, age) VALUES (1, 1, 4)")
    with pytest.raises(ConstraintViolationError) as caught:
        database.execute("INSERT INTO children (id, parent, age) VALUES (?, ?, ?)", values)
    # PostgreSQL's, in its terms: never SQLite's wording ("... constraint failed: ...").
    assert str(caught.value) == f"PostgreSQL refused the write: {message}"
    assert "777" not in str(caught.value)


def test_one_name_made_by_two_sessions_at_once_is_no_constraint_of_ours(
        postgresql_dsn: str) -> None:
    """The second of two sessions making one table waits on the first's uncommitted catalog
    row, then breaks a unique index of PostgreSQL's catalog: a :class:`StoreError` that says
    so, never a :class:`ConstraintViolationError`, which a service reads as a duplicate row of
    its own (and never SQLite's words)."""
    first, second, watcher = (Database.connect(postgresql_dsn) for _ in range(3))
    try:
        waiting = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = ?"
        second_pid = second.one("SELECT pg_backend_pid()")[0]
        with ThreadPoolExecutor(1) as pool:
            with first.transaction():
                first.execute("CREATE TABLE made_twice (x INTEGER)")
                making = pool.submit(second.execute, "CREATE TABLE made_twice (x INTEGER)")
                deadline = time.monotonic() + 30
                while not watcher.one(waiting, (second_pid,))[0]:
                    assert time.monotonic() < deadline and not making.done()
                    time.sleep(0.01)
            with pytest.raises(StoreError) as caught:
                making.result(timeout=30)
        assert str(caught.value) == (
            "PostgreSQL's catalog refused a change (unique index pg_type_typname_nsp_index of"
            " pg_type): another session was making an object of the same name at the same"
            " moment")
    finally:
        for database in (first, second, watcher):
            database.close()


def test_a_pool_lends_connections_of_their_own_and_takes_them_back_clean(
        postgresql_dsn: str) -> None:
    pool = Pool(postgresql_dsn, min_size=1, max_size=2)
    try:
        with pool.connection() as first, pool.connection() as second:
            assert first.one("SELECT pg_backend_pid()")[0] != \
                second.one("SELECT pg_backend_pid()")[0]
            first.execute("CREATE TABLE t (x INTEGER)")
            first.execute("BEGIN")                      # and the borrower never ends it
            first.execute("INSERT INTO t (x) VALUES (1)")
            kept = first.one("SELECT pg_backend_pid()")[0]
        with pool.connection() as again, pool.connection() as other:
            lent = {again.one("SELECT pg_backend_pid()")[0],
                    other.one("SELECT pg_backend_pid()")[0]}
            assert kept in lent                         # the same connection, lent again...
            assert again.one("SELECT count(*) FROM t")[0] == 0      # ... rolled back
            assert not again.in_transaction and again.end_use() is False
    finally:
        pool.close()


_LOCK_PARENT = "SELECT 1 FROM parents WHERE id = ? FOR NO KEY UPDATE"


def _locked(postgresql_dsn: str, parent: int) -> bool:
    """Whether another connection finds the parent's row locked (it does not wait)."""
    other = Database.connect(postgresql_dsn)
    try:
        other.execute("BEGIN")
        other.execute("SET LOCAL lock_timeout = '50ms'")
        try:
            other.execute(_LOCK_PARENT, (parent,))
        except StoreError:
            return True
        return False
    finally:
        other.end_use()
        other.close()


def test_a_lock_is_taken_once_per_transaction_and_again_after_a_savepoint_releases_it(
        database: Database, postgresql_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    execute = Database.execute

    def counted(self: Database, sql: str, parameters: Sequence[Any] = ()) -> Any:
        if self is database:
            sent.append(sql)
        return execute(self, sql, parameters)

    monkeypatch.setattr(Database, "execute", counted)
    database.execute("INSERT INTO parents (id) VALUES (2)")
    with database.transaction():
        database.lock(_LOCK_PARENT, (1,))
        database.lock(_LOCK_PARENT, (1,))           # held: not sent again
        database.lock(_LOCK_PARENT, (2,))           # another row: sent
        assert sent.count(_LOCK_PARENT) == 2
        assert _locked(postgresql_dsn, 1) and _locked(postgresql_dsn, 2)
        database.execute("SAVEPOINT step")
        database.execute("ROLLBACK TO SAVEPOINT step")
        database.lock(_LOCK_PARENT, (1,))           # perhaps released: taken again
        assert sent.count(_LOCK_PARENT) == 3 and _locked(postgresql_dsn, 1)
    assert not _locked(postgresql_dsn, 1)           # the transaction ended: released
    with database.transaction():
        database.lock(_LOCK_PARENT, (1,))           # a new transaction takes it again
        assert sent.count(_LOCK_PARENT) == 4 and _locked(postgresql_dsn, 1)
    with pytest.raises(LookupError), database.transaction():
        database.lock(_LOCK_PARENT, (1,))
        raise LookupError("a step failed")
    with database.transaction():
        database.lock(_LOCK_PARENT, (1,))           # after a rollback too
        assert sent.count(_LOCK_PARENT) == 6 and _locked(postgresql_dsn, 1)
