"""``vrmvault serve`` right after start: its memory across all its processes, and how long it
takes to answer (issue 18).

A home made as ``make run`` makes it (``vrmvault init --demo 200``), with the project's bytecode
compiled as ``make run`` compiles it (``make bytecode``: where ``PYTHONDONTWRITEBYTECODE`` is set,
each start would otherwise compile every module of ours again), is served with
``vrmvault serve --workers 2`` (its first process; uWSGI's master, router and two workers; the
ledger merging child and the webhook delivery child), started afresh for each repetition:

- ``serve_first_answer_s``: from starting the command to the first answer of
  ``GET /api/v1/openapi.json`` (asked every 10 ms): the time an operator or a health check
  waits. Median of the repetitions. Target < 1 s.
- ``serve_pss_mb``: the proportional set size (``Pss`` of ``/proc/PID/smaps_rollup``: each
  shared page divided among the processes that map it, so the sum over the processes is what
  they hold together) summed over the server's process tree, two seconds after its first
  answer, once one brand-free page and the API document have been served by it. Median of the
  repetitions. Target < 150 MB. What each process holds (its own and its share) is logged.

Linux only (``/proc``); the spread of the repetitions is logged beside the medians.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .brand_api import free_port, stop
from .demo_100k import child_environment, command_line
from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median

NAME = "serve_memory"
FIGURES = (
    Figure("serve_first_answer_s", "s", Target("<", 1, " s")),
    Figure("serve_pss_mb", "MB", Target("<", 150, " MB")),
)
DEMO_MEMBERS = 200                  # as make run
FULL_REPETITIONS = 5
QUICK_REPETITIONS = 2
SETTLE_SECONDS = 2.0
_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Process:
    pid: int
    title: str
    pss_kib: int
    private_kib: int


@dataclass(frozen=True)
class Start:
    first_answer_s: float
    processes: list[Process]

    @property
    def pss_mb(self) -> float:
        return sum(p.pss_kib for p in self.processes) / 1024


def run(*, quick: bool) -> list[Result]:
    if not Path("/proc/self/smaps_rollup").exists():
        raise BenchmarkError(f"{NAME}: needs Linux's /proc/PID/smaps_rollup")
    repetitions = QUICK_REPETITIONS if quick else FULL_REPETITIONS
    log(f"{NAME}: vrmvault serve --workers 2 on an init --demo {DEMO_MEMBERS} home,"
        f" started {repetitions} times")
    starts = []
    subprocess.run(["make", "-s", "bytecode"], cwd=Path(__file__).resolve().parent.parent,
                   check=True)
    with fresh_directory() as root:
        home = root / "var"
        _vrmvault(home, "init", "--demo", str(DEMO_MEMBERS))
        for number in range(repetitions):
            start = started(home)
            starts.append(start)
            log(f"  start {number + 1}: first answer {start.first_answer_s:.2f} s,"
                f" PSS {start.pss_mb:.1f} MB in {len(start.processes)} processes")
    last = starts[-1]
    for process in last.processes:
        log(f"    {process.title[:60]:60s} PSS {process.pss_kib / 1024:5.1f} MB"
            f" (its own {process.private_kib / 1024:5.1f} MB)")
    answers = [s.first_answer_s for s in starts]
    sizes = [s.pss_mb for s in starts]
    log(f"  first answer {min(answers):.2f}-{max(answers):.2f} s, PSS {min(sizes):.1f}-"
        f"{max(sizes):.1f} MB (spread)")
    return [FIGURES[0].result(median(answers)), FIGURES[1].result(median(sizes))]


def started(home: Path) -> Start:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    server = subprocess.Popen([*command_line(), "--home", str(home), "serve", "--port",
                               str(port), "--workers", "2"], env=child_environment(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        first = _first_answer(server, url + "/api/v1/openapi.json") - began
        _get(url + "/")
        time.sleep(SETTLE_SECONDS)
        processes = [_measured(pid) for pid in _tree(server.pid)]
    finally:
        stop(server)
        if server.stderr is not None:
            server.stderr.close()
    if server.returncode not in (0, -signal.SIGTERM):
        raise BenchmarkError(f"{NAME}: serve ended with {server.returncode}")
    return Start(first, processes)


def _first_answer(server: subprocess.Popen[bytes], url: str) -> float:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise BenchmarkError(f"{NAME}: serve exited with {server.returncode}:"
                                 f" {error[-800:]}")
        with contextlib.suppress(OSError):
            _get(url)
            return time.perf_counter()
        time.sleep(0.01)
    raise BenchmarkError(f"{NAME}: serve did not answer in {_START_TIMEOUT:.0f} s")


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=5) as answer:
        if answer.status != 200:
            raise urllib.error.HTTPError(url, answer.status, "not 200", answer.headers, None)
        answer.read()


def _tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(grandchild for child in children for grandchild in _tree(int(child)))]


def _measured(pid: int) -> Process:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split()[:2]
        fields[name.rstrip(":")] = int(value)
    title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    return Process(pid, title, fields["Pss"],
                   fields["Private_Clean"] + fields["Private_Dirty"])


def _vrmvault(home: Path, *arguments: str) -> None:
    done = subprocess.run([*command_line(), "--home", str(home), *arguments],
                          env=child_environment(), capture_output=True, text=True)
    if done.returncode:
        raise BenchmarkError(f"{NAME}: vrmvault {arguments[0]} failed:"
                             f" {done.stderr.strip()[-800:]}")
