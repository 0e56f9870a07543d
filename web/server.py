"""gunicorn, run from our CLI with our app factory (no module-level app object anywhere).

Why gunicorn's sync workers and not granian: ``bench/servers.py`` serves the brand read with
both in the same run; granian answers more requests per second, but its keep-alive
connections stay with the worker that took them, and with eight connections on two workers
the brand read's p99 was two to three times gunicorn's (20 ms against 8 ms), over the 10 ms
it must stay under. Taking one request at a time per granian worker would hold a worker for
as long as an idle browser connection stays open.

The head limits: gunicorn answers by itself (a short 414 or 431 page) a request line over 8,190
bytes (its most) and fields past the limits below; ``web/limits.py``'s limits sit under them, so
what goes over those gets the app's 414 or 431, problem+json under ``/api/``.

The access log leaves out the client address (personal data) and the query string: no URL
carries personal data, and the query string is where a mailed sign-up or reset link carries its
single-use token (``web/auth.py``), which must not land in a log.

While it serves, two child processes run beside it: ``vrmvault webhooks deliver`` (brand
webhooks, GDPR Art. 19), a process of its own so that a slow brand never holds up a page and a
failure there never reaches the server; and ``vrmvault ledger merge --every 0.25``, which appends
the brand reads the workers spooled to the ledger (``consent/spool.py``). Each inherits the
environment (master key included), logs to the same stream, is stopped with the server, stops
by itself if the server dies, and is started again if it ends while the server runs
(:class:`Supervised`): without the merging child, reads would wait in the spools for the next
reader of the ledger.

Memory: the app is made once, in the server's first process, before anything is forked; the
workers and the two children are forks of that process (the children run the command in the
fork, :class:`Forked`, rather than a new interpreter importing everything again), so the pages
of the code and the app are held once and shared, and ``gc.freeze()`` keeps the collector from
touching (and so copying) them in every process. What each process holds alone is what it did
since. Nothing that must not be shared is made before a fork: stores, spools and connections
are opened on first use in each process (``web/vaults.py``).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import setproctitle
from gunicorn.app.base import BaseApplication

from consent.spool import MERGE_EVERY

from .limits import FIELD_COUNT, FIELD_LIMIT

ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
WEBHOOK_INTERVAL = 10.0                  # seconds between delivery passes while serving
_STOP_TIMEOUT = 10.0
# What gunicorn imports as it starts its arbiter and sync workers.
_SERVER_MODULES = ("gunicorn.arbiter", "gunicorn.glogging", "gunicorn.workers.sync",
                   "gunicorn.http.wsgi", "gunicorn.http.parser")
# Signals gunicorn's arbiter handles: a child forked after it started has its default back.
_ARBITER_SIGNALS = tuple(getattr(signal, name) for name in (
    "SIGHUP", "SIGQUIT", "SIGINT", "SIGTERM", "SIGTTIN", "SIGTTOU", "SIGUSR1", "SIGUSR2",
    "SIGWINCH", "SIGCHLD"))


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], home: Path, public_url: str,
                 app: Any = None) -> None:
        self.options = options
        self.home = home
        self.public_url = public_url
        self.app = app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        if self.app is None:
            self.app = made_app(self.home, self.public_url)
        return self.app


def made_app(home: Path, public_url: str) -> Any:
    from .app import create_app

    return create_app({"VRMVAULT_HOME": home, "VRMVAULT_PUBLIC_URL": public_url})


def run(*, host: str, port: int, workers: int, home: Path, public_url: str,
        webhook_interval: float = WEBHOOK_INTERVAL,
        merge_interval: float = MERGE_EVERY) -> None:
    # Made here, before any fork, with the modules gunicorn goes on to import: every process
    # below shares their pages (see the module docstring).
    app = made_app(home, public_url)
    for module in _SERVER_MODULES:
        importlib.import_module(module)
    gc.freeze()
    with webhook_delivery(home, interval=webhook_interval, public_url=public_url), \
            ledger_merging(home, interval=merge_interval, public_url=public_url):
        _serve(host=host, port=port, workers=workers, home=home, public_url=public_url,
               app=app)


def webhook_delivery(home: Path, *, interval: float, public_url: str | None = None
                     ) -> contextlib.AbstractContextManager[Supervised]:
    """The webhook delivery loop in a child process for as long as the block runs."""
    return _child(home, "webhooks", "deliver", "--interval", str(interval),
                  public_url=public_url)


def ledger_merging(home: Path, *, interval: float, public_url: str | None = None
                   ) -> contextlib.AbstractContextManager[Supervised]:
    """The workers' spooled reads merged into the ledger every ``interval`` seconds (the
    maximum merge delay, consent/spool.py), in a child process while the block runs."""
    return _child(home, "ledger", "merge", "--every", str(interval), public_url=public_url)


@contextlib.contextmanager
def _child(home: Path, *command: str, public_url: str | None) -> Iterator[Supervised]:
    arguments = ["--home", str(home), *command, "--parent-pid", str(os.getpid())]

    def vrmvault() -> None:
        from .cli import main

        # The server's public URL, chosen from its bind when not set, is the children's too:
        # the keeper signs receipts that point members at it.
        if public_url is not None:
            os.environ["VRMVAULT_PUBLIC_URL"] = public_url
        main(args=arguments, prog_name="vrmvault")

    supervised = Supervised(vrmvault, name=" ".join(command[:2]),
                            title=f"vrmvault {' '.join(command)} (serve {os.getpid()})")
    supervised.start()
    try:
        yield supervised
    finally:
        supervised.stop()


class Child(Protocol):
    """What :class:`Supervised` asks of a child process (``subprocess.Popen`` has it)."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class Forked:
    """A child process forked from this one that runs ``main`` and ends (exit status 0, or
    what a ``SystemExit`` says, or 1 after an uncaught error), in a session of its own; the part
    of ``subprocess.Popen`` that :class:`Supervised` uses.

    The child is a copy of this process with one thread, the one that forked: it gets fresh
    standard streams (one another thread was writing at the fork would stay locked forever),
    the default handlers of the signals gunicorn's arbiter takes, and no wakeup fd of its."""

    def __init__(self, main: Callable[[], None], *, title: str | None = None) -> None:
        self.returncode: int | None = None
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()          # so the child does not write the parent's lines again
        pid = os.fork()
        if pid == 0:                    # pragma: no cover - the child; measured by its effects
            os._exit(_run_child(main, title))
        self.pid = pid

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                # Reaped by someone else (gunicorn's arbiter reaps every child it sees end).
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"process {self.pid}", timeout or 0)
            time.sleep(0.01)
        return code

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)


