"""The command line's one error boundary: domain and OS errors become a short message (one line,
and for invalid input one more per field the message does not already name), no traceback."""

from __future__ import annotations

import sys
from typing import Any

import click

from vrmvault.errors import VrmvaultError


class ReportingGroup(click.Group):
    """Turns domain errors into a clear message and exit status 1 (no stack traces). A
    command's own refusal (a :class:`click.ClickException` it raises) reads the same,
    ``error: ...``, not click's ``Error: ...``; a wrong command line keeps click's usage
    message and status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError:
            raise
        except click.ClickException as exc:
            click.secho(f"error: {exc.format_message()}", fg="red", err=True)
            sys.exit(exc.exit_code)
        except VrmvaultError as exc:
            click.secho(f"error: {exc.message}", fg="red", err=True)
            # A validation error whose message does not already say it: each field's problem
            # on a line of its own (messages name fields and rules, never the values given).
            for field, problems in getattr(exc, "errors", {}).items():
                for problem in problems:
                    if problem not in exc.message:
                        click.secho(f"  {field}: {problem}", fg="red", err=True)
            sys.exit(1)
        except UnicodeEncodeError as exc:
            if exc.reason != "surrogates not allowed":
                raise
            # An argument holding bytes the locale could not decode (a name typed in Latin-1):
            # Python keeps each as a lone surrogate (PEP 383), which no store, ledger entry or
            # signature can take. The command line is wrong, as for a usage error; a path
            # (--home, a backup's) may hold such bytes and works, unless a store must keep it.
            byte = ord(exc.object[exc.start]) - 0xDC00
            click.secho(f"error: an argument holds the byte 0x{byte:02x}, which is not UTF-8"
                        " text; give names, ids and addresses in UTF-8", fg="red", err=True)
            sys.exit(2)
        except OSError as exc:
            click.secho(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
                        fg="red", err=True)
            sys.exit(1)
