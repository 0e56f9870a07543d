"""gunicorn, run from our CLI with our app factory (no module-level app object anywhere).

The access log leaves out the client address (personal data) and never logs query strings with
personal data because no URL carries any.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


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


def run(*, host: str, port: int, workers: int, home: Path) -> None:
    _Server({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
    }, home).run()
