"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print, write results.json.

Each benchmark runs in a process of its own (this command started again with ``--one NAME``,
which hands its figures back in a file): what one benchmark leaves behind (a heap grown to a
gigabyte, objects for the collector to walk, native caches) cannot slow or shrink the next
one's figures, so a figure does not depend on which benchmarks ran before it.

Exit status: 0 when every benchmark ran (and, in a full run, met its target); 1 when a full run
missed a target; 2 when a benchmark failed (its lines say FAILED, the reason is on stderr).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType

from vault.sqlcipher.database import Database

from . import BENCHMARKS
from .report import RESULTS_FILE, BenchmarkError, Result, fresh_directory, log, table
from .report import write_results as write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="reduced sizes for a smoke run (not comparable with the targets)")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                        help="run only this benchmark (repeatable): "
                             + ", ".join(BENCHMARKS))
    parser.add_argument("--one", choices=sorted(BENCHMARKS), help=argparse.SUPPRESS)
    parser.add_argument("--figures-to", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.one:
        return one(BENCHMARKS[options.one], quick=options.quick, figures=options.figures_to)
    chosen = [name for name in BENCHMARKS if not options.only or name in options.only]

    started = time.perf_counter()
    results: list[Result] = []
    failed = False
    for name in chosen:
        module = BENCHMARKS[name]
        log(f"== {name}")
        measured = in_a_process_of_its_own(module, quick=options.quick)
        if measured is None:
            failed = True
            measured = [figure.failed() for figure in module.FIGURES]
        results += measured
    write(results, merge=bool(options.only))
    print(table(results, quick=options.quick, context=context()))
    log(f"\nwrote {RESULTS_FILE} ({len(results)} results) in "
        f"{time.perf_counter() - started:.0f} s")
    if failed:
        return 2
    return 1 if not options.quick and not all(r.met for r in results) else 0


def in_a_process_of_its_own(module: ModuleType, *, quick: bool) -> list[Result] | None:
    """Run ``module`` in a new process; its results, or None if it failed (it says why)."""
    with tempfile.TemporaryDirectory(prefix="vrmvault-bench-") as folder:
        figures = Path(folder) / "figures.json"
        done = subprocess.run([sys.executable, "-m", "bench", "--one", module.NAME,
                               "--figures-to", str(figures), *(["--quick"] if quick else [])],
                              check=False)
        if done.returncode or not figures.exists():
            return None
        measured = json.loads(figures.read_text())
    by_name = {figure.name: figure for figure in module.FIGURES}
    return [Result(by_name[m["name"]], m["value"], m["baseline"]) for m in measured]


def one(module: ModuleType, *, quick: bool, figures: Path) -> int:
    """``--one NAME``: run one benchmark here and write its figures to ``figures``."""
    try:
        results = module.run(quick=quick)
    except Exception as exc:
        log(f"{module.NAME} FAILED: {exc}")
        if not isinstance(exc, BenchmarkError):
            traceback.print_exc()
        return 2
    figures.write_text(json.dumps([{"name": r.figure.name, "value": r.value,
                                    "baseline": r.baseline} for r in results]))
    return 0


def context() -> str:
    with fresh_directory() as root:
        database = Database.open(root / "probe.db", os.urandom(32), create=True)
        cipher = database.one("PRAGMA cipher_version")[0]
        sqlite = database.one("SELECT sqlite_version()")[0]
        database.close()
    return (f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            f"SQLite {sqlite}, SQLCipher {cipher}")


if __name__ == "__main__":
    sys.exit(main())
