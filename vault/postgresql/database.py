"""The PostgreSQL connection: the one module that talks to psycopg (and its pool).

It offers the repositories what :class:`vault.sqlcipher.database.Database` offers them
(``execute``, ``executemany``, ``one``, ``all``, ``memoized``, ``end_use``, ``close``, and the
transactions of :class:`vault.transactions.Transactions`), so a repository's code reads the same
on both engines and only its SQL differs.

Invariants:
- Only this module imports ``psycopg`` and ``psycopg_pool`` (and :mod:`.connection_failures`,
  which tells why a connection failed); every other module gets a :class:`Database` (one
  connection) or a :class:`Pool` (connections lent one at a time).
- Statements are written with SQLite's ``?`` placeholders on both engines; :func:`placeholders`
  is the one place they become psycopg's ``%s`` (and a ``%`` its ``%%``). A ``?``
  inside a string literal, a quoted identifier, a dollar-quoted body or a comment is left as
  it is; so is a statement run without parameters, which goes to the server verbatim (a
  migration script may hold several statements then).
- The connection is in autocommit mode: outside :meth:`Database.transaction` and
  :meth:`Database.snapshot` every statement commits on its own and no transaction stays open,
  as on SQLCipher. A transaction is PostgreSQL's default, READ COMMITTED: a repository that
  reads what it is about to change locks those rows (``SELECT ... FOR UPDATE``), where
  SQLCipher's ``BEGIN IMMEDIATE`` takes the whole store's write lock.
- The driver's errors become the store's (:mod:`vault.errors`): a broken constraint of a table
  of ours a :class:`ConstraintViolationError` naming its kind, constraint (or column) and table
  in PostgreSQL's terms, never in SQLite's words, which would send whoever reads it to the
  wrong engine; anything else a :class:`StoreError`, among them a unique index of PostgreSQL's
  own catalog broken by two sessions making one object at once, which no caller may take for a
  duplicate row of its own. No message holds SQL, a value, the connection string (whose
  password it may carry) or any part of it: a database is named by the setting that holds its
  URL (``VRMVAULT_DATABASE_URL``), never by its name, which libpq reads out of a mis-encoded
  URL's password (:mod:`.connection_failures`). A connection that fails says why in our
  words. The driver's error stays chained as the cause.
- Rows are read by position or by column name, as ``sqlcipher3.Row`` is; ``bytea`` comes back
  as ``bytes``.
- What a kept connection remembers between requests (:meth:`Database.memoized`) is valid only
  while no transaction that may have written has ended since, anywhere in the cluster: the
  version it is checked against is the server's snapshot (``pg_current_snapshot()``: the
  transactions running and the next id to be assigned), which moves whenever a transaction
  that wrote (it has an id) commits or rolls back, on any host, and whenever a new one starts
  writing; a transaction that only reads has no id and moves nothing.
- A read (:meth:`~vault.transactions.Transactions.snapshot`) looks at that version when it
  starts and begins its REPEATABLE READ transaction only with its first statement, reading the
  version again there: a read answered from memory alone costs one round trip and leaves no
  transaction to end; a read that used remembered values and then finds the store changed is
  refused with :class:`~vault.errors.SnapshotMovedError` (its values would be of two moments),
  and its caller reads again.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
import psycopg_pool
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus

from ..errors import (
    ConstraintViolationError,
    SnapshotMovedError,
    StoreError,
    StoreUnreachableError,
    TransactionFailedError,
)
from ..transactions import Transactions
from .connection_failures import connection_failure_reason

Parameters = Sequence[Any]
# The store's version (see the module docstring): the server's snapshot and this transaction's id.
_VERSION = "SELECT pg_current_snapshot()::text, txid_current_if_assigned()"
# What waits for a pooled connection (or for a new pool's first) gives up after (seconds); then
# the store is unavailable.
POOL_TIMEOUT = 10.0

_CONSTRAINT_KINDS = {
    pg_errors.UniqueViolation: "UNIQUE",
    pg_errors.ForeignKeyViolation: "FOREIGN KEY",
    pg_errors.CheckViolation: "CHECK",
    pg_errors.NotNullViolation: "NOT NULL",
    pg_errors.ExclusionViolation: "EXCLUDE",
}


class Row(tuple[Any, ...]):
    """A row read by position (``row[0]``) or by column name (``row["used"]``)."""

    _columns: dict[str, int]

    def __new__(cls, values: Sequence[Any], columns: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._columns = columns
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._columns[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._columns)


def _rows(cursor: psycopg.Cursor[Any]) -> Any:
    """psycopg's row factory for :class:`Row`: the column names are read once per result."""
    columns = {column.name: index for index, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        return Row(values, columns)

    return make


# Where a ? is not a placeholder: string literals (with E'' escapes), quoted identifiers,
# comments and dollar-quoted bodies; then a placeholder, or a percent sign elsewhere.
_SQL_TOKENS = re.compile(
    r"""(?P<skip>[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*"""
    r"""|/\*.*?\*/|\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*|)\$.*?\$(?P=tag)\$)"""
    r"""|(?P<placeholder>\?)|(?P<percent>%)""",
    re.DOTALL)


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """``rows`` as ``width`` column lists: the array parameters of an ``INSERT ... SELECT *
    FROM unnest(?::type[], ...)``, which writes a whole batch in one statement (an
    ``executemany`` costs a round of the protocol and an execution of the statement, with its
    statement triggers, per row)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def placeholders(sql: str) -> str:
    """``sql`` written with ``?`` placeholders as psycopg takes it: ``%s`` for each ``?``
    outside literals, identifiers and comments, and ``%%`` for every percent sign (psycopg
    reads one as a placeholder wherever it is)."""

    def replace(match: re.Match[str]) -> str:
        if match.group("placeholder"):
            return "%s"
        # psycopg reads every % as the start of a placeholder, inside literals too.
        return match.group(0).replace("%", "%%")

    return _SQL_TOKENS.sub(replace, sql)


def place(setting: str | None) -> str:
    """How messages name the database of a URL: by ``setting``, the one that holds the URL
    (never by the database's name, see the module docstring), or generically without one."""
    return f"the PostgreSQL database of {setting}" if setting else "the PostgreSQL database"


def _connect(dsn: str, setting: str | None) -> psycopg.Connection[Any]:
    """A connection to ``dsn`` for a :class:`Database`; a failure says where and why."""
    try:
        return psycopg.connect(dsn, autocommit=True, row_factory=_rows)
    except psycopg.Error as exc:
        raise StoreUnreachableError(f"cannot connect to {place(setting)}:"
                                    f" {connection_failure_reason(dsn, exc)}") from exc


def connection_parts(dsn: str) -> dict[str, str]:
    """What libpq reads in ``dsn`` (a URL or a key=value string), for checking a setting;
    :class:`ValueError` if it cannot read it (the message never quotes the string)."""
    try:
        return {key: str(value) for key, value in conninfo_to_dict(dsn).items()
                if value is not None}
    except psycopg.ProgrammingError:
        raise ValueError("is not a connection URL libpq can read") from None


def same_database(first: str, second: str) -> bool:
    """Whether two connection strings name one database (host, port and name)."""
    def where(dsn: str) -> tuple[str, str, str]:
        parts = connection_parts(dsn)
        return parts.get("host", ""), parts.get("port", "5432"), parts.get("dbname", "")

    return where(first) == where(second)


def in_schema(dsn: str, schema: str) -> str:
    """``dsn`` with ``schema`` first on its connections' search path (libpq's ``options``):
    a store kept in a schema of its own (the ledger's, in the data database)."""
    options = conninfo_to_dict(dsn).get("options") or ""
    return make_conninfo(dsn, options=f"{options} -c search_path={schema}".strip())


class Database(Transactions):
    """One PostgreSQL connection with the interface repositories use; :meth:`connect` one, or
    borrow one from a :class:`Pool`. Used by one thread at a time."""

    engine = "postgresql"

    def __init__(self, connection: psycopg.Connection[Any],
                 setting: str | None = None, *, dsn: str | None = None) -> None:
        super().__init__()
        self._connection = connection
        self.setting = setting      # the setting that holds its URL, for messages
        self._dsn = dsn             # to connect again (a connection of its own, not a pool's)
        self._snapshot_version: tuple[str, int | None] | None = None
        self._snapshot_open = False     # a read's transaction has begun (see _begin_read)
        self._locks: set[tuple[str, tuple[Any, ...]]] = set()   # taken in this transaction
        self._sent = 0      # statements sent that may write (all but SELECTs): see _written

    @classmethod
    def connect(cls, dsn: str, *, setting: str | None = None) -> Database:
        """A connection of its own to the database ``dsn`` names (a libpq connection string
        or ``postgresql://`` URL; ``sslmode`` and certificates pass through it), the value of
        ``setting`` (``VRMVAULT_DATABASE_URL``), which messages name. Close it."""
        return cls(_connect(dsn, setting), setting, dsn=dsn)

    def _reconnect_if_lost(self) -> None:
        """Open the connection again if the server dropped it (a restart, a failover) and
        nothing of a transaction or a read is under way on it: a connection kept for a long
        time (a host's keeper, its webhook delivery) would otherwise fail every use until its
        process ended. The use that met the loss failed, and said so; the next one goes on."""
        if (self._dsn is None or not self._connection.closed or self._depth
                or self._reading):
            return
        self._connection = _connect(self._dsn, self.setting)
        self._locks.clear()
        self._snapshot_version = None
        self._snapshot_open = False
        self._forget_memo()

    @property
    def where(self) -> str:
        """The store as messages name it."""
        return place(self.setting)

    # -- statements ----------------------------------------------------------------------
    def execute(self, sql: str, parameters: Parameters = ()) -> Any:
        self._reconnect_if_lost()
        if self._reading and not self._snapshot_open:
            self._open_snapshot()
        if self._locks and sql.startswith("ROLLBACK TO"):
            self._locks.clear()     # a savepoint rolled back to releases what it locked
        if not sql.startswith("SELECT"):
            self._sent += 1
        try:
            if not parameters:
                return self._connection.execute(sql)    # verbatim: several statements allowed
            return self._connection.execute(placeholders(sql), tuple(parameters))
        except psycopg.Error as exc:
            raise _refused(exc, self.setting) from exc

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> Any:
        self._reconnect_if_lost()
        if self._reading and not self._snapshot_open:
            self._open_snapshot()
        self._sent += 1
        try:
            cursor = self._connection.cursor()
            cursor.executemany(placeholders(sql), [tuple(row) for row in rows])
            return cursor
        except psycopg.Error as exc:
            raise _refused(exc, self.setting) from exc

    def lock(self, sql: str, parameters: Parameters) -> None:
        """Run ``sql``, a statement that locks rows until the transaction ends (``SELECT ...
        FOR NO KEY UPDATE``) and whose answer is not used, unless this transaction ran it with
        these parameters already and still holds what it locked: a service's steps each take
        the member's lock, and a transaction of several steps took it with the first. Forgotten
        when the transaction ends or rolls back to a savepoint (which releases the locks taken
        after it). Outside a write transaction, runs it (it locks nothing past the statement)."""
        key = (sql, tuple(parameters))
        if key in self._locks:
            return
        self.execute(sql, parameters)
        if self.in_transaction:
            self._locks.add(key)

    def one(self, sql: str, parameters: Parameters = ()) -> Any:
        cursor = self.execute(sql, parameters)
        try:
            return cursor.fetchone()
        except psycopg.Error as exc:
            raise _refused(exc, self.setting) from exc

    def all(self, sql: str, parameters: Parameters = ()) -> list[Any]:
        cursor = self.execute(sql, parameters)
        try:
            return list(cursor.fetchall())
        except psycopg.Error as exc:
            raise _refused(exc, self.setting) from exc

    def _store_version(self) -> tuple[str, int | None]:
        """The server's snapshot and this transaction's id, if it has one (see the module
        docstring); inside :meth:`snapshot`, the read's own."""
        if self._reading and self._snapshot_version is not None:
            return self._snapshot_version
        return self._version(self._connection.execute(_VERSION))

    @staticmethod
    def _version(cursor: psycopg.Cursor[Any]) -> tuple[str, int | None]:
        row = cursor.fetchone()
        assert row is not None
        return str(row[0]), None if row[1] is None else int(row[1])

    # -- transactions (vault/transactions.py): PostgreSQL's begin, commit and rollback -------
    def _begin_write(self) -> None:
        self._locks.clear()
        self.execute("BEGIN")

    def _begin_read(self) -> None:
        """A read begins by looking at the store's version only; its REPEATABLE READ
        transaction begins with its first statement (:meth:`_open_snapshot`). A read that
        finds all it needs remembered (``memoized``: the brand read's token, client, policy,
        sealed profile values, while nothing was committed) sends no other statement, and has
        no transaction to end: one round trip, where BEGIN, the version and ROLLBACK were
        two or three."""
        self._reconnect_if_lost()
        try:
            self._snapshot_version = self._version(self._connection.execute(_VERSION))
        except psycopg.Error as exc:
            raise _refused(exc, self.setting) from exc
        self._snapshot_open = False

    def _open_snapshot(self) -> None:
        """The read's first statement is about to run: begin its transaction and read the
        version again with the snapshot. Unchanged, the snapshot is the state the remembered
        values were read in; changed, a value already handed out from memory may be older than
        what this read sees now, and the read is refused (:class:`SnapshotMovedError`) so its
        caller reads again; if none was handed out, the read simply goes on from the newer
        state."""
        try:
            cursor = self._connection.execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; " + _VERSION)
            cursor.nextset()
            version = self._version(cursor)
        except psycopg.Error as exc:
            raise _refused(exc, self.setting) from exc
        self._snapshot_open = True
        moved, self._snapshot_version = version != self._snapshot_version, version
        if moved and self._memo_served:
            raise SnapshotMovedError(f"{self.where} changed while a read was under way")

    def _end_read(self) -> None:
        self._snapshot_version = None
        if not self._snapshot_open:
            return              # no statement ran: no transaction to end
        self._snapshot_open = False
        if self._connection.closed:
            return          # the server dropped it, and the read's transaction with it
        # It wrote nothing: ending it is all that is left, and what it remembered stays true.
        try:
            self._connection.execute("ROLLBACK")
        except psycopg.Error as exc:
            raise StoreError("the store could not end a read") from exc

    def _written(self) -> int:
        """Statements sent that may have written: PostgreSQL keeps no count of a connection's
        changes, and a failed statement of any kind aborts the transaction anyway."""
        return self._sent

    def _commit(self) -> None:
        self._locks.clear()
        # COMMIT of a transaction a failed statement aborted (one whose error a caller caught)
        # is answered ROLLBACK, without an error: never taken for a commit.
        if self.execute("COMMIT").statusmessage != "COMMIT":
            raise TransactionFailedError(
                "a statement of this transaction failed and its failure was caught: nothing of"
                " the transaction was written")

    def end_use(self) -> bool:
        """Roll back a transaction left open (by a caller that failed half-way), so a kept
        connection goes back clean; whether there was one."""
        self._forget_transactions()
        self._locks.clear()
        self._snapshot_version = None
        self._snapshot_open = False
        if self._connection.info.transaction_status == TransactionStatus.IDLE:
            return False
        self._rollback()
        return True

    def _rollback(self) -> None:
        self._forget_memo()
        self._locks.clear()
        if self._connection.closed:
            return          # the server dropped it, and its transaction with it
        try:
            self._connection.execute("ROLLBACK")
        except psycopg.Error as exc:
            raise StoreError("the store could not roll back") from exc

    def close(self) -> None:
        self._connection.close()


class Pool:
    """Connections to one PostgreSQL database, opened as needed up to ``max_size`` and lent
    one at a time (psycopg_pool): each borrower gets a :class:`Database` and gives it back
    clean (:meth:`Database.end_use`). ``setting`` holds ``dsn``, as for
    :meth:`Database.connect`. Close it.

    One connection is made and closed before the pool opens, so that a URL that cannot
    connect is refused at once with the reason, as :meth:`Database.connect` refuses it: the
    pool's own attempts would end in a :class:`psycopg_pool.PoolTimeout` that carries no
    cause, after ``timeout``, and psycopg_pool logs each failed attempt with libpq's message,
    which can quote pieces of a mis-encoded URL's password (see :mod:`.connection_failures`).
    A pool that still times out (the server full meanwhile) is told why by one more attempt,
    made before the pool closes: what it holds still counts then (a role's connection limit)."""

    def __init__(self, dsn: str, *, setting: str | None = None, min_size: int = 1,
                 max_size: int = 4, timeout: float = POOL_TIMEOUT) -> None:
        self.setting = setting
        _connect(dsn, setting).close()
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Any]] = (
            psycopg_pool.ConnectionPool(
                dsn, min_size=min_size, max_size=max_size, open=False, timeout=timeout,
                kwargs={"autocommit": True, "row_factory": _rows}))
        try:
            self._pool.open(wait=True, timeout=timeout)
        except psycopg_pool.PoolTimeout as exc:
            try:
                why = connection_failure_reason(dsn)
            finally:
                self._pool.close()
            raise StoreError(f"cannot connect to {place(setting)}: the pool's connections did"
                             f" not come in time ({timeout:g} s); {why}") from exc

    @contextlib.contextmanager
    def connection(self) -> Iterator[Database]:
        try:
            borrowed = self._pool.getconn()
        except psycopg_pool.PoolTimeout as exc:
            raise StoreUnreachableError(
                f"no connection to {place(self.setting)} came free in time") from exc
        database = Database(borrowed, self.setting)
        try:
            yield database
        finally:
            try:
                database.end_use()
            finally:
                self._pool.putconn(borrowed)

    def close(self) -> None:
        self._pool.close()


