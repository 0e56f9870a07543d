"""The storage seam's cost on the brand read, statement by statement: SQLAlchemy Core against
raw parameterised SQL, in one process, on one real SQLCipher store.

Why: the storage seam could be SQLAlchemy 2.x Core statements over our own SQLCipher connection
(seam a) or ``typing.Protocol`` repositories running raw parameterised SQL, one implementation
per engine (seam b). The brand read (``GET /api/v1/member/profile``) is the hot path; this
times each of its statements both ways, on the same keyed connection, alternating A and B in
every repeat so the machine's drift falls on both.

Setup: a home made and filled as ``bench.brand_api`` does (``vrmvault init`` in a child, then a
member with a full profile, a grant, a client, a token family and a live token). Then ``data.db``
and ``rates.db`` are opened with the product's :class:`vault.sqlcipher.database.Database` (the raw
key, the product's pragmas); seam (a) gets a SQLAlchemy engine whose ``creator`` hands it that very
connection, in the driver's autocommit mode (BEGIN and COMMIT stay ours, as today), its tables
reflected from the store and its statements built once (so SQLAlchemy's compiled cache is hit
every time, its best case). Seam (b) runs the statements the product runs today through
``Database``. Both read every column of every row by name, as the services do.

The statements, in the order a read runs them (steady state: the token, client, policy,
pseudonyms and the sealed profile rows are remembered per connection until the store changes,
so a read runs only the snapshot and the data version; the rest run once per change):

- ``snapshot``: ``BEGIN DEFERRED``, ``PRAGMA data_version``, ``COMMIT``
- ``profile``: the ten granted attributes of the member (``IN`` list), sealed values;
  ``profile-fixed``: seam (a) with one statement per list length instead of an expanding
  parameter (seam (b) the same statement as ``profile``)
- ``token``: the access token joined with its family
- ``client``: the OAuth client joined with its brand
- ``grants``: the member's grants for the brand
- ``pairwise``: whether the member's pseudonym for the brand was handed out
- ``lease``: the rate counter's lease in ``rates.db``: ``BEGIN IMMEDIATE``, read, upsert,
  ``COMMIT`` (once per up to 32 requests)

Run: ``python -m bench.storage_seam [REPEATS] [ITERATIONS]`` (SQLAlchemy must be installed:
``pip install 'sqlalchemy>=2'``; it is not a dependency of the product). Prints per statement
the median microseconds of each seam over the repeats, and the ratio a/b.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from brand_gateway.storage import open_rate_counts
from brand_gateway.tokens import token_hash
from vault.sqlcipher.database import Database

from .brand_api import GRANTED, initialise, stage
from .report import fresh_directory, log


def _core(database: Database) -> Any:
    """A SQLAlchemy Connection over ``database``'s own keyed connection (seam a's factory)."""
    from sqlalchemy import create_engine
    from sqlalchemy.dialects import registry
    from sqlalchemy.pool import StaticPool

    registry.register("sqlite.rawkeycipher", __name__, "RawKeyDialect")
    raw = database._connection       # the benchmark's only reach inside the storage module
    engine = create_engine("sqlite+rawkeycipher://", creator=lambda: raw,
                           poolclass=StaticPool)
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def __getattr__(name: str) -> Any:
    # The dialect is made on first use so that importing this module needs no SQLAlchemy.
    if name == "RawKeyDialect":
        from sqlalchemy.dialects.sqlite.pysqlcipher import SQLiteDialect_pysqlcipher
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

        class RawKeyDialect(SQLiteDialect_pysqlcipher):
            """pysqlcipher without its passphrase PRAGMA: the creator's connection is keyed."""

            supports_statement_cache = True

            def on_connect_url(self, url: Any) -> Any:
                return SQLiteDialect_pysqlite.on_connect_url(self, url)

        globals()["RawKeyDialect"] = RawKeyDialect
        return RawKeyDialect
    raise AttributeError(name)


def _names(row: Any, keys: tuple[str, ...]) -> None:
    for key in keys:
        row[key]


