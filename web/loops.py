"""The loops ``vrmvault serve`` runs in child processes: a pass every so often, until stopped.

A loop ends after the pass in hand when SIGTERM or Ctrl-C arrives, and at once when the process
that started it (``--parent-pid``) is no longer its parent: a child never outlives its server.
A pass that fails is reported on stderr by its exception class only (a message might quote what
it failed on) and the loop goes on.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from types import FrameType

import click

from vrmvault.errors import VrmvaultError

NAP = 0.2           # at most this long between looks at a waiting loop looks at its stop conditions


class Seconds(click.FloatRange):
    """A loop's interval on the command line: a finite number of seconds, at least ``min``.
    FloatRange alone lets ``nan`` through (no comparison with it is true), which made a loop
    with no pause between passes, and ``inf``, a loop that never made a second pass."""

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        seconds: float = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a finite number of seconds.", param, ctx)
        return seconds


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[list[bool]]:
    """A flag SIGTERM raises, so the loop ends after the pass in hand."""
    stop = [False]

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop[0] = True

    previous = signal.signal(signal.SIGTERM, request_stop)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_every(interval: float, one_pass: Callable[[], bool], *, name: str, announce: str,
              parent: int | None, final_pass: bool = False) -> None:
    """Say ``announce`` on stderr, then call ``one_pass`` every ``interval`` seconds (at once
    again while it returns True: a backlog) until stopped, and with ``final_pass`` once more
    after that; see the module docstring."""
    with stop_on_sigterm() as stop, contextlib.suppress(KeyboardInterrupt):
        click.echo(announce, err=True)      # once SIGTERM is ours: a caller may send it now
        while not stop[0] and (parent is None or os.getppid() == parent):
            if _reported(one_pass, name):
                continue
            deadline = time.monotonic() + interval
            while not stop[0] and time.monotonic() < deadline:
                if parent is not None and os.getppid() != parent:
                    break           # the server is gone; so are we
                time.sleep(min(NAP, max(0.0, deadline - time.monotonic())))
    if final_pass:
        _reported(one_pass, name)


def _reported(one_pass: Callable[[], bool], name: str) -> bool:
    try:
        return one_pass()
    except VrmvaultError as exc:
        click.echo(f"{name} pass failed: {exc.message}", err=True)
    except Exception as exc:  # a bad pass is reported and the loop goes on
        click.echo(f"{name} pass failed: {type(exc).__name__}", err=True)
    return False