def _refused(exc: psycopg.Error, setting: str | None
             ) -> StoreError | ConstraintViolationError:
    """The driver's error as the store's (see the module docstring). A statement refused for
    want of privileges is most often the other store's role in the URL (the key role's in
    ``VRMVAULT_DATABASE_URL``): it says so, naming the setting."""
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        role = f"the role {setting} connects as" if setting else "the connection's role"
        return StoreError(
            f"{role} lacks privileges on the store's tables (SQLSTATE 42501): it must be the"
            " role that owns the store's database (the data role and the key role are not"
            " interchangeable)")
    if isinstance(exc, psycopg.OperationalError) and (
            exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))):
        return StoreUnreachableError(
            f"the connection to {place(setting)} was lost (the server stopped, restarted or"
            " cannot be reached); it is opened again on its next use")
    if not isinstance(exc, psycopg.IntegrityError):
        return StoreError("the store refused a statement")
    diag = exc.diag
    table = diag.table_name or "?"
    if diag.schema_name == "pg_catalog":
        return StoreError(
            f"PostgreSQL's catalog refused a change (unique index"
            f" {diag.constraint_name or '?'} of {table}): another session was making an object"
            " of the same name at the same moment")
    kind = next((name for error, name in _CONSTRAINT_KINDS.items()
                 if isinstance(exc, error)), "integrity")
    what = (f"{kind} constraint {diag.constraint_name}" if diag.constraint_name else
            f"{kind} constraint on column {diag.column_name or '?'}")
    return ConstraintViolationError(f"PostgreSQL refused the write: {what} of table {table}")
