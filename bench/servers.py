"""Which WSGI server ``vrmvault serve`` uses: the brand read and a bare endpoint under uWSGI
(what it uses), gunicorn (what it used before) and granian (a server whose HTTP layer is
compiled), in the same run; and the brand read against main as it served it before issue 18.

Seven servers run side by side and wrk loads each in turn (8 connections, 2 threads, the order
turning every round): on one staged home (``bench/brand_api.py``'s: a member's shared profile of
ten fields, a live token), the full stack and the bare Flask endpoint under uWSGI as
``vrmvault serve`` runs them; the same two under gunicorn's sync workers as ``vrmvault serve``
ran them before (:func:`serve_with_gunicorn`) and under granian (:func:`serve_with_granian`: two
forked workers, one Python thread each since a store connection belongs to one thread,
keep-alive), the app made once before the fork and the ledger keeper beside each full stack;
and the full stack of commit :data:`BEFORE`, its code exported from git beside this one, its
home initialised and staged by its own code and served by its own ``vrmvault serve``. Figures:

- ``servers_uwsgi_over_gunicorn`` and ``servers_granian_over_gunicorn``: the brand read's req/s
  under each over gunicorn's, median of the per-round ratios; ``servers_bare_uwsgi_over_gunicorn``
  and ``servers_bare_granian_over_gunicorn`` the same for the bare endpoint. Informational: they
  say which server wins.
- ``servers_uwsgi_p99_ms``, ``servers_gunicorn_p99_ms``, ``servers_granian_p99_ms``: the brand
  read's p99 under each, median of the rounds, informational. The server used must keep the
  brand read's p99 under 10 ms (``brand_api_p99_ms``).
- ``servers_vs_before_ratio``: the brand read's req/s as ``vrmvault serve`` serves it now over
  main's at :data:`BEFORE`, median of the per-round ratios. Target >= 2 (issue 18).

Verified, or no figure: before and after every load one request to the server must answer 200
with exactly the expected document, and wrk must report no non-2xx/3xx answer and no socket
error; after the last load every read this run's full stacks served is in the ledger, which
verifies.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .brand_api import (
    BARE_DOCUMENT,
    BARE_PATH,
    CONNECTIONS,
    PROFILE_PATH,
    RATE_LIMIT,
    ROOT,
    WORKERS,
    Load,
    Reads,
    bare_app,
    check,
    free_port,
    initialise,
    running,
    stage,
    wait_until_serving,
    wrk,
)
from .demo_100k import child_environment, command_line
from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median

NAME = "servers"
RATIO = Target(">=", 0, "x", label="informational")
LATENCY = Target(">=", 0, " ms", label="informational")
SERVERS = ("uwsgi", "gunicorn", "granian")         # the first is vrmvault serve's
OTHERS = ("uwsgi", "granian")                         # each measured against gunicorn
FIGURES = (
    *(Figure(f"{NAME}_{name}_over_gunicorn", "x", RATIO) for name in OTHERS),
    *(Figure(f"{NAME}_bare_{name}_over_gunicorn", "x", RATIO) for name in OTHERS),
    *(Figure(f"{NAME}_{name}_p99_ms", "ms", LATENCY) for name in SERVERS),
    Figure(f"{NAME}_vs_before_ratio", "x", Target(">=", 2.0, "x", label="now/before")),
)
# main as it served the brand read before the server and read-path work (issue 18).
BEFORE = "d0c9184"
BEFORE_STAGE = """
import json
from pathlib import Path
from bench.brand_api import initialise, stage

staged = stage(initialise(Path({root!r})))
print(json.dumps({{"token": staged.token, "expected": staged.expected}}))
staged.consent.close()
staged.vault.close()
"""
FULL_ROUNDS, QUICK_ROUNDS = 5, 2
FULL_SECONDS, QUICK_SECONDS = 6, 2
# gunicorn as vrmvault serve ran it before uWSGI.
GUNICORN_ACCESS_LOG = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def serve_with_granian(port: int, home: str, public_url: str, stack: str) -> None:
    """Run in a child process: the full app (``stack == "full"``, with the ledger keeper beside
    it as ``vrmvault serve`` runs it) or the bare one, under granian's WSGI workers."""
    from granian.constants import HTTPModes, Interfaces
    from granian.server.mp import MPServer

    from consent.spool import MERGE_EVERY
    from web import server

    app = server.made_app(Path(home), public_url) if stack == "full" else bare_app()
    for module in ("granian._loops", "granian._futures", "granian.wsgi", "asyncio"):
        importlib.import_module(module)
    gc.freeze()
    keeper = (server.ledger_merging(Path(home), interval=MERGE_EVERY, public_url=public_url)
              if stack == "full" else contextlib.nullcontext())
    with keeper:
        MPServer(target="bench", address="127.0.0.1", port=port, interface=Interfaces.WSGI,
                 workers=WORKERS, blocking_threads=1, runtime_threads=1, http=HTTPModes.http1,
                 websockets=False, log_access=True, process_name=f"granian {stack}",
                 log_access_format='[%(time)s] "%(method)s %(path)s" %(status)d %(dt_ms).1fms',
                 ).serve(target_loader=lambda: app, wrap_loader=False)