def statements(data: Database, rates: Database, *, member_id: str, brand_id: str,
               client_id: str, token: str, pairwise: str
               ) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """Per statement: (seam a, seam b), each one run of it."""
    from sqlalchemy import MetaData, Table, bindparam, select
    from sqlalchemy.dialects.sqlite import insert

    core = _core(data)
    core_rates = _core(rates)
    meta = MetaData()
    tables = {name: Table(name, meta, autoload_with=core) for name in (
        "profile_values", "oauth_access_tokens", "oauth_token_families", "oauth_clients",
        "brands", "grants", "pairwise_subjects")}
    limits = Table("api_rate_limits", MetaData(), autoload_with=core_rates)
    values, tokens, families = (tables["profile_values"], tables["oauth_access_tokens"],
                                tables["oauth_token_families"])
    clients, brands, grants = tables["oauth_clients"], tables["brands"], tables["grants"]
    pairs = tables["pairwise_subjects"]
    wanted = list(GRANTED)
    digest = token_hash(token)

    profile_a = select(values.c.attribute, values.c.value_sealed).where(
        values.c.member_id == bindparam("member_id"),
        values.c.attribute.in_(bindparam("attributes", expanding=True)))
    # The same without SQLAlchemy's expanding parameter (re-rendered per run): one statement per
    # list length, built once, as a tuned seam (a) would keep them.
    profile_fixed_a = select(values.c.attribute, values.c.value_sealed).where(
        values.c.member_id == bindparam("member_id"),
        values.c.attribute.in_([bindparam(f"attribute{i}") for i in range(len(wanted))]))
    fixed_parameters = {"member_id": member_id,
                        **{f"attribute{i}": name for i, name in enumerate(wanted)}}
    token_a = select(tokens, families.c.member_id.label("family_member"),
                     families.c.expires_at.label("family_expires_at"),
                     families.c.revoked_at.label("family_revoked_at"),
                     families.c.authorization_details).select_from(
        tokens.outerjoin(families, families.c.id == tokens.c.family_id)).where(
        tokens.c.token_hash == bindparam("token_hash"))
    client_a = select(clients, brands.c.name.label("brand_name")).select_from(
        clients.join(brands, brands.c.id == clients.c.brand_id)).where(
        clients.c.client_id == bindparam("client_id"))
    grants_a = select(grants).where(grants.c.member_id == bindparam("member_id"),
                                    grants.c.brand_id == bindparam("brand_id"))
    pairwise_a = select(1).select_from(pairs).where(pairs.c.brand_id == bindparam("brand_id"),
                                                    pairs.c.pairwise_id == bindparam("pid"))
    lease_read_a = select(limits.c.window_start, limits.c.used).where(
        limits.c.client_id == bindparam("client_id"))
    lease_write_a = insert(limits).values(client_id=bindparam("client_id"),
                                          window_start=bindparam("window_start"),
                                          used=bindparam("used"))
    lease_write_a = lease_write_a.on_conflict_do_update(
        index_elements=[limits.c.client_id],
        set_={"window_start": lease_write_a.excluded.window_start,
              "used": lease_write_a.excluded.used})

    def rows_a(statement: Any, parameters: dict[str, Any]) -> None:
        for row in core.execute(statement, parameters):
            mapping = row._mapping
            for key in mapping.keys():
                mapping[key]

    def rows_b(sql: str, parameters: tuple[Any, ...]) -> None:
        for row in data.all(sql, parameters):
            _names(row, tuple(row.keys()))

    def snapshot_a() -> None:
        core.exec_driver_sql("BEGIN DEFERRED")
        core.exec_driver_sql("PRAGMA data_version").scalar()
        core.exec_driver_sql("COMMIT")

    def snapshot_b() -> None:
        with data.snapshot():
            data.one("PRAGMA data_version")

    in_list = ",".join("?" * len(wanted))
    counter = iter(range(10**9))

    def lease_a() -> None:
        rates._begin_write()            # BEGIN IMMEDIATE with the write-lock polling: ours
        row = core_rates.execute(lease_read_a, {"client_id": client_id}).first()
        used = (row[1] if row is not None else 0) + 1
        core_rates.execute(lease_write_a, {"client_id": client_id, "window_start": 0,
                                           "used": used + next(counter) % 2})
        core_rates.exec_driver_sql("COMMIT")

    def lease_b() -> None:
        with rates.transaction():
            row = rates.one("SELECT window_start, used FROM api_rate_limits"
                            " WHERE client_id = ?", (client_id,))
            used = (row[1] if row is not None else 0) + 1
            rates.execute(
                "INSERT INTO api_rate_limits (client_id, window_start, used) VALUES (?, ?, ?)"
                " ON CONFLICT (client_id) DO UPDATE SET window_start = excluded.window_start,"
                " used = excluded.used", (client_id, 0, used + next(counter) % 2))

    return {
        "snapshot": (snapshot_a, snapshot_b),
        "profile": (
            lambda: rows_a(profile_a, {"member_id": member_id, "attributes": wanted}),
            lambda: rows_b("SELECT attribute, value_sealed FROM profile_values WHERE"
                           f" member_id = ? AND attribute IN ({in_list})",
                           (member_id, *wanted))),
        "profile-fixed": (
            lambda: rows_a(profile_fixed_a, fixed_parameters),
            lambda: rows_b("SELECT attribute, value_sealed FROM profile_values WHERE"
                           f" member_id = ? AND attribute IN ({in_list})",
                           (member_id, *wanted))),
        "token": (
            lambda: rows_a(token_a, {"token_hash": digest}),
            lambda: rows_b("SELECT t.*, f.member_id, f.expires_at AS family_expires_at,"
                           " f.revoked_at AS family_revoked_at, f.authorization_details"
                           " FROM oauth_access_tokens t LEFT JOIN oauth_token_families f"
                           " ON f.id = t.family_id WHERE t.token_hash = ?", (digest,))),
        "client": (
            lambda: rows_a(client_a, {"client_id": client_id}),
            lambda: rows_b("SELECT c.*, b.name AS brand_name FROM oauth_clients AS c"
                           " JOIN brands AS b ON b.id = c.brand_id WHERE c.client_id = ?",
                           (client_id,))),
        "grants": (
            lambda: rows_a(grants_a, {"member_id": member_id, "brand_id": brand_id}),
            lambda: rows_b("SELECT * FROM grants WHERE member_id = ? AND brand_id = ?",
                           (member_id, brand_id))),
        "pairwise": (
            lambda: rows_a(pairwise_a, {"brand_id": brand_id, "pid": pairwise}),
            lambda: rows_b("SELECT 1 FROM pairwise_subjects WHERE brand_id = ?"
                           " AND pairwise_id = ?", (brand_id, pairwise))),
        "lease": (lease_a, lease_b),
    }


