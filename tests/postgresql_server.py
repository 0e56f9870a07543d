"""A PostgreSQL server for a test run: a throwaway cluster of Debian's server, made for the run
and removed after it, or an existing server named by ``VRMVAULT_TEST_DATABASE_URL``.

The throwaway cluster (``make test`` installs Debian's ``postgresql`` where it is missing):
- ``initdb`` into a new temporary folder, the server listening on a unix socket in that folder
  only (no TCP port, so nothing to collide with and nothing reachable from outside), local
  connections trusted; ``pg_ctl start`` waits until it accepts them, ``pg_ctl stop`` and the
  folder's removal end it.
- The server refuses to run as root: run as root, its programs run as Debian's ``postgres``
  user (``nobody`` where that user is missing), the folder theirs with mode 0700 (root still
  reaches the socket). Run as anyone else, they run as that user.
- Durability is off (``fsync``, ``full_page_writes``, ``synchronous_commit``): nothing in it
  outlives the run, and every test's database is made afresh.

Each test that needs a database gets one of its own: ``CREATE DATABASE ... TEMPLATE`` of a
database migrated once per run (:meth:`Server.template`), dropped when the test ends.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from psycopg.conninfo import make_conninfo

from vault.postgresql.database import Database

URL_ENV = "VRMVAULT_TEST_DATABASE_URL"
INSTALLED = Path("/usr/lib/postgresql")
SERVER_USERS = ("postgres", "nobody")
SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "50",
    "shared_buffers": "32MB",
}


def binaries() -> Path:
    """The newest installed server's programs (``/usr/lib/postgresql/<version>/bin``)."""
    found = sorted((path for path in INSTALLED.glob("*/bin") if (path / "initdb").exists()),
                   key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    if not found:
        raise RuntimeError(f"no PostgreSQL server under {INSTALLED}: 'make test' installs"
                           f" Debian's postgresql, or set {URL_ENV} to a server's URL")
    return found[-1]


class Server:
    """Where the run's databases are made: ``admin_dsn`` connects with the right to create
    them; ``prefix`` keeps this run's names apart from anything else on the server."""

    def __init__(self, admin_dsn: str, prefix: str) -> None:
        self.admin_dsn = admin_dsn
        self.prefix = prefix
        self._numbers = itertools.count(1)
        self._templates: dict[str, str] = {}
        self._made: list[str] = []

    def dsn(self, name: str) -> str:
        return make_conninfo(self.admin_dsn, dbname=name)

    def _administer(self, statement: str) -> None:
        admin = Database.connect(self.admin_dsn)
        try:
            admin.execute(statement)
        finally:
            admin.close()

    def _create(self, template: str | None) -> str:
        name = f"{self.prefix}_{next(self._numbers)}"
        # Names are ours (prefix and number): nothing to quote.
        self._administer(f"CREATE DATABASE {name} TEMPLATE {template or 'template0'}")
        self._made.append(name)
        return name

    def template(self, store: str, migrate: Callable[[str], None]) -> str:
        """The database ``migrate`` brought up to date once in this run, for ``store``."""
        if store not in self._templates:
            name = self._create(None)
            migrate(self.dsn(name))     # and closed: a template has no connection when copied
            self._templates[store] = name
        return self._templates[store]

    def home_templates(self, master_hex: str) -> tuple[str, str]:
        """A data database and a key database as ``vrmvault init`` makes them with the master
        key ``master_hex``, made once in this run: their names, to copy."""
        if "home-data" not in self._templates:
            from vault.home import VaultHome
            from vault.keys import MASTER_KEY_ENV

            keys = self.template("home-keys", lambda dsn: None)
            with tempfile.TemporaryDirectory() as folder:
                def initialise(dsn: str) -> None:
                    VaultHome(Path(folder), dsn, self.dsn(keys)).initialise(
                        {MASTER_KEY_ENV: master_hex})

                self.template("home-data", initialise)
        return self._templates["home-data"], self._templates["home-keys"]

    @contextlib.contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        """A new database (empty, or a copy of ``template``) for one test: its DSN."""
        name = self._create(template)
        try:
            yield self.dsn(name)
        finally:
            self._drop(name)

    def _drop(self, name: str) -> None:
        self._administer(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._made.remove(name)

    def drop_all(self) -> None:
        """What this run made and still left (its templates): for a server that stays."""
        for name in list(self._made):
            self._drop(name)


# Tables a reset leaves as they are: the migrations' bookkeeping and the master key's check.
KEPT_TABLES = frozenset({"store_migrations", "store_key_check"})
_TABLES = ("SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c"
           " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"
           " AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
           " AND n.nspname NOT LIKE 'pg_toast%' AND NOT (c.relname = ANY (?)) ORDER BY 1")
_SEQUENCES = ("SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename)"
              " FROM pg_sequences ORDER BY 1")


class ResettableDatabase:
    """A database a worker keeps for the run and puts back, before each test, as it was when
    made: every table that holds rows is emptied, the rows it was made with are put back, and
    every sequence starts again (the run's own server makes this worker a superuser, so the
    foreign keys' triggers can be off while it empties them). Much cheaper than a new database per
    test (``CREATE DATABASE`` copies every file: 0.2-0.3 s each here, against milliseconds)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._admin = Database.connect(dsn)
        tables = [row[0] for row in self._admin.all(_TABLES, (list(KEPT_TABLES),))]
        self._sequences = [row[0] for row in self._admin.all(_SEQUENCES)]
        # One statement naming the tables that hold rows now.
        self._holding = "SELECT array_remove(ARRAY[" + ", ".join(
            f"CASE WHEN EXISTS (SELECT 1 FROM {table}) THEN '{table}' END"
            for table in tables) + "], NULL)" if tables else "SELECT ARRAY[]::text[]"
        self._made_with = {table: self._admin.all(f"SELECT * FROM {table}")
                           for table in self._held()}

    def _held(self) -> list[str]:
        return list(self._admin.one(self._holding)[0])

    def reset(self) -> None:
        # Connections an earlier test left behind would hold locks the TRUNCATE waits for.
        self._admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        held = sorted(set(self._held()) | set(self._made_with))
        # A test leaves a few rows in a few tables: DELETE is far cheaper than TRUNCATE (a new
        # file per table), with the foreign keys' triggers off (the whole graph is emptied).
        statements = (["SET session_replication_role = replica"]
                      + [f"DELETE FROM {table}" for table in held]
                      + [f"ALTER SEQUENCE {sequence} RESTART" for sequence in self._sequences])
        with self._admin.transaction():
            self._admin.execute("; ".join(statements))
            for table, rows in self._made_with.items():
                self._admin.executemany(
                    f"INSERT INTO {table} OVERRIDING SYSTEM VALUE VALUES"
                    f" ({', '.join('?' * len(rows[0]))})", rows)
            self._admin.execute("SET session_replication_role = DEFAULT")

    def close(self) -> None:
        self._admin.close()


def _server_user() -> str | None:
    """Whom the server's programs run as: ``None`` for this process's own user."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError(f"none of the users {', '.join(SERVER_USERS)} exists to run PostgreSQL")


class Cluster:
    """A throwaway cluster in a new temporary folder (see the module docstring)."""

    def __init__(self) -> None:
        self.bin = binaries()
        self.user = _server_user()
        self.folder = Path(tempfile.mkdtemp(prefix="vrmvault-postgresql-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _run(self, program: str, *arguments: str) -> None:
        account = pwd.getpwnam(self.user) if self.user is not None else None
        finished = subprocess.run(
            [str(self.bin / program), *arguments], capture_output=True, text=True,
            check=False, cwd=self.folder,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None)
        if finished.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({finished.returncode}):"
                               f" {finished.stderr.strip()}\n{log}")

    def start(self, *, durable: bool = False, port: int | None = None,
              configure: Callable[[Cluster], None] | None = None) -> Server:
        """Make and start the cluster; ``durable`` keeps PostgreSQL's own durability settings
        (for a benchmark: bench/postgresql.py), with more shared memory than a test needs.
        ``port``: listen on it at 127.0.0.1 too (its socket is named after it). ``configure``
        writes what a test needs beyond that (:meth:`write`: access rules, TLS) before the
        server starts; the admin connection stays the socket's, trusted."""
        self._run("initdb", "--pgdata", str(self.data), "--username", "vrmvault",
                  "--auth", "trust", "--encoding", "UTF8", "--locale", "C.UTF-8",
                  "--no-sync", "--no-instructions")
        settings = dict(SETTINGS, unix_socket_directories=f"'{self.folder}'")
        if durable:
            for setting in ("fsync", "full_page_writes", "synchronous_commit"):
                del settings[setting]
            settings.update(shared_buffers="256MB", max_connections="100")
        if port is not None:
            settings.update(listen_addresses="'127.0.0.1'", port=str(port))
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        if configure is not None:
            configure(self)
        self.control("start", "--log", str(self.log), "--wait", "--silent")
        at = f" port={port}" if port is not None else ""
        return Server(f"host={self.folder}{at} user=vrmvault dbname=postgres", "test")

    def write(self, name: str, content: bytes, *, append: bool = False) -> None:
        """Write (or add to) the file ``name`` of the data folder, the server's own, 0600."""
        path = self.data / name
        path.write_bytes((path.read_bytes() if append else b"") + content)
        path.chmod(0o600)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def control(self, *arguments: str) -> None:
        """``pg_ctl`` on this cluster: start, stop (``--mode smart``, ...), status."""
        self._run("pg_ctl", *arguments, "--pgdata", str(self.data))

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.control("stop", "--mode", "fast", "--wait", "--silent")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """The run's server: the one ``VRMVAULT_TEST_DATABASE_URL`` names (its role may create
    databases; what the run makes there is dropped at its end), else a throwaway cluster."""
    url = os.environ.get(URL_ENV)
    if url:
        # Another run may share the server: this one's databases have names of their own.
        made = Server(url, f"vrmvault_test_{secrets.token_hex(4)}")
        try:
            yield made
        finally:
            made.drop_all()
        return
    cluster = Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()
