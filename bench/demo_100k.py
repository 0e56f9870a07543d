"""Loading 100,000 demo members from the command line: wall time and peak memory.

Each repetition runs ``vrmvault --home TMP init`` and then, timed, ``vrmvault --home TMP demo
--members 100000`` as a child process, exactly as an operator would. Peak memory is the child's
maximum resident set size as the kernel reports it when the child is reaped (``os.wait4``), read
by a small process in between (``bench/peak_rss.py``: a child forked straight from this one,
grown by the benchmarks before it, would be charged this one's size). The load is checked: the
command must succeed and report every member loaded. Reported: the median wall time, and the
largest peak seen over the repetitions.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median

NAME = "demo_100k"
FIGURES = (
    Figure(f"{NAME}_seconds", "s", Target("<", 120, " s")),
    Figure(f"{NAME}_peak_rss", "MB", Target("<", 500, " MB")),
)
PEAK_RSS = Path(__file__).with_name("peak_rss.py")
_LOADED = re.compile(r"Loaded (\d+) members .* in ([0-9.]+) s")


@dataclass(frozen=True)
class Scale:
    members: int
    repetitions: int


FULL = Scale(members=100_000, repetitions=3)
QUICK = Scale(members=5_000, repetitions=3)


@dataclass(frozen=True)
class Load:
    seconds: float
    peak_rss_mb: float
    reported_seconds: float


def command_line() -> list[str]:
    """``vrmvault`` from the environment the benchmarks run in (the project's virtualenv)."""
    script = Path(sys.executable).with_name("vrmvault")
    if not script.exists():
        raise BenchmarkError(f"{script} not found: install the project (make bench does)")
    return [str(script)]


def child_environment() -> dict[str, str]:
    # The child must make and use its own key file in the temporary home, never a key (or a
    # home) from the environment of whoever runs the benchmarks.
    return {k: v for k, v in os.environ.items()
            if k not in {"VRMVAULT_MASTER_KEY", "VRMVAULT_HOME"}}


def load_once(members: int) -> Load:
    vrmvault, environment = command_line(), child_environment()
    with fresh_directory() as root:
        home = str(root / "var")
        initialised = subprocess.run([*vrmvault, "--home", home, "init"], env=environment,
                                     capture_output=True, text=True)
        if initialised.returncode:
            raise BenchmarkError(f"vrmvault init failed: {initialised.stderr.strip()[-500:]}")
        peak = root / "peak-rss"
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            # The script, not ``-m bench.peak_rss``: the package would import every benchmark.
            child = subprocess.Popen([sys.executable, str(PEAK_RSS), str(peak), *vrmvault,
                                      "--home", home, "demo", "--members", str(members)],
                                     env=environment, stdout=out, stderr=err)
            try:
                child.wait()
            except BaseException:                 # interrupted: do not leave a loader behind
                child.kill()
                child.wait()
                raise
            seconds = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
            peak_kib = int(peak.read_text(encoding="ascii")) if peak.exists() else 0
    if child.returncode:
        raise BenchmarkError(f"vrmvault demo exited with {child.returncode}: "
                             f"{stderr.strip()[-1500:]}")
    loaded = _LOADED.search(stdout)
    if loaded is None or int(loaded[1]) != members:
        raise BenchmarkError(f"vrmvault demo did not report {members} members loaded: "
                             f"{stdout.strip()[-500:]}")
    return Load(seconds, peak_kib / 1024, float(loaded[2]))


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: vrmvault demo --members {scale.members:,}, {scale.repetitions} runs")
    loads = []
    for repetition in range(scale.repetitions):
        load = load_once(scale.members)
        log(f"  run {repetition + 1}: {load.seconds:6.1f} s wall ({load.reported_seconds:.1f} s"
            f" inside load_demo), peak RSS {load.peak_rss_mb:.0f} MB")
        loads.append(load)
    return [
        FIGURES[0].result(median([load.seconds for load in loads])),
        FIGURES[1].result(max(load.peak_rss_mb for load in loads)),
    ]