def serve_with_gunicorn(port: int, home: str, public_url: str, stack: str) -> None:
    """Run in a child process: the full app (with the ledger keeper beside it) or the bare one,
    under gunicorn's sync workers configured as ``vrmvault serve`` configured them."""
    from gunicorn.app.base import BaseApplication

    from consent.spool import MERGE_EVERY
    from web import server

    app = server.made_app(Path(home), public_url) if stack == "full" else bare_app()
    for module in ("gunicorn.arbiter", "gunicorn.glogging", "gunicorn.workers.sync",
                   "gunicorn.http.wsgi", "gunicorn.http.parser"):
        importlib.import_module(module)
    gc.freeze()
    options = {"bind": f"127.0.0.1:{port}", "workers": WORKERS, "worker_class": "sync",
               "accesslog": "-", "access_log_format": GUNICORN_ACCESS_LOG, "errorlog": "-",
               "timeout": 60, "graceful_timeout": 10, "control_socket_disable": True,
               "proc_name": f"gunicorn {stack}"}

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    keeper = (server.ledger_merging(Path(home), interval=MERGE_EVERY, public_url=public_url)
              if stack == "full" else contextlib.nullcontext())
    with keeper:
        Gunicorn().run()


def run(*, quick: bool) -> list[Result]:
    rounds, seconds = (QUICK_ROUNDS, QUICK_SECONDS) if quick else (FULL_ROUNDS, FULL_SECONDS)
    if shutil.which("wrk") is None:
        raise BenchmarkError(f"{NAME}: wrk is not installed (Debian: apt-get install wrk)")
    log(f"{NAME}: the brand read and a bare endpoint under uWSGI, gunicorn and granian, and"
        f" the brand read as {BEFORE} served it; {WORKERS} workers each; wrk -t2 -c{CONNECTIONS};"
        f" {rounds} rounds of {seconds} s, the order turning every round")
    with fresh_directory() as root:
        before = _before(root)
        home = initialise(root)
        staged = stage(home)
        try:
            loads = _measure(root, staged, before, rounds, seconds)
        finally:
            staged.consent.close()
            staged.vault.close()
    full = {name: [load.rate for load in loads[name, "full"]] for name in (*SERVERS, "before")}
    bare = {name: [load.rate for load in loads[name, "bare"]] for name in SERVERS}

    def ratios(a: list[float], b: list[float]) -> list[float]:
        return [x / y for x, y in zip(a, b, strict=True)]

    def p99(name: str) -> float:
        return median([load.p99_ms for load in loads[name, "full"]])

    return [
        *(figure.result(median(ratios(full[name], full["gunicorn"])))
          for figure, name in zip(FIGURES[0:2], OTHERS, strict=True)),
        *(figure.result(median(ratios(bare[name], bare["gunicorn"])))
          for figure, name in zip(FIGURES[2:4], OTHERS, strict=True)),
        *(figure.result(p99(name)) for figure, name in zip(FIGURES[4:7], SERVERS, strict=True)),
        FIGURES[7].result(median(ratios(full["uwsgi"], full["before"]))),
    ]


@dataclass(frozen=True)
class _Before:
    """main at :data:`BEFORE`: its code, and a home it initialised and staged itself."""

    code: Path
    home: Path
    token: str
    expected: dict[str, Any]

    def environment(self) -> dict[str, str]:
        return environment_of(self.code)


def export_before(root: Path) -> Path:
    """The code of main at :data:`BEFORE`, exported from git into ``root/before``."""
    code = root / "before"
    code.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", BEFORE],
                             capture_output=True)
    if archive.returncode:
        raise BenchmarkError(f"{NAME}: cannot export {BEFORE} from git:"
                             f" {archive.stderr.decode(errors='replace')[-400:]}")
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
    return code


