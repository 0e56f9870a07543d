"""The product on PostgreSQL, past one machine (issue 17): two web hosts against one database.

A throwaway PostgreSQL cluster of Debian's server is made for the run (``tests/postgresql_server``,
here with its durability left on: fsync, full-page writes and synchronous commits as shipped),
with a data database and a key database made by ``vrmvault init`` with the two URL settings.
Figures, all from the same run:

- ``postgresql_two_hosts_ratio``: the brand read (``GET /api/v1/member/profile``, as
  bench/brand_api.py stages it) served by two ``vrmvault serve --workers 1`` hosts, each with its
  own home folder, both on the one PostgreSQL, loaded at once by two wrk processes (4
  connections each), over the bare Flask endpoint served the same way (two servers of one worker,
  two wrk). Median of the per-round ratios of the summed rates. Target >= 0.4.
- ``postgresql_two_hosts_p99_ms``: the slower host's wrk p99, median of the rounds. Target < 20.
- ``postgresql_two_hosts_rps`` against one host on SQLCipher (``serve --workers 2``, one wrk of
  8 connections, the same staging in a SQLCipher home), in the same rounds; the ratio is
  informational (the issue asks for the comparison, not a target).
- ``postgresql_merge_delay_s``: the longest a read was seen waiting in either host's spool
  before its keeper merged it into the one ledger, over every two-host load (looked at every
  0.2 s). Target < 1 s.
- ``postgresql_read_latency_1m_over_1k``: the brand read's median latency (wrk, one connection,
  one host) with 1,000,000 members in the data database over the same with 1,000. The 999,000
  added members are copies of the read member's hot-path rows (account, login, three profile
  values, terms, a grant, a pairwise subject, a token family and an access token, each with keys
  of its own) written by SQL in batches, then ANALYZE. Target <= 1.2 (indexed, no scans).
- ``postgresql_erasure_10k_ms``: ``vault.erasure.erase`` of a member with 10,000 feedback entries
  and a profile, among the million, on PostgreSQL (key deleted and its partition rewritten, rows
  deleted, the erasure recorded). Median of three members. Target < 100 ms.
- ``postgresql_demo_100k_s``: ``vrmvault demo --members 100000`` into fresh PostgreSQL databases,
  wall time of the command. Target < 180 s.

Verified, or no figure: every round's answers are checked before and after (exact documents),
wrk must see no error, and after each two-host load the ledger must hold one
``access:profile:read`` entry per answer (up to the connections' in-flight requests more);
at the end the ledger, written by two hosts' keepers, must verify; each erasure must leave no
row and no key of the member.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from consent.context import open_ledger
from consent.spool import SpoolDirectory
from vault.home import VaultHome
from vault.keys import MASTER_KEY_ENV, MasterKey

from . import brand_api
from .brand_api import (
    BARE_DOCUMENT,
    BARE_PATH,
    PROFILE_PATH,
    Load,
    Stage,
    check,
    running,
    watched_spools,
    wrk,
)
from .demo_100k import child_environment, command_line
from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median
from .workload import add_members, drafts, entries

NAME = "postgresql"
INFORMATIONAL = Target(">=", 0, "x", label="informational")
FIGURES = (
    Figure(f"{NAME}_two_hosts_ratio", "x", Target(">=", 0.4, "x")),
    Figure(f"{NAME}_two_hosts_p99_ms", "ms", Target("<", 20, " ms")),
    Figure(f"{NAME}_two_hosts_rps", "req/s", Target(">=", 0, "/s", label="informational")),
    Figure(f"{NAME}_two_hosts_over_sqlcipher_one_host", "x", INFORMATIONAL),
    Figure(f"{NAME}_merge_delay_s", "s", Target("<", 1.0, " s")),
    Figure(f"{NAME}_read_latency_1m_over_1k", "x", Target("<=", 1.2, "x")),
    Figure(f"{NAME}_erasure_10k_ms", "ms", Target("<", 100, " ms")),
    Figure(f"{NAME}_demo_100k_s", "s", Target("<", 180, " s")),
)
HOST_CONNECTIONS = 4                # per host: 8 in all, as bench/brand_api.py loads one host
_P50 = re.compile(r"^\s*50%\s+([0-9.]+)(us|ms|s)\s*$", re.M)
_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Scale:
    rounds: int
    seconds: int
    warmup: int
    members: int                    # in the data database for the second latency
    latency_runs: int
    latency_seconds: int
    erasures: int
    demo_members: int


FULL = Scale(rounds=5, seconds=8, warmup=3, members=1_000_000, latency_runs=3,
             latency_seconds=5, erasures=3, demo_members=100_000)
QUICK = Scale(rounds=2, seconds=3, warmup=1, members=20_000, latency_runs=2,
              latency_seconds=2, erasures=1, demo_members=2_000)


@dataclass(frozen=True)
class Places:
    data: str
    keys: str
    master_hex: str

    def environment(self) -> dict[str, str]:
        return child_environment() | {"VRMVAULT_DATABASE_URL": self.data,
                                      "VRMVAULT_KEYS_DATABASE_URL": self.keys,
                                      MASTER_KEY_ENV: self.master_hex}


def _vrmvault(home: Path, places: Places, *arguments: str) -> str:
    done = subprocess.run([*command_line(), "--home", str(home), *arguments],
                          env=places.environment(), capture_output=True, text=True)
    if done.returncode:
        raise BenchmarkError(f"{NAME}: vrmvault {arguments[0]} failed:"
                             f" {done.stderr.strip()[-800:]}")
    return done.stdout


def stage_on_postgresql(root: Path, places: Places) -> Stage:
    """``vrmvault init`` on the two databases, then bench/brand_api.py's staging through the
    product's services."""
    home = VaultHome(root / "setup", places.data, places.keys)
    _vrmvault(home.root, places, "init")
    MasterKey.from_hex(places.master_hex).write_new_file(home.key_file)   # for this process
    return brand_api.stage(home)


