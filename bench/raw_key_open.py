"""Opening a store with its raw key, against opening one with a passphrase.

The product opens every store with a raw 256-bit key (``PRAGMA key = "x'...'"``), which skips
SQLCipher's key derivation: each command of the command line, and each web worker once (its
connections are then kept and lent to one request after another, ``web/vaults.py``). The
comparison is a store of the same schema keyed with a passphrase (``PRAGMA key =
'passphrase'``), where SQLCipher runs its default KDF (PBKDF2-HMAC-SHA512, 256,000 iterations in
SQLCipher 4) on every open. Two figures, both sides timed alike, closing not timed:

- ``raw_key_open``: the open up to and including the key check, the first read that needs the
  key (the header page, which SQLCipher authenticates like every page): what the form of the
  key costs. Done as ``vault/sqlcipher/database.py`` does it (raw-key literal, page HMAC,
  header read).
- ``raw_key_open_ready``: ``Database.open`` whole, the store ready for statements: the key
  check, then the per-connection settings, which make SQLite parse the schema (the data store's
  183 objects, about 1 ms here whatever the key; SQLite parses it on every new connection).
  Against the same for the passphrase store.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The one import of sqlcipher3 outside vault/sqlcipher/database.py (STYLE.md 4): the product's
# connection can only open a store with a raw key, by design, and the baseline here is the
# passphrase open it avoids.
import sqlcipher3

from vault import migrations, schema
from vault.sqlcipher.database import PAGE_HMAC, Database

from .report import Figure, Result, Target, fresh_directory, interleaved, log, median, timed

NAME = "raw_key_open"
FIGURES = (
    Figure(NAME, "ms", Target("<", 1, " ms", label="key checked")),
    Figure(f"{NAME}_ready", "ms", Target("<", 0.05, "x", on_ratio=True, label="ready to use")),
)
SETTINGS = ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON",
            "secure_delete = ON", "temp_store = MEMORY", "cache_size = -8000")
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


def key_raw(path: Path, key: bytes) -> float:
    def opened() -> Any:
        connection = sqlcipher3.connect(str(path), isolation_level=None)
        connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        connection.execute(f"PRAGMA cipher_hmac_algorithm = {PAGE_HMAC}")
        connection.execute("PRAGMA schema_version").fetchone()
        return connection

    return _closed_after(opened)


def key_passphrase(path: Path) -> float:
    def opened() -> Any:
        connection = sqlcipher3.connect(str(path), isolation_level=None)
        connection.execute(f"PRAGMA key = '{PASSPHRASE}'")
        connection.execute("PRAGMA schema_version").fetchone()
        return connection

    return _closed_after(opened)


def open_raw(path: Path, key: bytes) -> float:
    return _closed_after(lambda: Database.open(path, key))


def open_passphrase(path: Path) -> float:
    def opened() -> Any:
        connection = sqlcipher3.connect(str(path), isolation_level=None)
        connection.execute(f"PRAGMA key = '{PASSPHRASE}'")
        connection.execute("PRAGMA schema_version").fetchone()
        for setting in SETTINGS:
            connection.execute(f"PRAGMA {setting}")
        return connection

    return _closed_after(opened)


def _closed_after(opened: Callable[[], Any]) -> float:
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
            "raw key": lambda: key_raw(raw_path, key),
            "passphrase key": lambda: key_passphrase(passphrase_path),
            "raw ready": lambda: open_raw(raw_path, key),
            "passphrase ready": lambda: open_passphrase(passphrase_path),
        }, pairs)
    figures = {name: median(values) for name, values in runs.items()}
    log(f"  key checked: raw key {figures['raw key']:.3f} ms, passphrase"
        f" {figures['passphrase key']:.1f} ms; ready to use: raw key {figures['raw ready']:.3f}"
        f" ms, passphrase {figures['passphrase ready']:.1f} ms (medians)")
    return [FIGURES[0].result(figures["raw key"], figures["passphrase key"]),
            FIGURES[1].result(figures["raw ready"], figures["passphrase ready"])]
