"""Sealed feedback writes per second: ``FeedbackService.add_many`` in batches of 5,000.

Batches of 5,000 entries of many members, as the demo loader writes them; one process, one
vault. Timed: only the ``add_many`` calls (sealing every comment under its member's key, then
one ``executemany`` per batch). The member-key cache is emptied first, so each member's key is
unwrapped once inside the timing, as a fresh process would. Baseline: the same writes into the
plaintext vault (informational; the target is on the encrypted rate alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import report
from .workload import (
    ENCRYPTED,
    PLAINTEXT,
    Draft,
    add_brands,
    add_members,
    batches,
    create_vault,
    drafts,
    entries,
)

NAME = "sealed_writes"
FIGURES = (report.Figure(NAME, "entries/s", report.Target(">=", 20_000, "/s")),)
BATCH = 5000
SEED = 11


@dataclass(frozen=True)
class Scale:
    entries: int
    members: int
    pairs: int


FULL = Scale(entries=100_000, members=1_000, pairs=5)
QUICK = Scale(entries=20_000, members=200, pairs=3)


def writes_per_second(variant: str, scale: Scale, rows: list[Draft]) -> float:
    with report.fresh_directory() as root:
        vault = create_vault(variant, root)
        try:
            brand_ids = add_brands(vault)
            member_ids = add_members(vault, scale.members)
            work = [entries(batch, member_ids, brand_ids) for batch in batches(rows, BATCH)]
            vault.key_store.forget_cached()
            seconds, _ = report.timed(lambda: [vault.feedback.add_many(batch) for batch in work])
            stored = vault.data.one("SELECT count(*) FROM feedback")[0]
        finally:
            vault.close()
    if stored != len(rows):
        raise report.BenchmarkError(
            f"{variant}: wrote {len(rows)} entries, the store holds {stored}")
    return len(rows) / seconds


def run(*, quick: bool) -> list[report.Result]:
    scale = QUICK if quick else FULL
    rows = drafts(scale.entries, members=scale.members, seed=SEED)
    report.log(f"{NAME}: {scale.entries:,} entries in batches of {BATCH:,},"
        f" {scale.pairs} interleaved pairs")

    def variant_run(variant: str) -> Callable[[], float]:
        def once() -> float:
            rate = writes_per_second(variant, scale, rows)
            report.log(f"  {variant:9}  {rate:9,.0f} entries/s")
            return rate
        return once

    rates = report.interleaved({v: variant_run(v) for v in (ENCRYPTED, PLAINTEXT)}, scale.pairs)
    return [FIGURES[0].result(report.median(rates[ENCRYPTED]), report.median(rates[PLAINTEXT]))]