# -- loads ----------------------------------------------------------------------------------
def _at_once(urls: list[str], seconds: int, token: str | None) -> list[Load]:
    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(lambda url: wrk(url, seconds, token, connections=HOST_CONNECTIONS),
                             urls))


class Ledger:
    """The one ledger's reads, counted and watched (its own connections)."""

    def __init__(self, staged: Stage, hosts: list[VaultHome]) -> None:
        master = staged.vault.master
        self.ledger = open_ledger(staged.home, master)
        self.watching = open_ledger(staged.home, master)
        self.spools = [SpoolDirectory(home, master) for home in hosts]
        self.counted = self.reads()
        self.waits: list[float] = []

    def reads(self) -> int:
        row = self.ledger.database.one(
            "SELECT count(*) FROM entries"
            " WHERE convert_from(body, 'UTF8')::jsonb ->> 'tag' = 'access:profile:read'")
        return int(row[0])

    def since(self) -> int:
        now = self.reads()
        counted, self.counted = now - self.counted, now
        return counted

    def _backlog(self) -> tuple[int, float | None]:
        """Both hosts' spools: the reads waiting, and when the oldest was spooled."""
        pending, oldest = 0, None
        for spools in self.spools:
            backlog = spools.backlog(self.watching)
            pending += backlog.reads
            if backlog.oldest_at is not None:
                oldest = backlog.oldest_at if oldest is None else min(oldest, backlog.oldest_at)
        return pending, oldest

    def watched(self) -> contextlib.AbstractContextManager[None]:
        return watched_spools(self._backlog, self.waits)

    def merged(self) -> None:
        """Wait until the hosts' keepers have merged every read spooled so far."""
        deadline = time.monotonic() + 30
        while self._backlog()[0]:
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{NAME}: spooled reads unmerged after 30 s")
            time.sleep(0.05)

    def settled(self) -> None:
        """Wait until every read spooled so far (the checks') is merged, then start counting
        afresh."""
        self.merged()
        self.since()

    def close(self) -> None:
        self.ledger.close()
        self.watching.close()


def _verified(loads: list[Load], label: str) -> None:
    for load in loads:
        if load.bad_status or load.socket_errors:
            raise BenchmarkError(f"{NAME}: {label}: {load.bad_status} answers not 2xx/3xx,"
                                 f" {load.socket_errors} socket errors")


