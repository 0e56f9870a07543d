"""The consent ledger at a million entries: append rate, end-to-end verify, inclusion proofs.

One fresh encrypted ledger (``consent.ledger.open_ledger``, its own SQLCipher file, periodic
checkpoints every 1,000 entries as in the product) is filled with 1,000,000 brand reads of
1,000 members by 50 brands, shaped as the gateway records them and so indexed as they are
(``--quick``: 50,000) through ``Ledger.record_events`` in batches of 1,000, each batch one
transaction, as the keeper merges the workers' spools. Three figures:

- ``ledger_append_rate``: entries per second over the whole fill: the entries appended over
  the time all the batches took, so what falls on some batches only (a signed checkpoint every
  1,000 entries, the WAL copied back into the store every so many pages) is paid in full, as
  a median of the batches would not. The median batch is logged beside it.
- ``ledger_verify_1m``: seconds for ``Ledger.verify()`` over the whole ledger (every body
  re-hashed, the tree rebuilt and compared, every checkpoint checked); median of 3 runs, each
  of which must report the ledger sound.
- ``ledger_inclusion_proof_1m``: milliseconds for ``Ledger.inclusion_proof`` of a random entry
  against the full tree; median of 1,000 random indexes, each proof checked afterwards with the
  third-party verifier (``consent.merkle.verify_inclusion``) outside the timing.

And one informational figure, the brand API's write (one ledger transaction per read):

- ``ledger_single_append_us``: microseconds for a one-entry ``record_events`` through a second
  connection to the filled ledger while a third connection appends one entry between each of
  its appends, as two web workers do; baseline: the same with nobody else appending.
  Each of those commits makes the other connection drop its page cache, which SQLCipher then
  re-reads and re-authenticates page by page. Median of interleaved rounds; run after the
  verify and proof figures, so it does not change them.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass

from consent.context import open_ledger
from consent.event_details import ProfileRead
from consent.events import Event
from consent.ledger import Ledger
from consent.merkle import verify_inclusion
from vault.home import VaultHome
from vault.keys import MasterKey

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median, timed

NAME = "ledger"
FIGURES = (
    Figure("ledger_append_rate", "entries/s", Target(">=", 20_000, "/s")),
    Figure("ledger_verify_1m", "s", Target("<", 10, " s")),
    Figure("ledger_inclusion_proof_1m", "ms", Target("<", 5, " ms")),
    Figure("ledger_single_append_us", "us", Target(">=", 0, " us", label="informational")),
)
BATCH = 1000
CHECKPOINT_EVERY = 1000
SEED = 3


@dataclass(frozen=True)
class Scale:
    entries: int
    verify_runs: int
    proofs: int
    single_rounds: int
    single_appends: int             # per round and mode


FULL = Scale(entries=1_000_000, verify_runs=3, proofs=1000, single_rounds=3,
             single_appends=2000)
QUICK = Scale(entries=50_000, verify_runs=3, proofs=300, single_rounds=3, single_appends=300)


def event_pool(size: int) -> list[Event]:
    """Brand reads as the gateway records them (``brand_gateway/reads.py``): a ``brand:`` actor,
    the member's ``member:`` principal, the client, purpose, fields and grants; pseudonyms and
    names only. Each is indexed for the member's access log and the console's search, as a real
    read is."""
    def digest(text: str, length: int = 32) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:length]

    fields = (["postal_code"], ["date_of_birth", "household_size"], ["interests"],
              ["given_name", "city"])
    return [Event.of(ProfileRead(member="member:" + digest(f"member-{i}"),
                                 client="client_" + digest(f"client-{i % 50}", 16),
                                 purpose="dpv:ServicePersonalisation", fields=fields[i % 4],
                                 grants=["grant_" + digest(f"grant-{i}", 24)]),
                     "brand:brand_" + digest(f"brand-{i % 50}", 16))
            for i in range(size)]


def fill(ledger: Ledger, entries: int) -> list[tuple[int, float]]:
    """Append ``entries`` events in batches; the size and seconds of each batch."""
    pool = event_pool(BATCH)
    rates: list[tuple[int, float]] = []
    started = time.perf_counter()
    while ledger.size < entries:
        batch = pool[:min(BATCH, entries - ledger.size)]
        seconds, _ = timed(lambda batch=batch: ledger.record_events(batch))
        rates.append((len(batch), seconds))
        if len(rates) % 100 == 0:
            log(f"  {ledger.size:>9,} entries, {time.perf_counter() - started:5.1f} s")
    return rates


def verify_seconds(ledger: Ledger) -> float:
    seconds, report = timed(ledger.verify)
    if not report.ok or report.entries != ledger.size:
        raise BenchmarkError(f"{NAME}: verify did not pass: {report.summary()}")
    log(f"  verify {report.entries:,} entries, {report.checkpoints:,} checkpoints:"
        f" {seconds:.2f} s")
    return seconds


def proof_milliseconds(ledger: Ledger, count: int) -> list[float]:
    size = ledger.size
    root = ledger.root(size)
    chooser = random.Random(SEED)
    times, checks = [], []
    for _ in range(count):
        index = chooser.randrange(size)
        started = time.perf_counter()
        proof = ledger.inclusion_proof(index, size)
        times.append((time.perf_counter() - started) * 1000)
        checks.append((index, proof))
    for index, proof in checks:
        if not verify_inclusion(ledger.entry(index).leaf_hash, index, size, proof, root):
            raise BenchmarkError(f"{NAME}: the inclusion proof of entry {index} does not verify")
    return times


def single_appends(home: VaultHome, master: MasterKey, scale: Scale
                   ) -> tuple[list[float], list[float]]:
    """Microseconds per one-entry append through one connection, per round: with another
    connection appending in between, and alone."""
    pool = event_pool(scale.single_appends)
    shared: list[float] = []
    alone: list[float] = []
    with open_ledger(home, master, checkpoint_every=CHECKPOINT_EVERY) as measured, \
            open_ledger(home, master, checkpoint_every=CHECKPOINT_EVERY) as other:
        for _ in range(scale.single_rounds):
            for results, interleaved in ((shared, True), (alone, False)):
                total = 0.0
                for event in pool:
                    if interleaved:
                        other.record_events([event])
                    started = time.perf_counter()
                    measured.record_events([event])
                    total += time.perf_counter() - started
                results.append(total / len(pool) * 1e6)
            log(f"  one-entry append: {shared[-1]:.0f} us with another writer,"
                f" {alone[-1]:.0f} us alone")
    return shared, alone


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: {scale.entries:,} entries in batches of {BATCH:,}, checkpoints every"
        f" {CHECKPOINT_EVERY:,}; {scale.verify_runs} verify runs, {scale.proofs:,} proofs")
    with fresh_directory() as root:
        home, master = VaultHome(root), MasterKey.generate()
        ledger = open_ledger(home, master, checkpoint_every=CHECKPOINT_EVERY)
        try:
            batches = fill(ledger, scale.entries)
            rate = sum(n for n, _ in batches) / sum(seconds for _, seconds in batches)
            log(f"  append: {rate:,.0f} entries/s over {len(batches):,} batches (the median"
                f" batch {median([n / seconds for n, seconds in batches]):,.0f}/s)")
            verify = [verify_seconds(ledger) for _ in range(scale.verify_runs)]
            proofs = proof_milliseconds(ledger, scale.proofs)
            log(f"  inclusion proof: median {median(proofs):.3f} ms, max {max(proofs):.3f} ms")
            shared, alone = single_appends(home, master, scale)
            report = ledger.verify()
            if not report.ok:
                raise BenchmarkError(f"{NAME}: after the one-entry appends the ledger does not"
                                     f" verify: {report.summary()}")
        finally:
            ledger.close()
    return [FIGURES[0].result(rate), FIGURES[1].result(median(verify)),
            FIGURES[2].result(median(proofs)),
            FIGURES[3].result(median(shared), median(alone))]
