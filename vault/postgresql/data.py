"""The data store on PostgreSQL: its history (``vault/schema/postgresql/data/``, the same
numbers and names as SQLite's) and a connection to it, migrated as needed.

Text is ordered byte by byte on both engines, as SQLite orders it (brands by name, members by
id, the orders the repository contracts state): the data database must sort text in the C
collation, and one that sorts it by a language's rules is refused before anything is written
to it. PostgreSQL cannot change a database's collation; the operator makes it so:
``CREATE DATABASE vrmvault TEMPLATE template0 LOCALE 'C.UTF-8'``.
"""

from __future__ import annotations

from ..errors import StoreError
from ..schema import DATA, on_postgresql
from . import migrations
from .database import Database

DATA_ON_POSTGRESQL = on_postgresql(DATA)
# Pairs that byte order and every language's order put the other way round: an upper-case
# letter before a lower-case one, punctuation after letters, a space before letters, an
# accented letter after every unaccented one.
_BYTE_ORDER = "SELECT 'B' < 'a' AND '_' > 'Z' AND 'a b' < 'aa' AND 'é' > 'z'"


def open_data_store(dsn: str) -> Database:
    """A connection to the data database ``dsn`` names, migrated as needed. Close it."""
    database = Database.connect(dsn)
    try:
        require_byte_order(database)
        migrations.apply(database, DATA_ON_POSTGRESQL)
    except BaseException:
        database.close()
        raise
    return database


def require_byte_order(database: Database) -> None:
    """Refuse a database that does not sort text byte by byte (see the module docstring)."""
    if not database.one(_BYTE_ORDER)[0]:
        raise StoreError(
            f"{database.where} sorts text by a language's rules; vrmvault needs the C"
            " collation (byte order, as on SQLCipher): create the database with"
            " CREATE DATABASE ... TEMPLATE template0 LOCALE 'C.UTF-8'")