def measure(pg: Stage, sq: Stage, hosts: list[str], bares: list[str], single: str,
            ledger: Ledger, scale: Scale) -> dict[str, list[tuple[float, float]]]:
    """Interleaved rounds: (rate, p99) per configuration."""
    def one(label: str, seconds: int) -> tuple[float, float]:
        if label == "bare":
            urls, token, expected = [u + BARE_PATH for u in bares], None, BARE_DOCUMENT
        elif label == "postgresql":
            urls, token, expected = [u + PROFILE_PATH for u in hosts], pg.token, pg.expected
        else:
            urls, token, expected = [single + PROFILE_PATH], sq.token, sq.expected
        for url in urls:
            check(url, expected, token)
        if label == "postgresql":
            ledger.settled()
            with ledger.watched():
                loads = _at_once(urls, seconds, token)
                time.sleep(0.3)
            recorded, answered = ledger.since(), sum(load.requests for load in loads)
            if not answered <= recorded <= answered + 2 * HOST_CONNECTIONS:
                raise BenchmarkError(f"{NAME}: wrk counted {answered:,} answers, the ledger"
                                     f" recorded {recorded:,} reads")
        elif label == "bare":
            loads = _at_once(urls, seconds, token)
        else:
            loads = [wrk(urls[0], seconds, token)]
        _verified(loads, label)
        for url in urls:
            check(url, expected, token)
        return sum(load.rate for load in loads), max(load.p99_ms for load in loads)

    labels = ("bare", "postgresql", "sqlcipher")
    log(f"  warm-up ({scale.warmup} s each, not counted)")
    for label in labels:
        one(label, scale.warmup)
    rounds: dict[str, list[tuple[float, float]]] = {label: [] for label in labels}
    for number in range(scale.rounds):
        order = labels[number % 3:] + labels[:number % 3]
        for label in order:
            rounds[label].append(one(label, scale.seconds))
        bare, pg_, sq_ = (rounds[label][-1] for label in labels)
        log(f"  round {number + 1}: bare x2 {bare[0]:7,.0f} req/s; PostgreSQL x2 hosts"
            f" {pg_[0]:7,.0f} req/s, p99 {pg_[1]:.2f} ms (ratio {pg_[0] / bare[0]:.2f});"
            f" SQLCipher x1 host {sq_[0]:7,.0f} req/s; merge wait {ledger.waits[-1]:.2f} s")
    return rounds


# -- size -------------------------------------------------------------------------------------
def latency_ms(url: str, token: str, scale: Scale) -> float:
    """The median of ``latency_runs`` one-connection wrk runs' median latencies."""
    medians = []
    for _ in range(scale.latency_runs):
        done = subprocess.run(["wrk", "-t1", "-c1", f"-d{scale.latency_seconds}s", "--latency",
                               "-H", f"Authorization: Bearer {token}", url],
                              capture_output=True, text=True, timeout=scale.latency_seconds + 30)
        found = _P50.search(done.stdout)
        if done.returncode or not found or "Non-2xx" in done.stdout:
            raise BenchmarkError(f"{NAME}: wrk failed: {done.stdout[-500:]}")
        medians.append(float(found[1]) * _MS[found[2]])
    return median(medians)


# Per table: the rows of the read member that are copied, and the columns each copy changes
# (text gets "-N", bytes a SHA-256 with N) besides the member's id.
_COPIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("members", "id = %(member)s", ("email_index",)),
    ("member_logins", "member_id = %(member)s", ("email_index",)),
    ("profile_values", "member_id = %(member)s AND attribute IN ('given_name', 'city',"
                       " 'country')", ()),
    ("member_terms", "member_id = %(member)s", ()),
    ("member_brand_terms", "member_id = %(member)s", ()),
    ("grants", "member_id = %(member)s AND id = %(grant)s", ("id",)),
    ("pairwise_subjects", "member_id = %(member)s", ("pairwise_id",)),
    ("oauth_token_families", "member_id = %(member)s AND id = %(family)s", ("id",)),
    ("oauth_family_grants", "member_id = %(member)s AND family_id = %(family)s"
                            " AND grant_id = %(grant)s", ("family_id", "grant_id")),
    ("oauth_access_tokens", "member_id = %(member)s AND family_id = %(family)s",
     ("token_hash", "family_id")),
)


