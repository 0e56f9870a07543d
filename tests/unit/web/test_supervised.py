"""``web.server.Supervised``: the children of ``vrmvault serve`` are started again when they
end on their own, with growing pauses, and never once the server stops them."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from web.server import Supervised

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
QUITTER = [sys.executable, "-c", "raise SystemExit(3)"]


@pytest.fixture(autouse=True)
def quick_looks(monkeypatch):
    monkeypatch.setattr(Supervised, "LOOK_EVERY", 0.02)


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_killed_child_is_started_again_and_a_stopped_one_is_not(capfd):
    child = Supervised(SLEEPER, name="test sleeper", first_pause=0.05)
    child.start()
    try:
        first = child.process
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        wait_for(lambda: child.restarts == 1)
        second = child.process
        assert second is not None and second.pid != first.pid and second.poll() is None
    finally:
        child.stop()
    assert second.poll() is not None                     # stopped: ended, and not replaced
    # Its watcher has ended with it (the one thread that could start it again), so what the
    # next lines see is final, not a moment before a late restart.
    assert not any(thread.name == "supervise test sleeper" for thread in threading.enumerate())
    assert child.restarts == 1 and child.process is second
    assert "the test sleeper process ended; starting it again in 0.05 s" in capfd.readouterr().err


def test_a_child_that_keeps_ending_is_started_again_ever_more_slowly(capfd):
    child = Supervised(QUITTER, name="test quitter", first_pause=0.05, longest_pause=0.2)
    child.start()
    try:
        wait_for(lambda: child.restarts >= 4)
    finally:
        child.stop()
    pauses = [line.rsplit(" in ", 1)[1] for line in capfd.readouterr().err.splitlines()
              if "test quitter" in line]
    assert pauses[:4] == ["0.05 s", "0.1 s", "0.2 s", "0.2 s"]


def test_the_child_has_a_session_of_its_own():
    child = Supervised(SLEEPER, name="test sleeper")
    child.start()
    try:
        assert child.process is not None
        assert os.getsid(child.process.pid) == child.process.pid != os.getsid(0)
    finally:
        child.stop()
