"""Where each store of a vault home lives on PostgreSQL, and how one is opened.

    store    where                                        credentials
    data     the database of VRMVAULT_DATABASE_URL         the data role's
    ledger   schema ``ledger`` of that database            the data role's
    rates    schema ``rates`` of that database             the data role's
    keys     the database of VRMVAULT_KEYS_DATABASE_URL    the key role's, its own

The ledger shares the data database so that one host's merge of its reads and the ledger's
append are one transaction with the spool marks, and so that a restored data database carries
the ledger's erasure entries with it; the keys do not, so that a dump of the data database (or
its role's password) is not a dump of the keys.

The master key a store was made with: PostgreSQL does not refuse a wrong key as SQLCipher
refuses to open a file with one, so every store records, on first use, an HMAC of a fixed text
under its key (``store_key_check``), and a store opened with another master key is refused
before anything is read or written: a host set up with a master key of its own would otherwise
seal values and wrap member keys that no other host could read.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import StoreError, StoreNotInitialisedError
from ..home import DATABASE_URL_SETTING, KEYS_DATABASE_URL_SETTING
from ..migrations import Store
from ..schema import DATA, KEYS, LEDGER, RATES, on_postgresql
from . import migrations
from .data import require_byte_order
from .database import Database, in_schema

# A store in a schema of the data database; the others are the database's own (public) schema.
SCHEMAS = {LEDGER.name: "ledger", RATES.name: "rates"}
_KEY_CHECK_TEXT = b"vrmvault: the master key of this store"
_KEY_CHECK_TABLE = (
    "CREATE TABLE store_key_check ("
    " only_row SMALLINT PRIMARY KEY DEFAULT 1 CHECK (only_row = 1), mac BYTEA NOT NULL)")


@dataclass(frozen=True)
class PostgresqlPlaces:
    """The two connection strings of a vault on PostgreSQL (``postgresql://`` URLs or libpq
    strings; ``sslmode`` and certificates pass through). Never shown: they may hold a
    password."""

    data_url: str = field(repr=False)
    keys_url: str = field(repr=False)

    def dsn(self, store: Store) -> str:
        """The connection string of ``store``'s place."""
        if store.name == KEYS.name:
            return self.keys_url
        schema = SCHEMAS.get(store.name)
        return in_schema(self.data_url, schema) if schema else self.data_url

    @staticmethod
    def setting(store: Store) -> str:
        """The setting that holds ``store``'s connection string: what messages name."""
        return KEYS_DATABASE_URL_SETTING if store.name == KEYS.name else DATABASE_URL_SETTING


def key_check(store_key: bytes) -> bytes:
    """What ``store_key_check`` holds for a store opened with ``store_key``."""
    return hmac.new(store_key, _KEY_CHECK_TEXT, "sha256").digest()


def open_store(places: PostgresqlPlaces, store: Store, store_key: bytes, *,
               migrate: bool, marks: Mapping[str, bytes]) -> tuple[Database, list[str]]:
    """A connection to ``store`` at its place, brought to its last migration (``migrate``) or
    refused unless it is there already, and refused when it was made with another key; and
    the migrations applied. ``marks``: the key check of every store of the vault by name
    (:func:`key_check`), so that a place holding another of its stores (the two URLs swapped)
    is refused as such before anything is read, migrated or made there."""
    schema = SCHEMAS.get(store.name)
    if schema:
        # The ledger's and the rates' schemas belong in the data database, and nowhere else.
        data = Database.connect(places.data_url, setting=DATABASE_URL_SETTING)
        try:
            _require_place(data, DATA, marks, required=True)
        finally:
            data.close()
    if migrate and schema:
        migrations.make_schema(places.data_url, schema, setting=DATABASE_URL_SETTING)
    database = Database.connect(places.dsn(store), setting=places.setting(store))
    try:
        _require_place(database, store, marks, required=False)
        history = on_postgresql(store)
        if store.name == DATA.name:
            require_byte_order(database)
        done = migrations.apply(database, history) if migrate else []
        if not migrate:
            migrations.require_current(database, history)
        _require_key(database, store, key_check(store_key), record=migrate)
    except BaseException:
        database.close()
        raise
    return database, done


def made(places: PostgresqlPlaces) -> bool:
    """Whether the data and key stores have been made (``vrmvault init``) at ``places``."""
    for store in (DATA, KEYS):
        database = Database.connect(places.dsn(store), setting=places.setting(store))
        try:
            if not migrations.records_migrations(database):
                return False
        finally:
            database.close()
    return True


_WHAT = {DATA.name: "data database", KEYS.name: "key database"}