def grow(staged: Stage, members: int) -> None:
    """Copies of the read member's hot-path rows until the data database holds ``members``."""
    data = staged.vault.data
    have = int(data.one("SELECT count(*) FROM members")[0])
    family = data.one("SELECT family_id FROM oauth_family_grants WHERE grant_id = ?",
                      (staged.grant.id,))[0]
    values = {"member": f"'{staged.member_id}'", "grant": f"'{staged.grant.id}'",
              "family": f"'{family}'"}
    statements = []
    for table, where, varied in _COPIES:
        columns = [(name, kind) for name, kind in data.all(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?"
            " AND is_identity = 'NO' AND is_generated = 'NEVER' ORDER BY ordinal_position",
            (table,))]
        member_column = "id" if table == "members" else "member_id"

        def copied(name: str, kind: str, member_column: str = member_column,
                   varied: tuple[str, ...] = varied) -> str:
            if name == member_column:
                return "'bulk-' || g"
            if name in varied:
                return (f"sha256({name} || int8send(g))" if kind == "bytea"
                        else f"{name} || '-' || g")
            return name

        statements.append(
            f"INSERT INTO {table} ({', '.join(name for name, _ in columns)})"
            f" SELECT {', '.join(copied(name, kind) for name, kind in columns)}"
            f" FROM {table}, generate_series(CAST(? AS BIGINT), CAST(? AS BIGINT)) AS g"
            f" WHERE {where % values}")
    batch = 50_000
    started = time.perf_counter()
    for first in range(have, members, batch):
        last = min(members, first + batch) - 1
        with data.transaction():
            for statement in statements:
                data.execute(statement, (first, last))
        log(f"    {last + 1:,} members ({time.perf_counter() - started:.0f} s)")
    data.execute("ANALYZE")


# -- erasure ------------------------------------------------------------------------------------
def erasure_ms(staged: Stage, scale: Scale) -> list[float]:
    vault = staged.vault
    times = []
    for number in range(scale.erasures):
        member_id = add_members(vault, 1, first=10_000_000 + number)[0]
        vault.profile.update(member_id, {"given_name": "Erin", "city": "Gent",
                                         "interests": ["cycling"]})
        rows = drafts(10_000, members=1, seed=number, member=0)
        vault.feedback.add_many(entries(rows, [member_id], [staged.client.brand_id] * 8))
        started = time.perf_counter()
        vault.erasure.erase(member_id)
        times.append((time.perf_counter() - started) * 1000)
        left = vault.data.one("SELECT (SELECT count(*) FROM feedback WHERE member_id = ?)"
                              " + (SELECT count(*) FROM profile_values WHERE member_id = ?)"
                              " + (SELECT count(*) FROM members WHERE id = ?)",
                              (member_id, member_id, member_id))[0]
        if left or member_id in vault.key_store.holders():
            raise BenchmarkError(f"{NAME}: an erasure left {left} rows or the key")
    return times


def demo_seconds(root: Path, databases: Iterator[str], master_hex: str, members: int) -> float:
    places = Places(next(databases), next(databases), master_hex)
    home = root / "demo"
    _vrmvault(home, places, "init")
    started = time.perf_counter()
    out = _vrmvault(home, places, "demo", "--members", str(members))
    seconds = time.perf_counter() - started
    if f"Loaded {members} members" not in out:
        raise BenchmarkError(f"{NAME}: the demo did not report {members} members: {out[-300:]}")
    return seconds


