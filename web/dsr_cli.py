"""``vrmvault dsr list [--overdue] [--format table|json]``: the officers' queue of data subject
requests from the command line, as the console lists it (open requests by time left, overdue
first, with their urgency).

Registered in ``web/cli.py`` with ``main.add_command(dsr)``. Pseudonyms only: a member is their
ledger principal, brands by id; nothing sealed is opened. The queue is read a page at a time
(the store's ``dsr_open_by_due`` index); a long queue shows a progress bar on stderr, the list
goes to stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from brand_gateway.dsr import calendar_of, dsr_service
from compliance.deadlines import days_left
from compliance.requests import Request
from consent.context import open_consent
from vault.home import VaultHome

from .cli_errors import ReportingGroup
from .config import DEFAULT_PUBLIC_URL

PAGE = 500
_COLUMNS = ("urgency", "days_left", "due_on", "request", "kind", "regime", "member",
            "brands_answered")


@click.group(cls=ReportingGroup)
def dsr() -> None:
    """Data subject requests (pseudonyms only)."""


def _item(request: Request, today: Any) -> dict[str, Any]:
    row = request.row
    answered = sum(1 for t in request.tasks if t.closed_at is not None)
    return {"urgency": request.urgency(today), "days_left": days_left(request.due, today),
            "due_on": row.due_on, "request": row.id, "kind": row.kind, "regime": row.regime,
            "member": row.principal, "brands_answered": f"{answered}/{len(request.tasks)}",
            "state": row.state, "received_on": row.received_on,
            "extended": row.extended_at is not None, "source": row.source}


@dsr.command("list")
@click.option("--overdue", is_flag=True, help="Only the requests past their due date.")
@click.option("--format", "form", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="An aligned table, or JSON (one object per request).")
@click.pass_context
def list_requests(ctx: click.Context, overdue: bool, form: str) -> None:
    """Open requests by time left, overdue first."""
    root = ctx.find_root().obj
    home: VaultHome = root["home"]
    settings = root["settings"]
    home.require()
    with home.open() as vault:
        consent = open_consent(vault, home, controller=ctx.find_root().obj["controller"])
        try:
            service = dsr_service(
                consent, callback_base=settings["VRMVAULT_PUBLIC_URL"] or DEFAULT_PUBLIC_URL,
                calendar=calendar_of(settings), zone=settings["VRMVAULT_DEADLINE_TIMEZONE"])
            total = service.count_open(overdue_only=overdue)
            today = service.today()
            items: list[dict[str, Any]] = []
            with click.progressbar(length=total, label="Reading the queue", show_pos=True,
                                   file=sys.stderr) as bar:
                while len(items) < total:
                    page = service.queue(limit=PAGE, offset=len(items), overdue_only=overdue)
                    if not page:
                        break
                    items += [_item(r, today) for r in page]
                    bar.update(len(page))
        finally:
            consent.close()
    if form == "json":
        click.echo(json.dumps({"today": today.isoformat(), "requests": items}, indent=2))
        return
    if not items:
        click.echo("No open request is overdue." if overdue else "No open request.")
        return
    rows = [_COLUMNS] + [tuple(str(i[c]) for c in _COLUMNS) for i in items]
    widths = [max(len(r[n]) for r in rows) for n in range(len(_COLUMNS))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                        strict=True)).rstrip())
