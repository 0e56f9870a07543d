"""vault.sqlcipher.database: SQLCipher files, keys, pragmas, copies; and what really lands on
disk. Its statements, rows, errors and transactions, which every engine's connection offers
alike, are in tests/unit/storage/test_connections.py."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlcipher3

from consent.context import open_ledger
from tests.conftest import GOOD_PASSWORD
from vault.catalog import ATTRIBUTES
from vault.errors import (
    ConstraintViolationError,
    StoreNotInitialisedError,
    WrongKeyError,
)
from vault.home import VaultHome, unsafe_open_plaintext_vault
from vault.sqlcipher.database import Database

from .sqlcipher_pages import (
    HMAC_BYTES,
    SQLITE_HEADER,
    decrypted_contains,
    decrypts_as_a_store,
    raw_bytes,
    store_files,
)

KEY = bytes(range(32))


@pytest.fixture
def database(tmp_path: Path):
    db = Database.open(tmp_path / "t.db", KEY, create=True)
    db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT UNIQUE)")
    yield db
    db.close()


def count(db: Database) -> int:
    return db.one("SELECT count(*) FROM t")[0]


# -- files and keys ---------------------------------------------------------------------------
def test_store_files_are_not_plain_sqlite(vault, vault_home, member_id):
    for path in (vault_home.data_path, vault_home.keys_path):
        assert path.read_bytes()[:16] != SQLITE_HEADER
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_the_header_check_would_see_a_plaintext_store(tmp_path):
    # Control: the same check does recognise an unencrypted store.
    plain = Database.unsafe_open_plaintext(tmp_path / "plain.db", create=True)
    plain.execute("CREATE TABLE t (x)")
    plain.close()
    assert (tmp_path / "plain.db").read_bytes()[:16] == SQLITE_HEADER


@pytest.mark.parametrize("which", ["data_path", "keys_path"])
def test_stores_cannot_be_opened_without_the_key(vault, vault_home, which):
    path = getattr(vault_home, which)
    with pytest.raises(WrongKeyError):
        Database.unsafe_open_plaintext(path)
    plain = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError):
            plain.execute("SELECT * FROM sqlite_master").fetchall()
    finally:
        plain.close()


@pytest.mark.parametrize("which", ["data_path", "keys_path"])
def test_stores_cannot_be_opened_with_a_wrong_key(vault, vault_home, which):
    with pytest.raises(WrongKeyError):
        Database.open(getattr(vault_home, which), os.urandom(32))


def test_each_store_has_its_own_key(vault, vault_home):
    with pytest.raises(WrongKeyError):
        Database.open(vault_home.data_path, vault.master.derive("key-store"))
    with pytest.raises(WrongKeyError):
        Database.open(vault_home.keys_path, vault.master.derive("data-store"))
    opened = Database.open(vault_home.data_path, vault.master.derive("data-store"))
    assert opened.one("SELECT count(*) FROM sqlite_master WHERE name = 'members'")[0] == 1
    opened.close()


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_a_key_of_the_wrong_length_is_refused(vault_home, length):
    with pytest.raises(WrongKeyError):
        Database.open(vault_home.data_path, b"k" * length)


def test_a_missing_store_is_not_initialised_and_not_created(tmp_path):
    path = tmp_path / "nothing.db"
    with pytest.raises(StoreNotInitialisedError):
        Database.open(path, KEY)
    assert not path.exists()
    with pytest.raises(StoreNotInitialisedError):
        VaultHome(tmp_path / "empty").open()


@pytest.mark.parametrize("pragma, expected", [
    ("journal_mode", "wal"), ("foreign_keys", 1), ("secure_delete", 1),
])
def test_pragmas_are_applied_to_every_store(vault, database, pragma, expected):
    for db in (vault.data, vault.keys_database, database):
        assert db.one(f"PRAGMA {pragma}")[0] == expected


def test_the_wal_is_checkpointed_at_1000_pages_but_the_ledgers_at_10000(vault, database,
                                                                        vault_home):
    for db in (vault.data, vault.keys_database, database):
        assert db.one("PRAGMA wal_autocheckpoint")[0] == 1000
    with open_ledger(vault_home, vault_home.master_key({})) as ledger:
        assert ledger.store.database.one("PRAGMA wal_autocheckpoint")[0] == 10_000


def test_foreign_keys_are_enforced(vault):
    with pytest.raises(ConstraintViolationError):
        vault.data.execute(
            "INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
            " VALUES ('nobody', 'city', x'00', 0)"
        )


# -- copies ----------------------------------------------------------------------------------
def test_vacuum_into_writes_an_encrypted_copy(database, tmp_path):
    database.execute("INSERT INTO t (y) VALUES ('copied')")
    database.vacuum_into(tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_bytes()[:16] != SQLITE_HEADER
    with pytest.raises(WrongKeyError):
        Database.open(tmp_path / "copy.db", os.urandom(32))
    copy = Database.open(tmp_path / "copy.db", KEY)
    assert copy.one("SELECT y FROM t")["y"] == "copied"
    copy.close()


# -- what lands on disk ----------------------------------------------------------------------
EMAIL = "zebra.marker.7781@example.org"
PROFILE = {
    "given_name": "ZEBRA-MARKER-7781-given",
    "city": "QUOKKA-MARKER-4410",
    "values_statement": "OKAPI-MARKER-9923 values",
    "religion": "NARWHAL-MARKER-5502",
}
COMMENT = "ZEBRA-MARKER-7781 the saddle squeaked"
MARKERS = [EMAIL, "ZEBRA-MARKER-7781", "QUOKKA-MARKER-4410", "OKAPI-MARKER-9923",
           "NARWHAL-MARKER-5502", "zebra.marker"]


def fill(vault, brand) -> str:
    member = vault.members.register(EMAIL, GOOD_PASSWORD)
    vault.profile.update(member, PROFILE)
    vault.feedback.add(member, {"brand_id": brand.id, "touchpoint": "usage", "rating": 4,
                                "comment": COMMENT})
    return member


def test_no_personal_data_in_the_raw_store_files(vault, vault_home, brand):
    fill(vault, brand)
    files = store_files(vault_home.data_path) + store_files(vault_home.keys_path)
    assert Path(f"{vault_home.data_path}-wal") in files  # the fresh writes are in the WAL
    raw = b"".join(p.read_bytes() for p in files)
    for marker in MARKERS:
        assert marker.encode() not in raw
        assert marker.encode("utf-16-le") not in raw


def test_the_raw_scan_would_find_personal_data_in_a_plaintext_store(tmp_path, clock):
    # Control: with SQLCipher and sealing both off, the same scan finds every marker.
    plain = unsafe_open_plaintext_vault(tmp_path / "plain", clock=clock)
    fill(plain, plain.brands.add("Velo Bikes"))
    raw = raw_bytes(tmp_path / "plain" / "data.db")
    plain.close()
    for marker in MARKERS:
        assert marker.encode() in raw


def test_sealed_columns_hold_no_plaintext_even_with_the_store_key(vault, vault_home, brand):
    member = fill(vault, brand)
    key = vault.master.derive("data-store")
    opened = Database.open(vault_home.data_path, key)
    row = opened.one("SELECT * FROM members WHERE id = ?", (member,))
    sealed = [row["email_sealed"]]
    sealed += [r["value_sealed"] for r in opened.all("SELECT value_sealed FROM profile_values")]
    sealed += [r["comment_sealed"] for r in opened.all("SELECT comment_sealed FROM feedback")]
    assert len(sealed) == 1 + len(PROFILE) + 1 and all(sealed)
    for value in sealed:
        for marker in MARKERS:
            assert marker.encode() not in value
    # The member row holds no e-mail in clear: only a blind index and the sealed copy.
    for column in row.keys():
        value = row[column]
        as_bytes = value.encode() if isinstance(value, str) else value
        if isinstance(as_bytes, bytes):
            assert b"zebra" not in as_bytes.lower()
    assert len(row["email_index"]) == 32
    assert {a.key for a in ATTRIBUTES} >= {
        r["attribute"] for r in opened.all("SELECT attribute FROM profile_values")
    }
    opened.close()


def test_pages_are_authenticated_with_hmac_sha256_as_the_page_reader_expects(
        vault, vault_home, database, tmp_path):
    database.execute("INSERT INTO t (x, y) VALUES (1, 'one')")
    database.checkpoint()
    assert HMAC_BYTES == 32
    for path, key in ((tmp_path / "t.db", KEY),
                      (vault_home.data_path, vault.master.derive("data-store")),
                      (vault_home.keys_path, vault.master.derive("key-store"))):
        assert decrypts_as_a_store(path, key, hmac_bytes=32), path
        assert not decrypts_as_a_store(path, key, hmac_bytes=64), path
    # Opened with SQLCipher 4's default page HMAC, a new store does not open at all.
    connection = sqlcipher3.connect(str(tmp_path / "t.db"))
    connection.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    with pytest.raises(sqlcipher3.DatabaseError):
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    connection.close()


def test_a_store_made_with_sqlciphers_default_page_hmac_opens_as_it_is(tmp_path):
    """Stores made before HMAC-SHA256 was chosen keep HMAC-SHA512 and still open, read and
    write; a wrong key is still wrong."""
    path = tmp_path / "old.db"
    connection = sqlcipher3.connect(str(path), isolation_level=None)
    connection.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    assert connection.execute("PRAGMA cipher_hmac_algorithm").fetchone()[0] == "HMAC_SHA512"
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT UNIQUE)")
    connection.execute("INSERT INTO t (x, y) VALUES (1, 'one')")
    connection.close()
    old = Database.open(path, KEY)
    assert old.one("SELECT y FROM t WHERE x = 1")[0] == "one"
    with old.transaction():
        old.execute("INSERT INTO t (x, y) VALUES (2, 'two')")
    old.close()
    assert decrypts_as_a_store(path, KEY, hmac_bytes=64)       # still the old layout
    assert not decrypts_as_a_store(path, KEY, hmac_bytes=32)
    assert Database.open(path, KEY).one("SELECT count(*) FROM t")[0] == 2
    with pytest.raises(WrongKeyError):
        Database.open(path, bytes(32))


def test_decrypted_pages_hold_no_personal_data(vault, vault_home, brand):
    fill(vault, brand)
    data_key = vault.master.derive("data-store")
    keys_key = vault.master.derive("key-store")
    # Control: decryption works, so the absences below mean something.
    assert decrypted_contains(vault_home.data_path, data_key, b"CREATE TABLE web_sessions")
    assert decrypted_contains(vault_home.keys_path, keys_key, b"CREATE TABLE member_keys")
    for marker in MARKERS:
        assert not decrypted_contains(vault_home.data_path, data_key, marker.encode())
        assert not decrypted_contains(vault_home.keys_path, keys_key, marker.encode())
