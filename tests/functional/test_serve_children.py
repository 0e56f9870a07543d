"""``vrmvault serve``'s ledger keeper: a child process that merges the workers' spooled reads,
started again if it dies, and gone with the server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from consent.events import Event, EventTag
from consent.ledger import open_ledger
from consent.spool import SpoolDirectory
from vault.home import VaultHome

from .test_webhook_cli import _gone, start_server

pytestmark = pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc (Linux)")


def _children(pid: int) -> list[int]:
    """Every child of ``pid``, whichever of its threads started it (a restarted keeper is the
    supervising thread's: /proc/PID/task/PID/children lists only the main thread's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _keepers(server: subprocess.Popen[bytes]) -> list[int]:
    keepers = []
    for pid in _children(server.pid):
        with contextlib.suppress(OSError):
            if b"\0merge\0" in Path(f"/proc/{pid}/cmdline").read_bytes():
                keepers.append(pid)
    return keepers


def _wait_for(condition, seconds: float = 30.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, log.read_text() if log else "timed out"
        time.sleep(0.05)


def test_the_keeper_merges_comes_back_when_killed_and_ends_with_the_server(
        vault_home: VaultHome, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    server = start_server(vault_home, log)
    master = vault_home.master_key({})
    try:
        _wait_for(lambda: len(_keepers(server)) == 1)
        first = _keepers(server)[0]
        os.kill(first, signal.SIGKILL)
        _wait_for(lambda: _keepers(server) not in ([], [first]))
        second = _keepers(server)[0]
        # As a web worker does: a read committed to a spool; the new keeper merges it.
        writer = SpoolDirectory(vault_home, master).writer()
        writer.append(Event(EventTag.ACCESS_PROFILE_READ, "brand:brand_1",
                            {"member": "member:" + "c" * 32}), at=time.time())
        with open_ledger(vault_home, master) as ledger:
            _wait_for(lambda: not SpoolDirectory(vault_home, master).pending(), log=log)
            assert ledger.entry(ledger.size - 1).tag is EventTag.ACCESS_PROFILE_READ, \
                log.read_text()
        writer.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    text = log.read_text()
    assert "the ledger merge process ended; starting it again in 1 s" in text
    assert _gone(first) and _gone(second), "a keeper outlived the server"
    assert "Traceback" not in text
