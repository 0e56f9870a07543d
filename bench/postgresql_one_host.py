"""The brand read on PostgreSQL, one host at its limit: issue 18's figures on the second engine.

bench/brand_api.py and bench/servers.py measure the brand read on SQLCipher; issue 18 asks for
"the same on PostgreSQL". A throwaway PostgreSQL cluster of Debian's server is made for the run
(``tests/postgresql_server``, durability as shipped), and three servers run side by side, each
with ``--workers 2``, loaded in turn by wrk (8 connections, 2 threads; the order turning every
round, as bench/servers.py does):

- now: ``vrmvault serve`` (uWSGI) of this code, its data and key databases made by ``vrmvault
  init`` and staged by bench/brand_api.py's staging (``bench.postgresql.stage_on_postgresql``);
- before: main at :data:`bench.servers.BEFORE` (before issue 18), its code exported from git
  beside this one, its own two databases in the same cluster initialised and staged by its own
  code, served by its own ``vrmvault serve`` (gunicorn);
- bare: the bare Flask endpoint served as ``vrmvault serve`` serves the product (uWSGI).

Figures:

- ``postgresql_one_host_ratio``: now's req/s over bare's, median of the per-round ratios.
  Target >= 0.35.
- ``postgresql_one_host_p99_ms``: now's p99, median of the rounds. Target < 10 ms.
- ``postgresql_one_host_vs_before_ratio``: now's req/s over before's, median of the per-round
  ratios. Target >= 2.
- ``postgresql_one_host_rps``: now's req/s (baseline column: before's), informational.

Verified, or no figure: before and after every load one request to the server must answer 200
with exactly the expected document and wrk must report no error; after every load of now's
stack the ledger must hold one ``access:profile:read`` entry per answer (up to the connections'
in-flight requests more), and at the end it must verify.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from vault.home import VaultHome

from . import brand_api
from .brand_api import BARE_DOCUMENT, BARE_PATH, CONNECTIONS, PROFILE_PATH, check, running, wrk
from .demo_100k import child_environment, command_line
from .postgresql import Ledger, Places, stage_on_postgresql, throwaway_databases
from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median
from .servers import BEFORE, export_before

NAME = "postgresql_one_host"
FIGURES = (
    Figure(f"{NAME}_ratio", "x", Target(">=", 0.35, "x")),
    Figure(f"{NAME}_p99_ms", "ms", Target("<", 10, " ms")),
    Figure(f"{NAME}_vs_before_ratio", "x", Target(">=", 2.0, "x", label="now/before")),
    Figure(f"{NAME}_rps", "req/s", Target(">=", 0, "/s", label="informational")),
)
# Run by the exported code of BEFORE, which has the same staging (bench/postgresql.py).
BEFORE_STAGE = """
import json
from pathlib import Path
from bench.postgresql import Places, stage_on_postgresql

staged = stage_on_postgresql(Path({root!r}), Places({data!r}, {keys!r}, {master!r}))
print(json.dumps({{"token": staged.token, "expected": staged.expected}}))
staged.consent.close()
staged.vault.close()
"""
FULL_ROUNDS, QUICK_ROUNDS = 5, 2
FULL_SECONDS, QUICK_SECONDS = 6, 2
WARMUP_SECONDS = 2
LABELS = ("now", "before", "bare")


def _stage_before(code: Path, root: Path, places: Places) -> tuple[str, dict[str, Any]]:
    """BEFORE's own staging on its own databases: its token and the document it must serve."""
    staged = subprocess.run(
        [sys.executable, "-c", BEFORE_STAGE.format(root=str(root), data=places.data,
                                                   keys=places.keys, master=places.master_hex)],
        cwd=code, env=places.environment() | {"PYTHONPATH": str(code)}, capture_output=True,
        text=True)
    if staged.returncode:
        raise BenchmarkError(f"{NAME}: staging {BEFORE} failed: {staged.stderr[-800:]}")
    shown = json.loads(staged.stdout.strip().splitlines()[-1])
    return shown["token"], shown["expected"]