def _require_place(database: Database, store: Store, marks: Mapping[str, bytes], *,
                   required: bool) -> None:
    """Refuse ``database`` (its store's place) when it holds another store of this vault, or
    a store made with another master key; or, ``required``, no store yet."""
    held = None
    if database.one("SELECT to_regclass('store_key_check') IS NOT NULL")[0]:
        row = database.one("SELECT mac FROM store_key_check")
        held = bytes(row[0]) if row is not None else None
    if held is None:
        if required:
            raise StoreNotInitialisedError(f"no store in {database.where}; run 'vrmvault"
                                           " init' first")
        return
    if hmac.compare_digest(held, marks[store.name]):
        return
    for name, mark in marks.items():
        if name in _WHAT and hmac.compare_digest(held, mark):
            raise StoreError(
                f"{PostgresqlPlaces.setting(store)} names the {_WHAT[name]} of this vault,"
                f" where its {_WHAT.get(store.name, 'data database')} belongs: set"
                f" {DATABASE_URL_SETTING} to the data database and {KEYS_DATABASE_URL_SETTING}"
                " to the key database")
    raise StoreError(f"the {store.name} store in {database.where} was made with another"
                     " master key (every host of one vault needs the same"
                     " VRMVAULT_MASTER_KEY)")


def _require_key(database: Database, store: Store, mac: bytes, *, record: bool) -> None:
    """Record ``mac`` if the store has none yet (``record``: only ``init`` and the migrating
    opens do), then refuse the store unless it holds ``mac``. The table is made under the
    bootstrap lock (:func:`vault.postgresql.migrations.bootstrapping`): hosts starting
    together each record, and ``CREATE TABLE IF NOT EXISTS`` at once breaks the catalog."""
    if record:
        with migrations.bootstrapping(database):
            if database.one("SELECT 1 FROM pg_tables WHERE schemaname = current_schema()"
                            " AND tablename = 'store_key_check'") is None:
                database.execute(_KEY_CHECK_TABLE)
            database.execute("INSERT INTO store_key_check (mac) VALUES (?)"
                             " ON CONFLICT (only_row) DO NOTHING", (mac,))
    held = (database.one("SELECT mac FROM store_key_check")
            if database.one("SELECT to_regclass('store_key_check') IS NOT NULL")[0] else None)
    if held is None:
        raise StoreError(f"the {store.name} store in {database.where} records no master key;"
                         " run 'vrmvault init'")
    if not hmac.compare_digest(bytes(held[0]), mac):
        raise StoreError(f"the {store.name} store in {database.where} was made with another"
                         " master key (every host of one vault needs the same"
                         " VRMVAULT_MASTER_KEY)")


# -- a restore under the ledger --------------------------------------------------------------
# The README's restore puts back the data database's public schema (``pg_restore --clean``) or
# the key database whole (into a new database), never the ledger's schema. Either makes every
# table anew, and a table made anew has a new OID. The ledger's schema records the OID of each
# database's ``store_key_check`` when the vault is made and once ``reapply-erasures`` has made
# what the ledger recorded since hold again; while either differs, a restored database is in
# use without that (a grant withdrawn since the dump would be in force again), so no host
# serves: ``serve`` refuses to start and the keeper of a serving host stops it
# (web/keeper.py). A copy made with ``CREATE DATABASE ... TEMPLATE`` keeps its OIDs.
SERVED_TABLE = "ledger.served_stores"
_SERVED_DDL = (
    f"CREATE TABLE {SERVED_TABLE} ("
    " only_row SMALLINT PRIMARY KEY DEFAULT 1 CHECK (only_row = 1),"
    " data_tables OID NOT NULL, keys_tables OID NOT NULL)")
_TABLES_OID = "SELECT to_regclass('public.store_key_check')::oid"
_HAS_SERVED = f"SELECT to_regclass('{SERVED_TABLE}') IS NOT NULL"


def _connections(places: PostgresqlPlaces) -> tuple[Database, Database]:
    data = Database.connect(places.data_url, setting=DATABASE_URL_SETTING)
    try:
        keys = Database.connect(places.keys_url, setting=KEYS_DATABASE_URL_SETTING)
    except BaseException:
        data.close()
        raise
    return data, keys


def record_served(places: PostgresqlPlaces, *, again: bool) -> None:
    """Record which tables the two databases hold now: the first time only (``init`` and
    ``serve``: a vault made, or made before this record existed), or ``again`` once
    ``reapply-erasures`` has made a restored database hold what the ledger recorded since."""
    data, keys = _connections(places)
    try:
        current = (data.one(_TABLES_OID)[0], keys.one(_TABLES_OID)[0])
        with migrations.bootstrapping(data):
            if not data.one(_HAS_SERVED)[0]:
                data.execute(_SERVED_DDL)
            data.execute(
                f"INSERT INTO {SERVED_TABLE} (data_tables, keys_tables) VALUES (?, ?)"
                " ON CONFLICT (only_row) DO " + (
                    "UPDATE SET data_tables = excluded.data_tables,"
                    " keys_tables = excluded.keys_tables" if again else "NOTHING"),
                current)
    finally:
        data.close()
        keys.close()


