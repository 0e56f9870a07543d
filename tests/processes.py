"""Stopping the processes a test started, so that none outlives it.

A process the test asked to stop gets ``grace`` seconds to end by itself (a loaded machine is
slow to shut down a server and its children); past that it is killed, and in every case it is
reaped, so no ``Popen`` is left running to raise ``ResourceWarning`` in a later test.
"""

from __future__ import annotations

import signal
import subprocess

GRACE = 60.0


def stopped(process: subprocess.Popen, *, grace: float = GRACE,
            sig: int = signal.SIGTERM) -> bool:
    """Send ``sig`` (SIGTERM) and wait; True when the process ended by itself within ``grace``,
    False when it had to be killed. Either way it has ended and been reaped on return."""
    if process.poll() is not None:
        return True
    process.send_signal(sig)
    try:
        process.wait(timeout=grace)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False


def stopped_output(process: subprocess.Popen, *, grace: float = GRACE,
                   sig: int = signal.SIGTERM) -> tuple:
    """Send ``sig`` and read what the process wrote to its pipes until it ends (its stdout and
    stderr). Past ``grace`` it is killed and reaped, and the timeout is raised."""
    process.send_signal(sig)
    try:
        return process.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