# -- the run ----------------------------------------------------------------------------------
@contextlib.contextmanager
def throwaway_databases() -> Iterator[Iterator[str]]:
    """A throwaway cluster of Debian's PostgreSQL for the run, its durability left on
    (``tests/postgresql_server``): an endless supply of fresh databases' URLs, dropped with it
    at the end."""
    from tests.postgresql_server import Cluster

    cluster = Cluster()
    server = cluster.start(durable=True)
    try:
        with contextlib.ExitStack() as stack:
            def databases() -> Iterator[str]:
                while True:
                    yield stack.enter_context(server.database())

            yield databases()
    finally:
        cluster.stop()


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: two hosts x 1 worker on PostgreSQL, wrk -c{HOST_CONNECTIONS} each, against"
        f" the bare endpoint the same way and one SQLCipher host x 2 workers; {scale.rounds}"
        f" interleaved rounds of {scale.seconds} s; then {scale.members:,} members")
    with throwaway_databases() as made, fresh_directory() as root, \
            contextlib.ExitStack() as stack:
        places = Places(next(made), next(made), secrets.token_hex(32))
        pg = stage_on_postgresql(root, places)
        stack.callback(pg.vault.close)
        stack.callback(pg.consent.close)
        sq = brand_api.stage(brand_api.initialise(root / "sqlcipher"))
        stack.callback(sq.vault.close)
        stack.callback(sq.consent.close)
        environment = places.environment() | {
            "VRMVAULT_API_RATE_LIMIT": str(brand_api.RATE_LIMIT)}
        sqlcipher_environment = child_environment() | {
            "VRMVAULT_API_RATE_LIMIT": str(brand_api.RATE_LIMIT)}
        ports = [brand_api.free_port() for _ in range(5)]
        host_homes = [VaultHome(root / f"host-{n}") for n in (1, 2)]
        servers = [stack.enter_context(running(
            f"host-{n + 1}", [*command_line(), "--home", str(host_homes[n].root), "serve",
                              "--port", str(ports[n]), "--workers", "1"],
            ports[n], root, environment)) for n in (0, 1)]
        bares = [stack.enter_context(running(
            f"bare-{n}", [sys.executable, "-c", "from bench.brand_api import serve_bare;"
                          f" serve_bare({ports[n]}, {str(root)!r}, workers=1)"],
            ports[n], root, sqlcipher_environment)) for n in (2, 3)]
        single = stack.enter_context(running(
            "sqlcipher", [*command_line(), "--home", str(sq.home.root), "serve", "--port",
                          str(ports[4]), "--workers", "2"], ports[4], root,
            sqlcipher_environment))
        for serving in servers + [single]:
            brand_api.wait_until_serving(serving, "/api/v1/openapi.json")
        for serving in bares:
            brand_api.wait_until_serving(serving, BARE_PATH)
        ledger = Ledger(pg, host_homes)
        stack.callback(ledger.close)
        rounds = measure(pg, sq, [s.url for s in servers], [b.url for b in bares],
                         single.url, ledger, scale)
        report = ledger.ledger.verify()
        if not report.ok:
            raise BenchmarkError(f"{NAME}: the ledger does not verify: {report.summary()}")
        log(f"  ledger verified: {report.entries:,} entries from two hosts")

        url = servers[0].url + PROFILE_PATH
        add_members(pg.vault, max(0, 1_000 - int(pg.vault.data.one(
            "SELECT count(*) FROM members")[0])), first=1_000_000_000)
        small = latency_ms(url, pg.token, scale)
        log(f"  1,000 members: median latency {small:.3f} ms; growing to"
            f" {scale.members:,}")
        grow(pg, scale.members)
        large = latency_ms(url, pg.token, scale)
        log(f"  {scale.members:,} members: median latency {large:.3f} ms")
        erasures = erasure_ms(pg, scale)
        log(f"  erasures of 10,000 entries: {', '.join(f'{t:.1f}' for t in erasures)} ms")
        demo = demo_seconds(root, made, places.master_hex, scale.demo_members)
        log(f"  vrmvault demo --members {scale.demo_members:,}: {demo:.1f} s")
    bare_rates = [rate for rate, _ in rounds["bare"]]
    pg_rates = [rate for rate, _ in rounds["postgresql"]]
    sq_rates = [rate for rate, _ in rounds["sqlcipher"]]
    return [
        FIGURES[0].result(median([p / b for p, b in zip(pg_rates, bare_rates, strict=True)])),
        FIGURES[1].result(median([p99 for _, p99 in rounds["postgresql"]]),
                          median([p99 for _, p99 in rounds["bare"]])),
        FIGURES[2].result(median(pg_rates), median(sq_rates)),
        FIGURES[3].result(median([p / s for p, s in zip(pg_rates, sq_rates, strict=True)])),
        FIGURES[4].result(max(ledger.waits)),
        FIGURES[5].result(large / small),
        FIGURES[6].result(median(erasures)),
        FIGURES[7].result(demo),
    ]
