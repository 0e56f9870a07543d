"""The console's ledger search and exports at a million entries.

One encrypted ledger (``consent.context.open_ledger``, checkpoints every 1,000 entries as in the
product) of 1,000,000 entries (``--quick``: 50,000) over a year: brand reads (70 %), grants,
withdrawals, receipts, terms changes and community joins, by 50 brands (``brand_00`` in about
103,000 entries), about 20,000 members, 8 purposes; one read in six merged late from a spool
(its time a few seconds before the entries around it). Built once through
``Ledger.record_events`` and kept in a cache folder (``$VRMVAULT_BENCH_CACHE``, default
``~/.cache/vrmvault-bench``), keyed by the generator's version and a digest of the ledger
store's migrations, so later runs start at once; a changed schema or generator builds it
again. Figures:

- ``ledger_search_first_page_1m``: milliseconds for the first page (50 entries, bodies
  included) through :class:`consent.ledger_search.LedgerSearch`: the slowest filter's median
  of 7 runs, over the filter combinations of :func:`filters` (each alone and combined, a tag
  prefix, a time range, a rare combination). Measured where a search costs most: a copy of
  the ledger topped up with more entries of the same mix until one row short of a fold
  (``FOLD_ROWS - 1`` recent rows, which every search scans beside its index walk,
  consent/sqlcipher/ledger.py).
- ``ledger_search_deep_page_1m``: the same for the page half-way down the matches, by the
  cursor the search hands out for it, the slowest filter's median.
- ``ledger_export_100k_csv``: seconds for a CSV export of the ~103,000 entries of ``brand_00``
  (spread over the whole tree: the least sharing of path nodes) with their inclusion proofs;
  median of 3; every proof of the first run checked with ``consent.merkle.verify_inclusion``
  outside the timing.

Informational: ``ledger_search_backfill_1m`` (seconds for migration 2's fill of the index over
the whole ledger, on a copy, as ``vrmvault init`` would run it on an existing ledger) and
``ledger_console_verify_1m`` (``Ledger.verify()``, what the console's button runs).
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from consent.context import ledger_path, open_ledger
from consent.event_details import (
    CommunityJoined,
    GrantGiven,
    GrantWithdrawn,
    ProfileRead,
    ReceiptIssued,
    TermsChanged,
)
from consent.events import Event
from consent.ledger import Ledger
from consent.ledger_export import open_export
from consent.ledger_search import LedgerQuery, LedgerSearch, tags_matching
from consent.merkle import verify_inclusion
from consent.sqlcipher.ledger import FOLD_ROWS
from vault import migrations, schema
from vault.clock import FrozenClock
from vault.home import VaultHome
from vault.keys import MasterKey

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median, timed

NAME = "ledger_search"
FIGURES = (
    Figure("ledger_search_first_page_1m", "ms", Target("<", 200, " ms")),
    Figure("ledger_search_deep_page_1m", "ms", Target("<", 200, " ms")),
    Figure("ledger_export_100k_csv", "s", Target("<", 10, " s")),
    Figure("ledger_search_backfill_1m", "s", Target(">=", 0, " s", label="informational")),
    Figure("ledger_console_verify_1m", "s", Target(">=", 0, " s", label="informational")),
)
GENERATOR = 1
BATCH = 1000
START = 1_767_225_600                   # 2026-01-01T00:00:00Z
YEAR = 365 * 86_400
PURPOSES = ("dpv:ServiceProvision", "dpv:Marketing", "dpv:Personalisation",
            "dpv:ResearchAndDevelopment", "dpv:ServiceOptimisation", "dpv:CustomerCare",
            "dpv:CommunityEngagement", "dpv:Advertising")
PAGE = 50
RUNS = 7


@dataclass(frozen=True)
class Scale:
    entries: int
    members: int
    export_runs: int


FULL = Scale(entries=1_000_000, members=20_000, export_runs=3)
QUICK = Scale(entries=50_000, members=1_000, export_runs=3)


def _member(n: int) -> str:
    return "member:" + hashlib.sha256(f"member-{n}".encode()).hexdigest()[:32]


def _brand(i: int) -> str:
    return "brand_00" if i % 25 < 3 else f"brand_{1 + i % 49:02d}"


def events(first: int, count: int, scale: Scale, chooser: random.Random) -> list[Event]:
    """Entries ``first`` onwards: pseudonyms and ids only, times spread over the year."""
    made = []
    step = YEAR / scale.entries
    for i in range(first, first + count):
        at = START + i * step
        member = _member(chooser.randrange(scale.members))
        brand = _brand(i)
        purpose = PURPOSES[chooser.randrange(len(PURPOSES))]
        kind = chooser.random()
        if kind < 0.70:
            late = chooser.random() < 1 / 6
            made.append(Event.of(ProfileRead(
                member=member, client="client_" + brand[6:], purpose=purpose,
                fields=["city", "postal_code"], grants=[f"grant_{i % 7919}"]),
                "brand:" + brand, at=at - (chooser.uniform(1, 20) if late else 0)))
        elif kind < 0.82:
            made.append(Event.of(GrantGiven(
                grant=f"grant_{i}", brand=brand, purpose=purpose, fields=["city"],
                mode="shared", ends_at=START + 2 * YEAR, version=1), member, at=at))
        elif kind < 0.86:
            made.append(Event.of(GrantWithdrawn(
                grant=f"grant_{i - 1}", brand=brand, purpose=purpose, fields=["city"],
                mode="shared", ends_at=START + 2 * YEAR, version=2), member, at=at))
        elif kind < 0.96:
            made.append(Event.of(ReceiptIssued(
                receipt=f"rcpt_{i}", grant=f"grant_{i - 1}",
                sha256=hashlib.sha256(f"rcpt_{i}".encode()).hexdigest()), member, at=at))
        elif kind < 0.99:
            made.append(Event.of(TermsChanged(
                version=2, purposes=list(PURPOSES[:1 + i % 4]), max_days=365), member, at=at))
        else:
            made.append(Event.of(CommunityJoined(
                community="com_" + brand[6:], brand=brand, grants=[f"grant_{i}"]), member,
                at=at))
    return made


def cache_root() -> Path:
    return Path(os.environ.get("VRMVAULT_BENCH_CACHE")
                or Path.home() / ".cache" / "vrmvault-bench")


def cached_ledger(scale: Scale) -> tuple[VaultHome, MasterKey]:
    """The ledger of ``scale``, built once (see the module docstring)."""
    ledger_schema = hashlib.sha256("".join(m.sql for m in schema.LEDGER.migrations).encode())
    folder = cache_root() / f"{NAME}-g{GENERATOR}-{ledger_schema.hexdigest()[:12]}-{scale.entries}"
    key_file = folder / "master.key"
    home = VaultHome(folder / "var")
    if key_file.exists() and (folder / "complete").exists():
        log(f"  cached ledger: {folder}")
        return home, MasterKey(key_file.read_bytes())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    material = os.urandom(32)
    key_file.write_bytes(material)           # a synthetic ledger's key, kept beside it
    master = MasterKey(material)
    clock = FrozenClock(START)
    chooser = random.Random(11)
    started = time.perf_counter()
    with open_ledger(home, master, clock=clock) as ledger:
        written = 0
        while written < scale.entries:
            count = min(BATCH, scale.entries - written)
            # The clock follows the entries, so checkpoints are signed in their time.
            clock.now = START + (written + count) * YEAR / scale.entries
            ledger.record_events(events(written, count, scale, chooser))
            written += count
            if written % 100_000 == 0:
                log(f"  built {written:>9,} entries, {time.perf_counter() - started:5.1f} s")
        log(f"  built the ledger: {ledger.size:,} entries in"
            f" {time.perf_counter() - started:.0f} s")
    (folder / "complete").write_text("ok\n")
    return home, master


def filters() -> dict[str, LedgerQuery]:
    """Each filter alone and combined, a tag prefix, time ranges, a rare combination."""
    member = _member(7)
    week = (START + 200 * 86_400, START + 207 * 86_400)
    return {
        "none": LedgerQuery(),
        "brand 2%": LedgerQuery(brand="brand_07"),
        "brand 10%": LedgerQuery(brand="brand_00"),
        "tag": LedgerQuery(tags=("consent:grant:withdrawn",)),
        "tag prefix consent:": LedgerQuery(tags=tags_matching("consent:")),
        "purpose": LedgerQuery(purpose="dpv:Marketing"),
        "pseudonym": LedgerQuery(principal=member),
        "brand+tag": LedgerQuery(brand="brand_07", tags=("consent:grant:given",)),
        "brand+purpose": LedgerQuery(brand="brand_07", purpose="dpv:Marketing"),
        "purpose+brand+prefix": LedgerQuery(brand="brand_00", purpose="dpv:Advertising",
                                            tags=tags_matching("consent:grant:")),
        "week": LedgerQuery(since=week[0], until=week[1]),
        "brand+week": LedgerQuery(brand="brand_07", since=week[0], until=week[1]),
        "pseudonym+prefix+purpose": LedgerQuery(principal=member, purpose="dpv:Marketing",
                                                tags=tags_matching("access:")),
        "rare: brand+tag": LedgerQuery(brand="brand_07", tags=("community:member:joined",)),
        "all filters": LedgerQuery(brand="brand_00", purpose="dpv:Marketing",
                                   tags=("access:profile:read",), principal=member,
                                   since=START, until=START + YEAR),
    }


def top_up(ledger: Ledger, scale: Scale) -> int:
    """Append entries of the same mix until the recent search rows are one short of a fold;
    how many there are then."""
    chooser = random.Random(13)

    def waiting() -> int:
        return int(ledger.database.one("SELECT count(*) FROM search_recent")[0])

    while (short := FOLD_ROWS - 1 - waiting()) > 0:
        ledger.record_events(events(ledger.size, min(BATCH, short), scale, chooser))
    return waiting()


def page_times(ledger: Ledger, queries: dict[str, LedgerQuery]
               ) -> tuple[dict[str, float], dict[str, float]]:
    """Per filter: the median milliseconds of the first page and of a page half-way down
    (reached by the cursor the search hands out for it)."""
    assert ledger.search_index is not None
    search = LedgerSearch(ledger.search_index, b"bench" * 8)
    first, deep = {}, {}
    for name, query in queries.items():
        total = search.count(query)
        firsts, deeps = [], []
        for _ in range(RUNS):
            seconds, page = timed(lambda query=query: search.page(query, size=PAGE),
                                  collect=False)
            firsts.append(seconds * 1000)
            if len(page.hits) != min(PAGE, total):
                raise BenchmarkError(f"{NAME}: {name!r} gave {len(page.hits)} entries")
        if total > 2 * PAGE:
            middle = search.index.search(query, before=None, limit=total // 2)[-1].position
            cursor = search.cursor_at(query, middle)
            for _ in range(RUNS):
                seconds, page = timed(lambda q=query, c=cursor: search.page(q, c, size=PAGE),
                                      collect=False)
                deeps.append(seconds * 1000)
                if len(page.hits) != PAGE or page.hits[0].position >= middle:
                    raise BenchmarkError(f"{NAME}: the deep page of {name!r} is not the"
                                         " page below its cursor")
        first[name] = median(firsts)
        deep[name] = median(deeps) if deeps else first[name]
        log(f"  {name:<26} {total:>9,} matches: first page {first[name]:7.2f} ms,"
            f" half-way down {deep[name]:7.2f} ms")
    return first, deep


def export_seconds(ledger: Ledger, runs: int) -> float:
    query = LedgerQuery(brand="brand_00")
    times = []
    for run in range(runs):
        exporting = open_export(ledger, query)
        size = 0

        def write(exporting=exporting) -> int:
            written = 0
            for chunk in exporting.chunks("csv"):
                written += len(chunk)
            return written

        seconds, size = timed(write)
        times.append(seconds)
        log(f"  CSV export of brand_00 with proofs: {seconds:.2f} s, {size / 1e6:.0f} MB")
        if run == 0:
            check_export(ledger, query)
    return median(times)


def check_export(ledger: Ledger, query: LedgerQuery) -> None:
    exporting = open_export(ledger, query)
    checkpoint = exporting.checkpoint
    count = 0
    for exported in exporting.entries():
        entry = ledger.entry(exported.hit.row.seq)
        proof = [base64.b64decode(node) for node in exported.proof]
        if entry.body != exported.hit.body or not verify_inclusion(
                entry.leaf_hash, entry.seq, checkpoint.tree_size, proof, checkpoint.root_hash):
            raise BenchmarkError(f"{NAME}: the exported proof of entry {entry.seq} fails")
        count += 1
    log(f"  checked {count:,} exported proofs against the checkpoint of"
        f" {checkpoint.tree_size:,} entries")


def backfill_seconds(home: VaultHome, master: MasterKey) -> float:
    """Migration 2's fill over a copy of the ledger emptied of its index rows."""
    step = next(m for m in schema.LEDGER.migrations if m.name == "search_index")
    with fresh_directory() as root:
        copy = VaultHome(root / "var")
        copy.root.mkdir(parents=True)
        shutil.copy(ledger_path(home), ledger_path(copy))
        with open_ledger(copy, master) as ledger:
            database = ledger.database
            expected = database.one("SELECT (SELECT count(*) FROM search_index)"
                                    " + (SELECT count(*) FROM search_recent)")[0]
            with database.transaction():
                database.execute("DELETE FROM search_purposes")
                database.execute("DELETE FROM search_index")
                database.execute("DELETE FROM search_recent")

            def fill() -> None:
                with database.transaction():
                    for statement in migrations.statements(step.sql):
                        if statement.startswith("INSERT"):
                            database.execute(statement)

            seconds, _ = timed(fill)
            if database.one("SELECT count(*) FROM search_index")[0] != expected:
                raise BenchmarkError(f"{NAME}: the backfill did not index every entry")
    log(f"  migration 2's backfill of {expected:,} entries: {seconds:.1f} s")
    return seconds


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: {scale.entries:,} entries, {scale.members:,} members")
    home, master = cached_ledger(scale)
    with fresh_directory() as root:
        # A copy, so the exports' checkpoints never change the cached ledger.
        work = VaultHome(root / "var")
        work.root.mkdir(parents=True)
        shutil.copy(ledger_path(home), ledger_path(work))
        with open_ledger(work, master, clock=FrozenClock(START + YEAR),
                         checkpoint_every=0) as ledger:
            waiting = top_up(ledger, scale)
            log(f"  topped up to {ledger.size:,} entries, {waiting:,} of them recent")
            first, deep = page_times(ledger, filters())
            slowest_first = max(first, key=first.__getitem__)
            slowest_deep = max(deep, key=deep.__getitem__)
            log(f"  slowest first page: {slowest_first} ({first[slowest_first]:.2f} ms);"
                f" slowest deep page: {slowest_deep} ({deep[slowest_deep]:.2f} ms)")
            export = export_seconds(ledger, scale.export_runs)
            verify, report = timed(ledger.verify)
            if not report.ok:
                raise BenchmarkError(f"{NAME}: the ledger does not verify: {report.summary()}")
            log(f"  verify {report.entries:,} entries: {verify:.1f} s")
        backfill = backfill_seconds(work, master)
    return [FIGURES[0].result(first[slowest_first]), FIGURES[1].result(deep[slowest_deep]),
            FIGURES[2].result(export), FIGURES[3].result(backfill),
            FIGURES[4].result(verify)]
