"""gunicorn, run from our CLI with our app factory (no module-level app object anywhere).

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
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from consent.spool import MERGE_EVERY

ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
WEBHOOK_INTERVAL = 10.0                  # seconds between delivery passes while serving
_STOP_TIMEOUT = 10.0
# The vrmvault command, run by this very interpreter (no console script needed on the PATH).
_VRMVAULT = "from web.cli import main; main(prog_name='vrmvault')"


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], home: Path, public_url: str) -> None:
        self.options = options
        self.home = home
        self.public_url = public_url
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app

        return create_app({"VRMVAULT_HOME": self.home, "VRMVAULT_PUBLIC_URL": self.public_url})


def run(*, host: str, port: int, workers: int, home: Path, public_url: str,
        webhook_interval: float = WEBHOOK_INTERVAL,
        merge_interval: float = MERGE_EVERY) -> None:
    with webhook_delivery(home, interval=webhook_interval, public_url=public_url), \
            ledger_merging(home, interval=merge_interval, public_url=public_url):
        _serve(host=host, port=port, workers=workers, home=home, public_url=public_url)


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
    # The server's public URL, chosen from its bind when not set, is the children's too: the
    # keeper signs receipts that point members at it.
    environment = (None if public_url is None
                   else {**os.environ, "VRMVAULT_PUBLIC_URL": public_url})
    supervised = Supervised([sys.executable, "-c", _VRMVAULT, "--home", str(home), *command,
                             "--parent-pid", str(os.getpid())], name=" ".join(command[:2]),
                            environment=environment)
    supervised.start()
    try:
        yield supervised
    finally:
        supervised.stop()


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

    def __init__(self, argv: list[str], *, name: str, first_pause: float = 1.0,
                 longest_pause: float = 60.0,
                 environment: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.environment = environment
        self.name = name
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self.restarts = 0
        self.process: subprocess.Popen[bytes] | None = None
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
        self.process = subprocess.Popen(self.argv, start_new_session=True, env=self.environment)
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


def _serve(*, host: str, port: int, workers: int, home: Path, public_url: str) -> None:
    _Server({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
        # gunicorn 23+'s control socket defaults to one path per user: two servers on one
        # machine would share it. Nothing here uses it.
        "control_socket_disable": True,
    }, home, public_url).run()
