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
from dataclasses import dataclass, field

from ..errors import StoreError
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
               migrate: bool) -> tuple[Database, list[str]]:
    """A connection to ``store`` at its place, brought to its last migration (``migrate``) or
    refused unless it is there already, and refused when it was made with another key; and
    the migrations applied."""
    schema = SCHEMAS.get(store.name)
    if migrate and schema:
        migrations.make_schema(places.data_url, schema, setting=DATABASE_URL_SETTING)
    database = Database.connect(places.dsn(store), setting=places.setting(store))
    try:
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
