"""What every benchmark shares: targets, results, repetition, temporary homes, the table.

Invariants:
- A result is measured, never assumed: a benchmark that cannot verify what it timed raises
  :class:`BenchmarkError` instead of returning a figure.
- Compared variants run in the same process and the same run, interleaved (A B, B A, A B, ...),
  so drift on a noisy machine (thermal, other tenants, the page cache) hits both alike; the
  figure reported is the median of the repetitions.
- Every repetition gets its own temporary directory, removed afterwards.
- ``results.json`` is a list of objects with exactly the keys of :data:`RESULT_KEYS`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import operator
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

RESULT_KEYS = ("name", "value", "unit", "baseline", "ratio", "target", "met")
RESULTS_FILE = Path(__file__).with_name("results.json")

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class BenchmarkError(Exception):
    """A benchmark could not run, or what it measured did not do what it should have."""


@dataclass(frozen=True)
class Target:
    """A figure's target: ``value`` (or, with ``on_ratio``, the ratio) compared with ``limit``."""

    comparison: str                 # one of "<", "<=", ">", ">="
    limit: float
    suffix: str                     # as printed after the limit: "x", "/s", " ms", " MB"
    on_ratio: bool = False
    label: str = ""                 # printed before the comparison, e.g. "raw open"

    def __str__(self) -> str:
        prefix = f"{self.label} " if self.label else ""
        return f"{prefix}{self.comparison} {self.limit:g}{self.suffix}"

    def met_by(self, value: float | None, ratio: float | None) -> bool:
        subject = ratio if self.on_ratio else value
        return subject is not None and _OPERATORS[self.comparison](subject, self.limit)


@dataclass(frozen=True)
class Figure:
    """One line of the report, declared before it is measured (so a failure still has a line)."""

    name: str
    unit: str
    target: Target

    def result(self, value: float, baseline: float | None = None) -> Result:
        return Result(self, value, baseline)

    def failed(self) -> Result:
        return Result(self, None, None)


@dataclass(frozen=True)
class Result:
    figure: Figure
    value: float | None             # None: the benchmark failed, see its error on stderr
    baseline: float | None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool:
        return self.figure.target.met_by(self.value, self.ratio)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.figure.name,
            "value": _rounded(self.value),
            "unit": self.figure.unit,
            "baseline": _rounded(self.baseline),
            "ratio": _rounded(self.ratio),
            "target": str(self.figure.target),
            "met": self.met,
        }


# -- measuring ------------------------------------------------------------------------------
def log(message: str) -> None:
    """Progress and detail for the person watching: stderr, so stdout is just the table."""
    print(message, file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(action: Callable[[], T], *, collect: bool = True) -> tuple[float, T]:
    """Seconds ``action`` took, and what it returned.

    With ``collect``, garbage is collected before, so a collection of the previous run's garbage
    does not land inside this one. Sub-millisecond actions pass ``collect=False``: a full
    collection walks the heap and leaves the CPU caches cold, which would then be measured.
    """
    if collect:
        gc.collect()
    started = time.perf_counter()
    outcome = action()
    return time.perf_counter() - started, outcome


def interleaved(variants: Mapping[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Run every variant ``rounds`` times, alternating which goes first (A B, B A, A B, ...)."""
    outcomes: dict[str, list[T]] = {name: [] for name in variants}
    order = list(variants)
    for round_number in range(rounds):
        for name in order if round_number % 2 == 0 else reversed(order):
            outcomes[name].append(variants[name]())
    return outcomes


@contextlib.contextmanager
def fresh_directory() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="vrmvault-bench-") as name:
        yield Path(name)


# -- reporting ------------------------------------------------------------------------------
_COLUMNS = ("name", "value", "unit", "baseline", "ratio", "target", "met")


def table(results: Sequence[Result], *, quick: bool, context: str) -> str:
    rows = [
        (r.figure.name, _shown(r.value), r.figure.unit, _shown(r.baseline),
         "-" if r.ratio is None else f"{r.ratio:.2f}x", str(r.figure.target),
         "FAILED" if r.value is None else "yes" if r.met else "NO")
        for r in results
    ]
    columns = zip(_COLUMNS, *rows, strict=True)
    widths = [max(len(cell) for cell in column) for column in columns]
    right = {1, 3, 4}                                    # numbers line up on the right

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    title = "vrmvault benchmarks"
    if quick:
        title = ("QUICK RUN (reduced sizes: a smoke run, not comparable with the targets) - "
                 + title)
    return "\n".join([title, context, "", line(_COLUMNS), line(["-" * w for w in widths]),
                      *(line(row) for row in rows)])


def write_results(results: Sequence[Result], path: Path = RESULTS_FILE, *,
                  merge: bool = False) -> None:
    """Write ``results``; with ``merge`` (an ``--only`` run), keep the other figures that the
    file already holds, so a partial run never wipes a full one."""
    documents = [r.as_json() for r in results]
    assert all(tuple(d) == RESULT_KEYS for d in documents)
    if merge and path.exists():
        fresh = {d["name"] for d in documents}
        try:
            kept = [d for d in json.loads(path.read_text()) if d.get("name") not in fresh]
        except (ValueError, AttributeError):
            kept = []
        documents = kept + documents
    path.write_text(json.dumps(documents, indent=2) + "\n")


def _rounded(number: float | None) -> float | None:
    return None if number is None else float(f"{number:.6g}")


def _shown(number: float | None) -> str:
    if number is None:
        return "-"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 10:
        return f"{number:.1f}"
    return f"{number:.3g}" if abs(number) >= 0.01 else f"{number:.2g}"
