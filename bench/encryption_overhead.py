"""What encryption costs on the store's own workload: SQLCipher plus sealing, against neither.

The workload, through the product's services: create the members (``MemberService.insert``,
one key each), insert the feedback entries in batches (``FeedbackService.add_many``), reopen the
vault and read every member's journal back (``FeedbackService.for_member``: one key unwrap and
one open per comment), then aggregate by touchpoint over everyone and per brand
(``FeedbackService.by_touchpoint``). The plaintext variant runs exactly the same code over
``unsafe_open_plaintext_vault``. Reopening between the phases (untimed) empties the page cache
and the member-key cache, as a new request in the web app finds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vault.home import Vault

from .report import (
    BenchmarkError,
    Figure,
    Result,
    Target,
    fresh_directory,
    interleaved,
    log,
    median,
    timed,
)
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
    reopen_vault,
)

NAME = "encryption_overhead"
# Headline: entries committed 5,000 at a time, as the product's bulk writers commit them (the
# demo loader commits ~4,000 per 1,000-member batch; sealed_writes uses 5,000). Also reported:
# 1,000 per commit, where SQLCipher's per-page cost weighs more (each commit rewrites most
# index pages when entries fall on random members). Both against the same target.
BATCHES = {NAME: 5000, NAME + "_commit_1000": 1000}
FIGURES = tuple(Figure(name, "s", Target("<=", 1.3, "x", on_ratio=True)) for name in BATCHES)
SEED = 7


@dataclass(frozen=True)
class Scale:
    entries: int
    members: int
    pairs: int


FULL = Scale(entries=100_000, members=1_000, pairs=5)
QUICK = Scale(entries=10_000, members=100, pairs=3)


@dataclass(frozen=True)
class Phases:
    insert: float
    read: float
    aggregate: float

    @property
    def total(self) -> float:
        return self.insert + self.read + self.aggregate


def workload(variant: str, scale: Scale, rows: list[Draft], batch_size: int) -> Phases:
    with fresh_directory() as root:
        vault = create_vault(variant, root)
        try:
            brand_ids = add_brands(vault)
            members_seconds, member_ids = timed(lambda: add_members(vault, scale.members))
            # Turning drafts into FeedbackInput tuples is the benchmark's work, not the store's.
            work = [entries(batch, member_ids, brand_ids) for batch in batches(rows, batch_size)]
            feedback_seconds, _ = timed(lambda: [vault.feedback.add_many(b) for b in work])
        finally:
            vault.close()
        read_seconds, read = _reopened(variant, root, lambda v: sum(
            len(v.feedback.for_member(member_id)) for member_id in member_ids
        ))
        # Every entry counted twice: once over everyone, once within its brand.
        aggregate_seconds, counted = _reopened(variant, root, lambda v: sum(
            summary.entries for brand in (None, *brand_ids)
            for summary in v.feedback.by_touchpoint(brand)
        ))
    if read != len(rows) or counted != 2 * len(rows):
        raise BenchmarkError(f"{variant}: stored {len(rows)} entries, read back {read},"
                             f" aggregated {counted // 2}")
    return Phases(members_seconds + feedback_seconds, read_seconds, aggregate_seconds)


def _reopened(variant: str, root: Path, action: Callable[[Vault], int]) -> tuple[float, int]:
    vault = reopen_vault(variant, root)
    try:
        return timed(lambda: action(vault))
    finally:
        vault.close()


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    rows = drafts(scale.entries, members=scale.members, seed=SEED)
    log(f"{NAME}: {scale.entries:,} entries for {scale.members:,} members,"
        f" {scale.pairs} interleaved pairs")
    warm_up = Scale(scale.entries // 10, max(1, scale.members // 10), 1)
    warm_up_rows = drafts(warm_up.entries, members=warm_up.members, seed=SEED)
    for variant in (ENCRYPTED, PLAINTEXT):           # imports, allocator, file cache
        workload(variant, warm_up, warm_up_rows, BATCHES[NAME])
    return [result for figure in FIGURES
            for result in _compare(figure, scale, rows, BATCHES[figure.name])]


def _compare(figure: Figure, scale: Scale, rows: list[Draft], batch_size: int) -> list[Result]:
    log(f"{figure.name}: {batch_size:,} entries per commit")

    def variant_run(variant: str) -> Callable[[], Phases]:
        def once() -> Phases:
            phases = workload(variant, scale, rows, batch_size)
            log(f"  {variant:9}  {phases.total:7.2f} s  (insert {phases.insert:.2f},"
                f" read {phases.read:.2f}, aggregate {phases.aggregate:.2f})")
            return phases
        return once

    runs = interleaved({v: variant_run(v) for v in (ENCRYPTED, PLAINTEXT)}, scale.pairs)
    log(f"{figure.name}: phase medians (s)    insert     read  aggregate    total")
    for variant, phases in runs.items():
        log(f"  {variant:22} {median([p.insert for p in phases]):8.2f}"
            f" {median([p.read for p in phases]):8.2f}"
            f" {median([p.aggregate for p in phases]):10.3f}"
            f" {median([p.total for p in phases]):8.2f}")
    # Diagnostic only: each pair ran back to back, so its ratio is least touched by drift.
    pair_ratios = [e.total / p.total for e, p in zip(runs[ENCRYPTED], runs[PLAINTEXT],
                                                     strict=True)]
    log(f"  ratio per pair: {', '.join(f'{r:.2f}' for r in pair_ratios)};"
        f" median {median(pair_ratios):.2f}")
    return [figure.result(median([p.total for p in runs[ENCRYPTED]]),
                          median([p.total for p in runs[PLAINTEXT]]))]
