"""gunicorn, run from our CLI with our app factory (no module-level app object anywhere).

The access log leaves out the client address (personal data) and never logs query strings with
personal data because no URL carries any.

While it serves, two child processes run beside it: ``vrmvault webhooks deliver`` (brand
webhooks, GDPR Art. 19), a process of its own so that a slow brand never holds up a page and a
failure there never reaches the server; and ``vrmvault ledger merge --every 0.25``, which appends
the brand reads the workers spooled to the ledger (``consent/spool.py``). Each inherits the
environment (master key included), logs to the same stream, is stopped with the server and
stops by itself if the server dies.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
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
    def __init__(self, options: dict[str, Any], home: Path) -> None:
        self.options = options
        self.home = home
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app

        return create_app({"VRMVAULT_HOME": self.home})


def run(*, host: str, port: int, workers: int, home: Path,
        webhook_interval: float = WEBHOOK_INTERVAL,
        merge_interval: float = MERGE_EVERY) -> None:
    with webhook_delivery(home, interval=webhook_interval), \
            ledger_merging(home, interval=merge_interval):
        _serve(host=host, port=port, workers=workers, home=home)


def webhook_delivery(home: Path, *, interval: float) -> contextlib.AbstractContextManager[
        subprocess.Popen[bytes]]:
    """The webhook delivery loop in a child process for as long as the block runs."""
    return _child(home, "webhooks", "deliver", "--interval", str(interval))


def ledger_merging(home: Path, *, interval: float) -> contextlib.AbstractContextManager[
        subprocess.Popen[bytes]]:
    """The workers' spooled reads merged into the ledger every ``interval`` seconds (the
    maximum merge delay, consent/spool.py), in a child process while the block runs."""
    return _child(home, "ledger", "merge", "--every", str(interval))


@contextlib.contextmanager
def _child(home: Path, *command: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-c", _VRMVAULT, "--home", str(home), *command,
         "--parent-pid", str(os.getpid())])
    try:
        yield process
    finally:
        # gunicorn's arbiter may have reaped it already; Popen copes with that.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _serve(*, host: str, port: int, workers: int, home: Path) -> None:
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
    }, home).run()
