"""Contracts of the request counters (``RateCountRepository``), on every engine: a lease counts
within its client's window and starts afresh in the next, and leases taken at once over
connections of their own (workers, hosts) never lose a count.

PostgreSQL's row lock is checked step by step as well: a lease taken while another
connection's lease of the same client is open waits for it (seen in the server's lock table),
then counts from what it left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from brand_gateway.postgresql.rate_counts import PostgresqlRateCounts
from brand_gateway.repositories import RateCountRepository
from brand_gateway.sqlcipher.rate_counts import SqlcipherRateCounts
from tests.postgresql_server import Server
from vault.postgresql.database import Database

from .conftest import RateStore, postgresql_rates_template

LEASES_EACH = 100
DEADLINE = 10.0            # seconds a step may take before the test gives up on it


def test_rate_leases_count_within_a_window_and_start_afresh_in_the_next(
        rate_counts: RateCountRepository) -> None:
    asked: list[int] = []

    def size(counted: int) -> int:
        asked.append(counted)
        return 4

    assert rate_counts.take_lease("client_a", 60, size) == (0, 4)
    assert rate_counts.take_lease("client_a", 60, size) == (4, 4)
    assert rate_counts.take_lease("client_b", 60, size) == (0, 4)            # per client
    assert rate_counts.take_lease("client_a", 120, size) == (0, 4)           # a new window
    assert asked == [0, 4, 0, 0]


def test_a_lease_of_nothing_counts_nothing(rate_counts: RateCountRepository) -> None:
    assert rate_counts.take_lease("client_a", 60, lambda counted: 0) == (0, 0)
    assert rate_counts.take_lease("client_a", 60, lambda counted: 3) == (0, 3)


def test_two_connections_taking_leases_at_once_lose_no_count(rates: RateStore) -> None:
    """Two workers, each with its own connection, take leases of one client as fast as they
    can, started together: every lease starts where another ended, none twice."""
    start = threading.Barrier(2)
    befores: list[list[int]] = [[], []]
    failures: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            with rates.connection() as counts:
                start.wait(timeout=DEADLINE)
                for _ in range(LEASES_EACH):
                    befores[number].append(counts.take_lease("client_a", 60, lambda n: 1)[0])
        except BaseException as exc:       # reported below, in the test's own thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE * 3)
    assert not failures and not any(thread.is_alive() for thread in threads), failures
    assert sorted(befores[0] + befores[1]) == list(range(2 * LEASES_EACH))
    with rates.connection() as counts:
        assert counts.take_lease("client_a", 60, lambda n: 0) == (2 * LEASES_EACH, 0)


# -- PostgreSQL's row lock, step by step ------------------------------------------------------
@pytest.fixture
def rates_database(postgresql: Server) -> Iterator[str]:
    with postgresql.database(postgresql_rates_template(postgresql)) as dsn:
        yield dsn


@contextmanager
def connected(dsn: str) -> Iterator[Database]:
    database = Database.connect(dsn)
    try:
        yield database
    finally:
        database.close()


def waits_for_a_lock(observer: Database, pid: int) -> bool:
    """Whether the server's backend ``pid`` is blocked by another's lock."""
    return bool(observer.one("SELECT cardinality(pg_blocking_pids(?))", (pid,))[0])


def second_lease_during_first(dsn: str, repository: type, *, earlier: int) -> tuple[int, int]:
    """Connection A takes a lease of 4 requests; while A's lease is open (inside its ``size``),
    connection B asks for a lease of 1 of the same client, and A goes on only once B waits for
    a lock or has its lease. Returns (A's count before, B's count before); ``earlier``
    requests were counted before A began (0: the client has no row yet)."""
    with connected(dsn) as first, connected(dsn) as second, connected(dsn) as observer:
        if earlier:
            repository(first).take_lease("client_a", 60, lambda n: earlier)
        second_pid = second.one("SELECT pg_backend_pid()")[0]
        got: list[tuple[int, int]] = []
        failures: list[BaseException] = []

        def take_second() -> None:
            try:
                got.append(repository(second).take_lease("client_a", 60, lambda n: 1))
            except BaseException as exc:
                failures.append(exc)

        thread = threading.Thread(target=take_second)

        def size(counted: int) -> int:
            thread.start()
            deadline = time.monotonic() + DEADLINE
            while not (got or failures or waits_for_a_lock(observer, second_pid)):
                assert time.monotonic() < deadline, "the second lease neither ran nor waited"
                time.sleep(0.001)
            return 4

        first_before = repository(first).take_lease("client_a", 60, size)[0]
        thread.join(timeout=DEADLINE)
        assert not failures and got, failures
        return first_before, got[0][0]


@pytest.mark.parametrize("earlier", [0, 2], ids=["first lease", "later lease"])
def test_a_lease_waits_for_the_open_lease_of_its_client_and_counts_from_it(
        rates_database: str, earlier: int) -> None:
    assert second_lease_during_first(rates_database, PostgresqlRateCounts,
                                     earlier=earlier) == (earlier, earlier + 4)
    with connected(rates_database) as database:
        assert PostgresqlRateCounts(database).take_lease("client_a", 60, lambda n: 0) == (
            earlier + 5, 0)


def test_the_step_by_step_check_would_catch_a_count_read_without_its_lock(
        rates_database: str) -> None:
    """The check itself: SQLCipher's statements, which rely on SQLite's store-wide write lock
    taken at ``BEGIN IMMEDIATE``, run as they are on PostgreSQL (where a transaction locks
    nothing until it writes) let the second lease read the count the first is about to change,
    and one of the two is lost."""
    first, second = second_lease_during_first(rates_database, SqlcipherRateCounts, earlier=2)
    assert (first, second) == (2, 2)