def _run_child(main: Callable[[], None], title: str | None
               ) -> int:  # pragma: no cover - runs in the child
    status = 1
    try:
        os.setsid()
        if title is not None:
            # What ps shows, else a copy of the server's command line.
            setproctitle.setproctitle(title)
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(-1)
        for number in _ARBITER_SIGNALS:
            signal.signal(number, signal.SIG_DFL)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        main()
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    return status


class Supervised:
    """A child process that is started again whenever it ends before :meth:`stop`, after a
    pause that doubles from ``first_pause`` up to ``longest_pause`` while it keeps ending
    within a minute of its start (so a child that cannot run does not spin).

    The child runs in a session of its own: a Ctrl-C at the terminal reaches the server, which
    then stops it, and not the child directly, so that every end the supervisor sees is one it
    did not ask for. (gunicorn's arbiter reaps any child, ours included, so an exit status is
    not always there to be read; whether ``stop`` was asked is what tells.)
    """

    HEALTHY_AFTER = 60.0       # seconds: a child that ran this long starts its pauses afresh
    LOOK_EVERY = 0.5

    def __init__(self, command: list[str] | Callable[[], None], *, name: str,
                 first_pause: float = 1.0, longest_pause: float = 60.0,
                 environment: dict[str, str] | None = None, title: str | None = None) -> None:
        # ``command``: a command line to run, or a function to run in a fork (:class:`Forked`,
        # whose process shows ``title`` in ps and /proc/PID/cmdline).
        self.command = command
        self.title = title
        self.environment = environment
        self.name = name
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self.restarts = 0
        self.process: Child | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._started_at = 0.0

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name=f"supervise {self.name}",
                                         daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        if callable(self.command):
            self.process = Forked(self.command, title=self.title)
        else:
            self.process = subprocess.Popen(self.command, start_new_session=True,
                                            env=self.environment)
        self._started_at = time.monotonic()

    def _watch(self) -> None:
        pause = self.first_pause
        while not self._stopping.wait(self.LOOK_EVERY):
            assert self.process is not None
            if self.process.poll() is None:
                continue
            if time.monotonic() - self._started_at >= self.HEALTHY_AFTER:
                pause = self.first_pause
            print(f"vrmvault serve: the {self.name} process ended; starting it again in"
                  f" {pause:g} s", file=sys.stderr, flush=True)
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()
                self.restarts += 1
            pause = min(pause * 2, self.longest_pause)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        process = self.process
        # gunicorn's arbiter may have reaped it already; Popen copes with that.
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _serve(*, host: str, port: int, workers: int, home: Path, public_url: str,
           app: Any = None) -> None:
    _Server({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "timeout": 60,
        # Above web/limits.py's, so that the app answers those first.
        "limit_request_line": 8190,
        "limit_request_fields": 2 * FIELD_COUNT,
        "limit_request_field_size": 2 * FIELD_LIMIT,
        "graceful_timeout": 10,
        # gunicorn 23+'s control socket defaults to one path per user: two servers on one
        # machine would share it. Nothing here uses it.
        "control_socket_disable": True,
        "proc_name": "vrmvault serve",      # ps: "gunicorn: master [vrmvault serve]", workers
    }, home, public_url, app).run()
