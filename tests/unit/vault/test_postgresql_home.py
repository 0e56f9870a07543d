"""A vault home whose stores are on PostgreSQL (VRMVAULT_DATABASE_URL): made by init, refused
when not made or made with another master key, named in messages without its URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import GOOD_PASSWORD, POSTGRESQL_MASTER_KEY, TEST_HASHING
from tests.postgresql_server import Server
from vault.errors import StoreError, StoreNotInitialisedError
from vault.home import VaultHome
from vault.keys import MASTER_KEY_ENV, MasterKey


@pytest.fixture
def empty(postgresql: Server, tmp_path: Path):
    """A home over two new, empty databases."""
    with postgresql.database() as data, postgresql.database() as keys:
        yield VaultHome(tmp_path / "var", data, keys)


def test_init_makes_every_store_and_names_where_each_is(empty: VaultHome) -> None:
    assert not empty.exists()
    with pytest.raises(StoreNotInitialisedError, match="no store in the PostgreSQL database"):
        empty.require()
    report = empty.initialise({MASTER_KEY_ENV: POSTGRESQL_MASTER_KEY})
    assert report.created_store and not report.created_key
    places = {step.split(":")[0] for step in report.migrations_applied}
    assert places == {"data database", "keys database", "schema ledger", "schema rates"}
    assert empty.exists()
    again = empty.initialise({MASTER_KEY_ENV: POSTGRESQL_MASTER_KEY})
    assert not again.created_store and again.migrations_applied == []
    assert not (empty.root / "master.key").exists()       # the key came from the setting


def test_a_host_with_another_master_key_is_refused_before_it_reads(
        postgresql_home: VaultHome) -> None:
    with postgresql_home.open(hashing=TEST_HASHING) as vault:
        vault.members.register("alice@example.org", GOOD_PASSWORD)
    other_hex = "a7" * 32
    other = MasterKey.from_hex(other_hex)
    with pytest.raises(StoreError, match="made with another master key"):
        postgresql_home.open(other)
    elsewhere = VaultHome(postgresql_home.root.parent / "elsewhere",
                          postgresql_home.database_url, postgresql_home.keys_database_url)
    with pytest.raises(StoreError, match="made with another master key"):
        elsewhere.initialise({MASTER_KEY_ENV: other_hex})
    # The right key still opens it, and nothing was written under the wrong one.
    with postgresql_home.open(hashing=TEST_HASHING) as vault:
        assert vault.members.find("alice@example.org") is not None


def test_messages_name_the_database_never_its_url(postgresql_home: VaultHome) -> None:
    assert postgresql_home.database_url and "dbname=" in postgresql_home.database_url
    assert postgresql_home.where.startswith("the PostgreSQL database ")
    assert "host=" not in postgresql_home.where and "host=" not in repr(postgresql_home)
