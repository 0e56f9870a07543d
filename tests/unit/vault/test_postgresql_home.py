"""A vault home whose stores are on PostgreSQL (VRMVAULT_DATABASE_URL): made by init, refused
when not made or made with another master key, named in messages without its URL."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from consent.context import open_ledger
from tests.conftest import GOOD_PASSWORD, POSTGRESQL_MASTER_KEY, TEST_HASHING
from tests.postgresql_server import Server
from vault import schema
from vault.errors import StoreError, StoreNotInitialisedError
from vault.home import InitReport, VaultHome
from vault.keys import MASTER_KEY_ENV, MasterKey
from vault.postgresql.database import Database
from vault.schema import on_postgresql


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


HOSTS = 4
ROUNDS = 3


def _initialise_at_once(homes: list[VaultHome]) -> list[InitReport]:
    """``vrmvault init`` of every home at the same moment, each in a thread with connections
    of its own (as hosts of one vault starting together): the reports, in the homes' order;
    the first failure of any is raised here."""
    start = threading.Barrier(len(homes))

    def initialise(home: VaultHome) -> InitReport:
        start.wait(timeout=30)
        return home.initialise({MASTER_KEY_ENV: POSTGRESQL_MASTER_KEY})

    with ThreadPoolExecutor(len(homes)) as pool:
        return list(pool.map(initialise, homes))


def test_hosts_initialising_one_fresh_database_at_once_all_succeed(
        postgresql: Server, tmp_path: Path) -> None:
    """Every host of a vault runs ``init`` (or ``serve``, which migrates) against the same
    databases, and they start together: each makes what is missing only if no other has made
    it meanwhile, so none is refused by PostgreSQL's catalog (two ``CREATE ... IF NOT EXISTS``
    at once both find nothing and the second breaks a unique index of ``pg_type``). Several
    rounds, each on new databases, so that a race lost only some of the time is caught."""
    master = MasterKey.from_hex(POSTGRESQL_MASTER_KEY)
    for round_ in range(ROUNDS):
        with postgresql.database() as data, postgresql.database() as keys:
            later = VaultHome(tmp_path / f"round{round_}-later", data, keys)
            homes = [VaultHome(tmp_path / f"round{round_}-host{n}", data, keys)
                     for n in range(HOSTS)]
            reports = _initialise_at_once(homes)
            # Each migration of each store was applied once, by one host or another.
            applied = sorted(step for report in reports for step in report.migrations_applied)
            assert len(applied) == len(set(applied)) == sum(
                len(on_postgresql(store).migrations) for store in schema.STORES)
            # Nothing is left to make, and the stores open as made with the one master key:
            # a member registered through one host is found through every other.
            assert later.initialise({MASTER_KEY_ENV: POSTGRESQL_MASTER_KEY}
                                    ).migrations_applied == []
            with homes[0].open(master, hashing=TEST_HASHING) as vault:
                vault.members.register(f"round{round_}@example.org", GOOD_PASSWORD)
            for home in homes[1:]:
                with home.open(master, hashing=TEST_HASHING) as vault:
                    assert vault.members.find(f"round{round_}@example.org") is not None


def _schemas(dsn: str) -> set[str]:
    database = Database.connect(dsn)
    try:
        return {row[0] for row in database.all("SELECT nspname FROM pg_namespace")}
    finally:
        database.close()


def test_swapped_urls_are_refused_as_such_and_nothing_is_made(
        postgresql_home: VaultHome) -> None:
    """VRMVAULT_DATABASE_URL naming the key database (and the reverse): each store knows the
    other by its master key check, so the mistake is told as it is, before any migration
    runs and before a ledger schema is made in the key database (which an empty ledger would
    then have verified as OK)."""
    data, keys = postgresql_home.database_url, postgresql_home.keys_database_url
    assert data and keys
    swapped = VaultHome(postgresql_home.root, keys, data)
    told = "VRMVAULT_DATABASE_URL names the key database of this vault"
    with pytest.raises(StoreError, match=told):
        swapped.open(hashing=TEST_HASHING)
    with pytest.raises(StoreError, match=told):
        open_ledger(swapped, swapped.master_key())
    with pytest.raises(StoreError, match=told):
        swapped.initialise({})
    assert not {"ledger", "rates"} & _schemas(keys)
    # The keys URL alone naming the data database: told from its side.
    with pytest.raises(StoreError, match="VRMVAULT_KEYS_DATABASE_URL names the data database"):
        VaultHome(postgresql_home.root, data, data + " ").open(hashing=TEST_HASHING)


def test_another_vaults_older_database_is_refused_before_it_is_migrated(
        empty: VaultHome) -> None:
    """A database another vault made (another master key), one migration behind: refused
    before that migration is applied to it, not after."""
    empty.initialise({MASTER_KEY_ENV: "a7" * 32})
    assert empty.database_url
    database = Database.connect(empty.database_url)
    last = schema.DATA.migrations[-1].number
    try:
        database.execute("DELETE FROM store_migrations WHERE number = ?", (last,))
    finally:
        database.close()
    with pytest.raises(StoreError, match="made with another master key"):
        empty.initialise({MASTER_KEY_ENV: POSTGRESQL_MASTER_KEY})
    database = Database.connect(empty.database_url)
    try:
        assert database.one("SELECT max(number) FROM store_migrations")[0] == last - 1
    finally:
        database.close()


def test_init_warns_of_roles_with_more_than_their_store(postgresql: Server,
                                                        tmp_path: Path) -> None:
    """The README's setting: a role of its own owning each database, the key database closed
    to PUBLIC. Short of it, init says what the data role (or a leak of its password) could
    reach: the key database."""
    suffix = secrets.token_hex(4)
    data_role, keys_role = f"vv_data_{suffix}", f"vv_keys_{suffix}"
    admin = Database.connect(postgresql.admin_dsn)
    try:
        for role in (data_role, keys_role):
            admin.execute(f"CREATE ROLE {role} LOGIN")
        with postgresql.database() as data, postgresql.database() as keys:
            keys_database = conninfo_to_dict(keys)["dbname"]
            admin.execute(f"ALTER DATABASE {conninfo_to_dict(data)['dbname']}"
                          f" OWNER TO {data_role}")
            admin.execute(f"ALTER DATABASE {keys_database} OWNER TO {keys_role}")
            home = VaultHome(tmp_path / "var", make_conninfo(data, user=data_role),
                             make_conninfo(keys, user=keys_role))
            environ = {MASTER_KEY_ENV: POSTGRESQL_MASTER_KEY}
            assert home.initialise(environ).warnings == [
                "the role of VRMVAULT_DATABASE_URL may connect to the key database (PostgreSQL"
                " grants CONNECT to PUBLIC): run REVOKE ALL ON DATABASE on it FROM PUBLIC, as"
                " its owner or an administrator"]
            admin.execute(f"REVOKE ALL ON DATABASE {keys_database} FROM PUBLIC")
            assert home.initialise(environ).warnings == []
            # The run's superuser in both URLs: every warning there is.
            warnings = VaultHome(tmp_path / "super", data, keys).initialise(environ).warnings
            assert [warning.split(" ", 5)[:5] for warning in warnings] == [
                ["the", "role", "of", "VRMVAULT_DATABASE_URL", "is"],
                ["the", "role", "of", "VRMVAULT_KEYS_DATABASE_URL", "is"],
                ["VRMVAULT_DATABASE_URL", "and", "VRMVAULT_KEYS_DATABASE_URL", "connect", "as"]]
    finally:
        for role in (data_role, keys_role):
            admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.close()