def run(*, quick: bool) -> list[Result]:
    rounds, seconds = (QUICK_ROUNDS, QUICK_SECONDS) if quick else (FULL_ROUNDS, FULL_SECONDS)
    log(f"{NAME}: the brand read on PostgreSQL, one host of {brand_api.WORKERS} workers, against"
        f" {BEFORE} served its way and the bare endpoint; wrk -c{CONNECTIONS}; {rounds} rounds"
        f" of {seconds} s, the order turning every round")
    with throwaway_databases() as made, fresh_directory() as root, \
            contextlib.ExitStack() as stack:
        now = Places(next(made), next(made), secrets.token_hex(32))
        then = Places(next(made), next(made), secrets.token_hex(32))
        staged = stage_on_postgresql(root, now)
        stack.callback(staged.vault.close)
        stack.callback(staged.consent.close)
        code = export_before(root)
        (root / "then").mkdir()
        then_token, then_expected = _stage_before(code, root / "then", then)
        limit = {"VRMVAULT_API_RATE_LIMIT": str(brand_api.RATE_LIMIT)}
        ports = {label: brand_api.free_port() for label in LABELS}
        host = VaultHome(root / "host")
        commands = {
            "now": [*command_line(), "--home", str(host.root), "serve", "--host",
                    "127.0.0.1", "--port", str(ports["now"]), "--workers",
                    str(brand_api.WORKERS)],
            "before": [*command_line(), "--home", str(root / "before-host"), "serve",
                       "--host", "127.0.0.1", "--port", str(ports["before"]), "--workers",
                       str(brand_api.WORKERS)],
            "bare": [sys.executable, "-c", "from bench.brand_api import serve_bare;"
                     f" serve_bare({ports['bare']}, {str(root)!r})"],
        }
        environments = {
            "now": now.environment() | limit,
            "before": then.environment() | {"PYTHONPATH": str(code)} | limit,
            "bare": child_environment(),
        }
        servers = {label: stack.enter_context(running(
            f"{NAME}-{label}", commands[label], ports[label], root, environments[label]))
            for label in LABELS}
        for label, serving in servers.items():
            brand_api.wait_until_serving(
                serving, BARE_PATH if label == "bare" else "/api/v1/openapi.json")
        ledger = Ledger(staged, [host])
        stack.callback(ledger.close)
        expected = {"now": (staged.token, staged.expected),
                    "before": (then_token, then_expected), "bare": (None, BARE_DOCUMENT)}

        def load(label: str, seconds: int) -> brand_api.Load:
            url = servers[label].url + (BARE_PATH if label == "bare" else PROFILE_PATH)
            token, document = expected[label]
            check(url, document, token)
            if label == "now":
                ledger.settled()
            result = wrk(url, seconds, token)
            if result.bad_status or result.socket_errors:
                raise BenchmarkError(f"{NAME}: {label}: {result.bad_status} answers were"
                                     f" not 2xx/3xx, {result.socket_errors} socket errors")
            if label == "now":
                ledger.merged()
                recorded = ledger.since()
                if not result.requests <= recorded <= result.requests + CONNECTIONS:
                    raise BenchmarkError(f"{NAME}: wrk counted {result.requests:,} answers,"
                                         f" the ledger recorded {recorded:,} reads")
            check(url, document, token)
            return result

        for label in LABELS:                            # warm-up, not counted
            load(label, WARMUP_SECONDS)
        loads: dict[str, list[brand_api.Load]] = {label: [] for label in LABELS}
        for number in range(rounds):
            turn = number % len(LABELS)
            for label in LABELS[turn:] + LABELS[:turn]:
                loads[label].append(load(label, seconds))
            log(f"  round {number + 1}: " + "; ".join(
                f"{label} {loads[label][-1].rate:,.0f} req/s p99"
                f" {loads[label][-1].p99_ms:.2f} ms" for label in LABELS))
        report = ledger.ledger.verify()
        if not report.ok:
            raise BenchmarkError(f"{NAME}: the ledger does not verify: {report.summary()}")
    rates = {label: [load.rate for load in loads[label]] for label in LABELS}

    def ratios(a: list[float], b: list[float]) -> list[float]:
        return [x / y for x, y in zip(a, b, strict=True)]

    return [
        FIGURES[0].result(median(ratios(rates["now"], rates["bare"]))),
        FIGURES[1].result(median([load.p99_ms for load in loads["now"]]),
                          median([load.p99_ms for load in loads["bare"]])),
        FIGURES[2].result(median(ratios(rates["now"], rates["before"]))),
        FIGURES[3].result(median(rates["now"]), median(rates["before"])),
    ]