def restored(places: PostgresqlPlaces) -> tuple[str, ...]:
    """Which of the two databases (``"data"``, ``"keys"``) were put back from a dump since the
    ledger last recorded them, and ``reapply-erasures`` has not run since."""
    data, keys = _connections(places)
    try:
        if not data.one(_HAS_SERVED)[0]:
            return ()
        served = data.one(f"SELECT data_tables, keys_tables FROM {SERVED_TABLE}")
        if served is None:
            return ()
        now = (data.one(_TABLES_OID)[0], keys.one(_TABLES_OID)[0])
        return tuple(name for name, was, is_now in zip(("data", "keys"), served, now,
                                                       strict=True) if was != is_now)
    finally:
        data.close()
        keys.close()


class RestoreWatch:
    """What a serving host's keeper asks on every pass: whether the data database's public
    schema was put back under it (one query on a connection of its own). The key database is
    restored into a new database that the URL then names, which takes a new start: ``serve``
    looks at both then."""

    def __init__(self, places: PostgresqlPlaces) -> None:
        self._data = Database.connect(places.data_url, setting=DATABASE_URL_SETTING)
        self._recorded = False

    def restored(self) -> bool:
        if not self._recorded:
            self._recorded = bool(self._data.one(_HAS_SERVED)[0])
            if not self._recorded:
                return False
        # Mid-restore the table may be missing: NULL, not yet a difference.
        row = self._data.one(f"SELECT data_tables <> ({_TABLES_OID}) FROM {SERVED_TABLE}")
        return bool(row and row[0])

    def close(self) -> None:
        self._data.close()


# -- roles with more than their store ------------------------------------------------------------
_ROLE = ("SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles"
         " WHERE rolname = current_user")
_MAY_CONNECT = ("SELECT has_database_privilege(current_user, oid, 'CONNECT') FROM pg_database"
                " WHERE datname = ?")


def role_warnings(places: PostgresqlPlaces) -> list[str]:
    """What the two URLs' roles may do beyond their own store, as init and serve warn of it
    (the README's setting makes neither true): each a superuser or a role that bypasses row
    security reads the other's database; one role for both makes a leak of the data role's
    password a leak of the keys; a data role that may connect to the key database is one
    privilege away from them. Warned, not refused: a test server's one superuser serves both."""
    data, keys = _connections(places)
    try:
        data_role, data_super = data.one(_ROLE)
        keys_role, keys_super = keys.one(_ROLE)
        keys_database = keys.one("SELECT current_database()")[0]
        # No row when the key database is on another server: nothing to connect to from here.
        reach = data.one(_MAY_CONNECT, (keys_database,))
    finally:
        data.close()
        keys.close()
    warnings = [f"the role of {setting} is a superuser or bypasses row security, so it may"
                f" read the {other} too: give it a role of its own that owns only its database"
                for setting, other, is_super in (
                    (DATABASE_URL_SETTING, "key database", data_super),
                    (KEYS_DATABASE_URL_SETTING, "data database", keys_super)) if is_super]
    if data_role == keys_role:
        warnings.append(f"{DATABASE_URL_SETTING} and {KEYS_DATABASE_URL_SETTING} connect as"
                        " the same role: whoever has the data role's password has the keys;"
                        " give the key database a role of its own")
    elif reach is not None and reach[0] and not data_super:
        warnings.append(f"the role of {DATABASE_URL_SETTING} may connect to the key database"
                        " (PostgreSQL grants CONNECT to PUBLIC): run REVOKE ALL ON DATABASE"
                        " on it FROM PUBLIC, as its owner or an administrator")
    return warnings


# -- hosts serving ---------------------------------------------------------------------------
#: The application name every connection of ``vrmvault serve`` (its workers, keeper and webhook
#: delivery) gives PostgreSQL (``PGAPPNAME``, set by serve for everything it starts), so that a
#: command that must run with every host stopped can see a host still serving: the serve lock
#: of a home is one machine's.
SERVING_APPLICATION = "vrmvault serve"


def serving_connections(places: PostgresqlPlaces) -> int:
    """How many connections of serving hosts are open on the data database (a serving host
    always holds its keeper's); its role sees its own sessions in ``pg_stat_activity``."""
    data = Database.connect(places.data_url, setting=DATABASE_URL_SETTING)
    try:
        return int(data.one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = ? AND pid <> pg_backend_pid()",
            (SERVING_APPLICATION,))[0])
    finally:
        data.close()
