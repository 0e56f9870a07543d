"""The command line's one error boundary: domain and OS errors become a one-line message."""

from __future__ import annotations

import sys
from typing import Any

import click

from vrmvault.errors import VrmvaultError


class ReportingGroup(click.Group):
    """Turns domain errors into a clear message and exit status 1 (no stack traces)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VrmvaultError as exc:
            click.secho(f"error: {exc.message}", fg="red", err=True)
            sys.exit(1)
        except OSError as exc:
            click.secho(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
                        fg="red", err=True)
            sys.exit(1)
