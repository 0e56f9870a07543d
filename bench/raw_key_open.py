"""Opening a store with its raw key, against opening one with a passphrase.

The product opens every store with a raw 256-bit key (``PRAGMA key = "x'...'"``), which skips
SQLCipher's key derivation: each command of the command line, and each web worker once (its
connections are then kept and lent to one request after another, ``web/vaults.py``). The
comparison is a store of the same schema keyed with a passphrase (``PRAGMA key =
'passphrase'``), where SQLCipher runs its default KDF (PBKDF2-HMAC-SHA512, 256,000 iterations in
SQLCipher 4) on every open. Timed: the open up to and including the first read (which is when
the key is checked); closing is not. The raw open is ``Database.open``, with the project's
pragmas on top, so it is if anything the slower side of the comparison.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# The one import of sqlcipher3 outside vault/sqlcipher/database.py (STYLE.md 4): the product's
# connection can only open a store with a raw key, by design, and the baseline here is the
# passphrase open it avoids.
import sqlcipher3

from vault import migrations, schema
from vault.sqlcipher.database import Database

from .report import Figure, Result, Target, fresh_directory, interleaved, log, median, timed

NAME = "raw_key_open"
FIGURES = (Figure(NAME, "ms", Target("<", 1, " ms", label="raw open")),)
PASSPHRASE = "correct horse battery staple"
FULL_PAIRS = 25
QUICK_PAIRS = 7


def create_stores(root: Path) -> tuple[Path, bytes, Path]:
    """Two stores with the data store's schema: one raw-keyed, one passphrase-keyed."""
    raw_path, key = root / "raw.db", os.urandom(32)
    database = Database.open(raw_path, key, create=True)
    migrations.apply(database, schema.DATA)
    database.close()
    passphrase_path = root / "passphrase.db"
    connection = sqlcipher3.connect(str(passphrase_path), isolation_level=None)
    connection.execute(f"PRAGMA key = '{PASSPHRASE}'")
    connection.execute("PRAGMA journal_mode = WAL")
    database = Database(connection, passphrase_path, encrypted=True)
    migrations.apply(database, schema.DATA)
    database.close()
    return raw_path, key, passphrase_path


def open_raw(path: Path, key: bytes) -> float:
    seconds, database = timed(lambda: Database.open(path, key), collect=False)
    database.close()
    return seconds * 1000


def open_passphrase(path: Path) -> float:
    def opened() -> Any:
        connection = sqlcipher3.connect(str(path), isolation_level=None)
        connection.execute(f"PRAGMA key = '{PASSPHRASE}'")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection

    seconds, connection = timed(opened, collect=False)
    connection.close()
    return seconds * 1000


def run(*, quick: bool) -> list[Result]:
    pairs = QUICK_PAIRS if quick else FULL_PAIRS
    log(f"{NAME}: {pairs} interleaved pairs")
    with fresh_directory() as root:
        raw_path, key, passphrase_path = create_stores(root)
        open_raw(raw_path, key)                          # warm-up: file cache, first import
        open_passphrase(passphrase_path)
        runs = interleaved({
            "raw": lambda: open_raw(raw_path, key),
            "passphrase": lambda: open_passphrase(passphrase_path),
        }, pairs)
    log(f"  raw key {median(runs['raw']):.3f} ms, passphrase {median(runs['passphrase']):.1f} ms"
        f" (medians)")
    return [FIGURES[0].result(median(runs["raw"]), median(runs["passphrase"]))]