def environment_of(code: Path) -> dict[str, str]:
    """The environment in which ``vrmvault`` and Python run the code in ``code``."""
    return child_environment() | {"PYTHONPATH": str(code)}


def _before(root: Path) -> _Before:
    code = export_before(root)
    (root / "then").mkdir()
    staged = subprocess.run([sys.executable, "-c", BEFORE_STAGE.format(root=str(root / "then"))],
                            cwd=code, env=environment_of(code), capture_output=True, text=True)
    if staged.returncode:
        raise BenchmarkError(f"{NAME}: staging {BEFORE} failed: {staged.stderr[-800:]}")
    shown = json.loads(staged.stdout.strip().splitlines()[-1])
    return _Before(code, root / "then" / "var", shown["token"], shown["expected"])


def _measure(root: Path, staged: Any, before: _Before, rounds: int, seconds: int
             ) -> dict[tuple[str, str], list[Load]]:
    limit = {"VRMVAULT_API_RATE_LIMIT": str(RATE_LIMIT)}
    keys = [(name, stack) for name in SERVERS for stack in ("full", "bare")]
    keys.append(("before", "full"))
    ports = {key: free_port() for key in keys}
    home = str(staged.home.root)

    def command(name: str, stack: str) -> list[str]:
        port = ports[name, stack]
        if name == "before":
            return [*command_line(), "--home", str(before.home), "serve", "--host",
                    "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)]
        if name == "uwsgi" and stack == "full":
            return [*command_line(), "--home", home, "serve", "--host", "127.0.0.1", "--port",
                    str(port), "--workers", str(WORKERS)]
        if name == "uwsgi":
            return [sys.executable, "-c", f"from bench.brand_api import serve_bare;"
                    f" serve_bare({port}, {home!r})"]
        return [sys.executable, "-c", f"from bench.servers import serve_with_{name};"
                f" serve_with_{name}({port}, {home!r}, 'http://127.0.0.1:{port}', {stack!r})"]

    def environment(name: str) -> dict[str, str]:
        return (before.environment() if name == "before" else child_environment()) | limit

    def expected(key: tuple[str, str]) -> tuple[str | None, dict[str, Any]]:
        if key[0] == "before":
            return before.token, before.expected
        return (staged.token, staged.expected) if key[1] == "full" else (None, BARE_DOCUMENT)

    loads: dict[tuple[str, str], list[Load]] = {key: [] for key in keys}
    with contextlib.ExitStack() as stack, contextlib.closing(Reads(staged)) as reads:
        servers = {key: stack.enter_context(running(f"{key[0]}-{key[1]}", command(*key),
                                                    ports[key], root, environment(key[0])))
                   for key in keys}
        for (_, kind), server in servers.items():
            wait_until_serving(server, "/api/v1/openapi.json" if kind == "full" else BARE_PATH)

        def load(key: tuple[str, str], seconds: int) -> Load:
            url = servers[key].url + (PROFILE_PATH if key[1] == "full" else BARE_PATH)
            token, document = expected(key)
            check(url, document, token)
            result = wrk(url, seconds, token)
            if result.bad_status or result.socket_errors:
                raise BenchmarkError(f"{NAME}: {key}: {result.bad_status} answers were not"
                                     f" 2xx/3xx, {result.socket_errors} socket errors")
            check(url, document, token)
            return result

        for key in keys:                                    # warm-up, not counted
            load(key, 1)
        for number in range(rounds):
            turn = number % len(keys)
            for key in keys[turn:] + keys[:turn]:
                loads[key].append(load(key, seconds))
            log(f"  round {number + 1}: " + "; ".join(
                f"{name} {kind} {loads[name, kind][-1].rate:,.0f} req/s p99"
                f" {loads[name, kind][-1].p99_ms:.2f} ms" for name, kind in keys))
        stack.close()                                       # servers stopped
        served = sum(load.requests for name in SERVERS for load in loads[name, "full"])
        recorded = reads.since()                            # what they spooled, merged
        if recorded < served:
            raise BenchmarkError(f"{NAME}: wrk counted {served:,} reads served, the ledger"
                                 f" recorded {recorded:,}")
    report = staged.consent.ledger.verify()
    if not report.ok:
        raise BenchmarkError(f"{NAME}: the ledger does not verify: {report.summary()}")
    return loads
