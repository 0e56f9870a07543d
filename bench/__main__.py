"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print, write results.json.

Exit status: 0 when every benchmark ran (and, in a full run, met its target); 1 when a full run
missed a target; 2 when a benchmark failed (its lines say FAILED, the reason is on stderr).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import traceback

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
    options = parser.parse_args(argv)
    chosen = [name for name in BENCHMARKS if not options.only or name in options.only]

    started = time.perf_counter()
    results: list[Result] = []
    failed = False
    for name in chosen:
        module = BENCHMARKS[name]
        log(f"== {name}")
        try:
            results += module.run(quick=options.quick)
        except Exception as exc:  # one failure must not hide the others
            failed = True
            log(f"{name} FAILED: {exc}")
            if not isinstance(exc, BenchmarkError):
                traceback.print_exc()
            results += [figure.failed() for figure in module.FIGURES]
    write(results, merge=bool(options.only))
    print(table(results, quick=options.quick, context=context()))
    log(f"\nwrote {RESULTS_FILE} ({len(results)} results) in "
        f"{time.perf_counter() - started:.0f} s")
    if failed:
        return 2
    return 1 if not options.quick and not all(r.met for r in results) else 0


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
