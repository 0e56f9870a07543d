"""``vrmvault report``: the compliance reports from the command line, as CSV or JSON.

Registered in ``web/cli.py`` with ``main.add_command(report)``; like every command there it
takes the vault home from ``ctx.obj["home"]``. The documents are ``compliance/reports.py``'s,
the same as the console's downloads.

Always pseudonyms: whoever runs this holds the master key, but a member's identity is revealed
only through the console's case-bound reveal (a reason, an officer, a ledger entry), never
here. The brand reads the API's workers spooled are merged into the ledger first, so an
exposure report counts every read served. Progress goes to stderr, the report to stdout or
``--output``.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from compliance.reports import (
    EXPOSURE_COLUMNS,
    ROPA_COLUMNS,
    ReportService,
    exposure_document,
    exposure_rows,
    ropa_document,
    ropa_rows,
    write_csv,
)
from compliance.storage import report_service
from consent.context import open_consent
from consent.spool import SpoolDirectory
from vault.home import VaultHome

from .cli_errors import ReportingGroup

FORMAT = click.Choice(["csv", "json"])


@contextmanager
def _reports(ctx: click.Context) -> Iterator[ReportService]:
    home: VaultHome = ctx.find_root().obj["home"]
    home.require()
    with home.open() as vault:
        consent = open_consent(vault, home, controller=ctx.find_root().obj["controller"])
        try:
            SpoolDirectory(home, vault.master).merge_all(consent.ledger)
            yield report_service(consent)
        finally:
            consent.close()


def _write(output: Path | None, form: str | None, document: Callable[[], dict[str, Any]],
           columns: tuple[str, ...], rows: Callable[[], list[tuple[Any, ...]]]) -> None:
    """The report as ``form``; without one, JSON for an ``--output`` file ending in .json,
    else CSV (``vrmvault ledger export`` chooses by the file's name too)."""
    if form is None:
        form = "json" if output is not None and output.suffix.lower() == ".json" else "csv"
    if form == "json":
        text = json.dumps(document(), indent=2, ensure_ascii=False) + "\n"
    else:
        out = io.StringIO()
        write_csv(out, columns, rows())
        text = out.getvalue()
    if output is None:
        click.echo(text, nl=False)
        return
    with output.open("w", encoding="utf-8", newline="") as file:
        file.write(text)
    click.echo(f"wrote {output}", err=True)


@click.group(cls=ReportingGroup)
def report() -> None:
    """Compliance reports: records of processing, a brand's exposure (pseudonyms only)."""


@report.command(short_help="Records of processing (GDPR Art. 30) from the grants in force.")
@click.option("--format", "form", type=FORMAT, default=None,
              help="CSV (one row per brand and purpose) or JSON; default: JSON for an"
                   " --output file ending in .json, else CSV.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of standard output.")
@click.pass_context
def ropa(ctx: click.Context, form: str | None, output: Path | None) -> None:
    """Records of processing (GDPR Art. 30) from the grants in force."""
    with _reports(ctx) as reports:
        with click.progressbar(length=len(reports.brands()), label="Reading brands",
                               show_pos=True, file=sys.stderr) as bar:
            done = 0

            def progress(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            made = reports.records_of_processing(progress=progress)
    _write(output, form, lambda: ropa_document(made), ROPA_COLUMNS, lambda: ropa_rows(made))


@report.command(short_help="A brand's exposure for a breach (GDPR Art. 33), by pseudonym.")
@click.argument("brand")
@click.option("--format", "form", type=FORMAT, default=None,
              help="CSV (one row per member) or JSON; default: JSON for an --output file"
                   " ending in .json, else CSV.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of standard output.")
@click.pass_context
def exposure(ctx: click.Context, brand: str, form: str | None, output: Path | None) -> None:
    """A brand's exposure for a breach (GDPR Art. 33): its members by pseudonym, the fields,
    since when, under which grants, and what it read. BRAND is the brand's id."""
    with _reports(ctx) as reports:
        reports.brand(brand)                       # an unknown brand fails before the bar
        with click.progressbar(length=0, label="Reading members", show_pos=True,
                               file=sys.stderr) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = total             # known once the brand's grants are read
                bar.update(1)

            made = reports.exposure(brand, progress=progress)
    _write(output, form, lambda: exposure_document(made), EXPOSURE_COLUMNS,
           lambda: exposure_rows(made))
