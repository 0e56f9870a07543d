"""``vrmvault serve``'s ledger keeper: a child process that merges the workers' spooled reads,
started again if it dies, and gone with the server.

Deterministic by design: no assertion rests on how the kernel spreads
requests over the server's workers or on how fast a loaded machine is. What is asserted is what
the product guarantees whatever the distribution: every read in the ledger exactly once, and
every spool's records merged exactly once (the spools' marks add up to the reads, whichever
workers served them). Waits are bounded polls of a condition with generous deadlines, never
sleeps that race.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from brand_gateway.clients import OAuthClient
from consent.context import open_ledger
from consent.events import Event, EventTag
from consent.spool import SpoolDirectory
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD
from tests.processes import stopped
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome

from .test_webhook_cli import _free_port, _gone, start_server


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
            if b"vrmvault ledger merge " in Path(f"/proc/{pid}/cmdline").read_bytes():
                keepers.append(pid)
    return keepers


def _wait_for(condition, seconds: float = 60.0, log: Path | None = None) -> None:
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
            _wait_for(lambda: not SpoolDirectory(vault_home, master).pending(ledger),
                      log=log)
            # In the ledger (the keeper may have signed a checkpoint after it since).
            reads = [ledger.entry(seq) for seq in range(ledger.size)
                     if ledger.entry(seq).tag is EventTag.ACCESS_PROFILE_READ]
            assert [e.details["member"] for e in reads] == ["member:" + "c" * 32], \
                log.read_text()
        writer.close()
    finally:
        assert stopped(server), "serve did not stop on SIGTERM"
    text = log.read_text()
    assert "the ledger merge process ended; starting it again in 1 s" in text
    assert _gone(first) and _gone(second), "a keeper outlived the server"
    assert "Traceback" not in text


def test_reads_through_two_workers_are_each_in_the_ledger_once(
        vault_home: VaultHome, vault: Vault, api: BrandApi, velo: OAuthClient,
        clock: FrozenClock, tmp_path: Path) -> None:
    clock.now = time.time()      # the server runs on the real clock: grant and token live now
    member_id = vault.members.register("walter@example.org", GOOD_PASSWORD)
    vault.profile.update(member_id, {"given_name": "Walter", "city": "Utrecht"})
    issued = api.member_token(member_id, velo, {"dpv:Personalisation": ["given_name", "city"]})
    port, log = _free_port(), tmp_path / "serve.log"
    server = start_server(vault_home, log, port=port, workers=2)
    url = f"http://127.0.0.1:{port}/api/v1/member/profile"
    master = vault_home.master_key({})
    try:
        _wait_for(lambda: _answers(f"http://127.0.0.1:{port}/api/v1/openapi.json", {}) == 200,
                  log=log)
        # Concurrent requests; how the server spreads them over its 2 workers is the kernel's
        # business (one worker may serve all of them on a loaded machine), so nothing below
        # depends on it.
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda _: _answers(url, issued.headers), range(200)))
        assert statuses == [200] * 200
        with open_ledger(vault_home, master) as ledger:
            _wait_for(lambda: not SpoolDirectory(vault_home, master).pending(ledger),
                      log=log)
            reads = [ledger.entry(seq) for seq in range(ledger.size)
                     if ledger.entry(seq).tag is EventTag.ACCESS_PROFILE_READ]
            assert len(reads) == 200                   # every read, exactly once
            assert {tuple(e.details["fields"]) for e in reads} == {("given_name", "city")}
            # Each worker's spool counts its records from 1 and is marked with the last one
            # merged: the marks add up to the reads exactly when each spool was merged exactly
            # once, whether one worker served them all or both shared them.
            marks = [row[0] for row in ledger.database.all(
                "SELECT merged_through FROM spool_marks")]
            assert 1 <= len(marks) <= 2 and all(mark > 0 for mark in marks)
            assert sum(marks) == 200
            assert ledger.verify().ok
    finally:
        assert stopped(server), "serve did not stop on SIGTERM"


def _answers(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0