def _time(run: Callable[[], None], iterations: int) -> float:
    """Microseconds per run, over ``iterations`` runs."""
    started = time.perf_counter_ns()
    for _ in range(iterations):
        run()
    return (time.perf_counter_ns() - started) / iterations / 1000


def main(argv: list[str]) -> None:
    repeats = int(argv[0]) if argv else 9
    iterations = int(argv[1]) if len(argv) > 1 else 2000
    with fresh_directory() as root:
        staged = stage(initialise(root))
        pairwise = staged.consent.brand_subject(staged.member_id, staged.client.brand_id)
        home, master = staged.home, staged.vault.master
        staged.consent.close()
        staged.vault.close()
        data = Database.open(home.data_path, master.derive("data-store"))
        rates = open_rate_counts(home, master)
        try:
            runs = statements(data, rates, member_id=staged.member_id,
                              brand_id=staged.client.brand_id,
                              client_id=staged.client.client_id, token=staged.token,
                              pairwise=pairwise)
            timings: dict[str, tuple[list[float], list[float]]] = {
                name: ([], []) for name in runs}
            for a, b in runs.values():
                _time(a, iterations // 10)       # warm-up: caches, compiled statements
                _time(b, iterations // 10)
            for repeat in range(repeats):
                for name, (a, b) in runs.items():
                    first, second = ((a, 0), (b, 1)) if repeat % 2 == 0 else ((b, 1), (a, 0))
                    timings[name][first[1]].append(_time(first[0], iterations))
                    timings[name][second[1]].append(_time(second[0], iterations))
        finally:
            data.close()
            rates.close()
    log(f"{'statement':<10} {'a: Core µs':>11} {'b: raw µs':>10} {'a/b':>6} {'a-b µs':>7}"
        f"   ({repeats} repeats x {iterations} runs, medians)")
    for name, (a_times, b_times) in timings.items():
        a, b = statistics.median(a_times), statistics.median(b_times)
        log(f"{name:<10} {a:>11.1f} {b:>10.1f} {a / b:>6.2f} {a - b:>7.1f}")
    steady = ("snapshot", "profile-fixed")
    a = sum(statistics.median(timings[n][0]) for n in steady)
    b = sum(statistics.median(timings[n][1]) for n in steady)
    log(f"steady-state read (snapshot + profile-fixed): a {a:.1f} µs, b {b:.1f} µs,"
        f" a/b {a / b:.2f}, a-b {a - b:.1f} µs per request")


if __name__ == "__main__":
    main(sys.argv[1:])
