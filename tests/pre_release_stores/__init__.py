"""Stores as vrmvault made them before their migration histories were squashed (commit b89e8db).

Each ``<store>.sql`` is a dump of a store that commit's ``vrmvault init`` made in a fresh home:
its schema objects as ``sqlite_master`` held them (the text every ``ALTER TABLE`` and
``RENAME`` of the old histories left), then the rows of its bookkeeping tables. Frozen: they
stand for the stores that exist, so they are never edited; the upgrade step of
``vault/migrations.py`` must take over exactly what they make.
"""

from __future__ import annotations

from pathlib import Path

from vault.migrations import statements
from vault.sqlcipher.database import Database

FOLDER = Path(__file__).parent


def create(path: Path, key: bytes, store: str) -> Database:
    """A new store at ``path`` under ``key``, made as b89e8db made ``store`` (data, keys,
    ledger or rates), empty of data. Close it."""
    database = Database.open(path, key, create=True)
    with database.transaction():
        for statement in statements((FOLDER / f"{store}.sql").read_text(encoding="utf-8")):
            database.execute(statement)
    return database
