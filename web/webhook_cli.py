"""``vrmvault webhooks``: brands' webhook endpoints, their delivery, and the delivery record.

Registered in ``web/cli.py`` with ``main.add_command(webhooks)``; like every command there it
takes the vault home from ``ctx.obj["home"]`` and needs a store ``vrmvault init`` brought to
its last migration (opening it checks). ``deliver`` runs one pass (``--once``) or loops until
stopped (Ctrl-C or SIGTERM, finishing the delivery in hand); ``vrmvault serve`` runs that loop in a
child process. Nothing here prints a payload: ``attempts`` shows, for compliance, where each
event went, how often it was tried and how it ended.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.storage import (
    client_registry,
    webhook_dispatcher,
    webhook_outbox,
    webhook_registry,
)
from brand_gateway.webhooks.delivery import DeliveryReport
from brand_gateway.webhooks.outbox import STATUSES, outbox_entries, redrive
from brand_gateway.webhooks.signing import WebhookSigner
from vault.home import Vault, VaultHome
from vault.keys import MasterKey

from .cli_errors import ReportingGroup
from .endings import record_endings, settle_duplicates
from .loops import Seconds, run_every

DEFAULT_INTERVAL = 10.0
DEFAULT_LIMIT = 100


def _home(ctx: click.Context) -> VaultHome:
    home: VaultHome = ctx.find_root().obj["home"]
    home.require()
    return home


@contextmanager
def _vault(home: VaultHome, master: MasterKey | None = None) -> Iterator[Vault]:
    with home.open(master) as vault:
        yield vault


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; the last one is left as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


@click.group(cls=ReportingGroup,
             short_help="Brand webhooks (GDPR Art. 19): endpoints, delivery, the record.")
def webhooks() -> None:
    """Brand webhooks (GDPR Art. 19): endpoints, delivery, the delivery record."""


def _known(vault: Vault, client_id: str | None) -> None:
    """A client named as a filter exists ("no client ...", status 1): a mistyped id is told
    so, not shown an empty list or "Queued again: 0 events"."""
    if client_id is not None:
        client_registry(database=vault.data, clock=vault.clock,
                        hasher=ClientSecretHasher.from_master(vault.master)).get(client_id)


@webhooks.command()
@click.argument("client_id")
@click.argument("url")
@click.pass_context
def add(ctx: click.Context, client_id: str, url: str) -> None:
    """Notify CLIENT_ID's brand at URL (https, or http on a loopback host)."""
    with _vault(_home(ctx)) as vault:
        endpoint = webhook_registry(database=vault.data, clock=vault.clock).add(client_id, url)
        key = WebhookSigner.from_master(vault.master).public_key_text()
    click.echo(f"Added webhook endpoint {endpoint.public_id} for {endpoint.client_id} "
               f"({endpoint.brand_name}): {endpoint.url}")
    click.echo(f"Deliveries are signed (Standard Webhooks v1a); the brand verifies with {key}")


@webhooks.command("list")
@click.argument("client_id", required=False)
@click.pass_context
def list_endpoints(ctx: click.Context, client_id: str | None) -> None:
    """List the endpoints, of every client or of CLIENT_ID."""
    with _vault(_home(ctx)) as vault:
        _known(vault, client_id)
        endpoints = webhook_registry(database=vault.data, clock=vault.clock).list(client_id)
    if not endpoints:
        click.echo("No webhook endpoints; add one with 'vrmvault webhooks add'.")
        return
    rows = [("ID", "CLIENT ID", "BRAND", "STATUS", "ADDED", "URL")]
    for endpoint in endpoints:
        rows.append((endpoint.public_id, endpoint.client_id, endpoint.brand_name,
                     "live" if endpoint.live else "removed", _when(endpoint.created_at),
                     endpoint.url))
    _table(rows)


@webhooks.command()
@click.argument("endpoint_id", metavar="ID")
@click.pass_context
def remove(ctx: click.Context, endpoint_id: str) -> None:
    """Stop notifying endpoint ID (whk_..., as 'webhooks list' shows it); what is still
    pending for it is given up."""
    with _vault(_home(ctx)) as vault:
        endpoint = webhook_registry(database=vault.data, clock=vault.clock).remove(endpoint_id)
    click.echo(f"Removed webhook endpoint {endpoint.public_id} ({endpoint.brand_name}):"
               f" {endpoint.url}")


@webhooks.command()
@click.pass_context
def key(ctx: click.Context) -> None:
    """Print the public key brands verify webhook signatures with (whpk_ form and JWK)."""
    signer = WebhookSigner.from_master(_home(ctx).master_key())
    click.echo(signer.public_key_text())
    click.echo(json.dumps(signer.public_jwk(), indent=2))


@webhooks.command()
@click.option("--client", "client_id", help="Only this client's events.")
@click.option("--status", type=click.Choice(STATUSES), help="Only events in this state.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="At most this many events, the newest.")
@click.pass_context
def attempts(ctx: click.Context, client_id: str | None, status: str | None, limit: int) -> None:
    """For compliance: each queued event, newest first, with its attempts and state."""
    with _vault(_home(ctx)) as vault:
        _known(vault, client_id)
        entries = outbox_entries(webhook_outbox(vault.data), client_id=client_id,
                                 status=status, limit=limit)
    if not entries:
        click.echo("No webhook events match.")
        return
    rows = [("ID", "BRAND", "EVENT", "STATUS", "ATTEMPTS", "LAST", "NEXT ATTEMPT", "QUEUED",
             "EVENT ID", "URL")]
    for entry in entries:
        rows.append((str(entry.id), entry.brand_name, entry.event_type, entry.status,
                     str(entry.attempts), entry.last_result or "-",
                     _when(entry.next_attempt_at) if entry.status == "pending" else "-",
                     _when(entry.created_at), entry.event_id, entry.url))
    _table(rows)


@webhooks.command("redrive")
@click.argument("outbox_ids", metavar="[ID]...", nargs=-1, type=click.IntRange(min=1))
@click.option("--client", "client_id", help="Every given-up event of this client.")
@click.pass_context
def redrive_command(ctx: click.Context, outbox_ids: tuple[int, ...],
                    client_id: str | None) -> None:
    """Queue given-up (dead) events again: the IDs 'webhooks attempts' lists, or --client's."""
    if bool(outbox_ids) == (client_id is not None):
        raise click.UsageError("name the events (IDs) or a client (--client)"
                               + (", not both" if outbox_ids else ""))
    with _vault(_home(ctx)) as vault:
        _known(vault, client_id)
        done = redrive(webhook_outbox(vault.data), clock=vault.clock,
                       outbox_ids=outbox_ids, client_id=client_id)
    click.echo(f"Queued again: {len(done.queued)} events"
               + (f" ({', '.join(map(str, done.queued))})" if done.queued else "")
               + "; the next delivery pass sends them")
    for outbox_id, reason in done.refused.items():
        click.echo(f"Not queued: {outbox_id}: {reason}", err=True)
    if done.refused:
        sys.exit(1)


@webhooks.command()
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--interval", type=Seconds(min=0.1), default=DEFAULT_INTERVAL,
              show_default=True, help="Seconds between passes.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=DEFAULT_LIMIT,
              show_default=True, help="At most this many deliveries per pass.")
@click.option("--parent-pid", type=int, hidden=True,
              help="Exit once this process (vrmvault serve) is no longer the parent.")
@click.pass_context
def deliver(ctx: click.Context, once: bool, interval: float, limit: int,
            parent_pid: int | None) -> None:
    """Send the webhooks that are due; with --once one pass, else every --interval seconds."""
    home = _home(ctx)
    master = home.master_key()
    if once:
        click.echo(f"Webhooks: {_pass(home, master, limit).summary()}")
        return
    settled = [False]          # duplicates of old stores are settled once per loop
    receipts_by = ctx.find_root().obj["controller"]

    def one_pass() -> bool:
        # Endings no request makes (grants and authorizations past their end) are recorded
        # first, so the webhooks they queue leave in this very pass (web/endings.py); a
        # failure there is reported and never holds up delivery.
        try:
            with _vault(home, master) as vault:
                endings = record_endings(vault, home, receipts_by)
                if not settled[0]:
                    settled[0] = True
                    settle_duplicates(vault, home, receipts_by)
        except Exception as exc:  # reported by class only, as run_every does
            click.echo(f"recording endings failed: {type(exc).__name__}", err=True)
        else:
            if endings.grants_expired or endings.authorizations_expired:
                click.echo(f"Recorded the expiry of {endings.grants_expired} grants and the "
                           f"end of {endings.authorizations_expired} authorizations")
        report = _pass(home, master, limit)
        if report.attempted:
            click.echo(f"Webhooks: {report.summary()}")
        return report.attempted >= limit            # a backlog: the next pass at once

    # Ctrl-C ends the loop like SIGTERM does: quietly, after the delivery in hand.
    run_every(interval, one_pass, name="webhook delivery", parent=parent_pid,
              announce=f"Delivering webhooks every {interval:g} s")
    click.echo("Webhook delivery stopped", err=True)


def _pass(home: VaultHome, master: MasterKey, limit: int) -> DeliveryReport:
    # The store is opened afresh each pass: a restore or a migration in between is picked up.
    with _vault(home, master) as vault:
        return webhook_dispatcher(database=vault.data, signer=WebhookSigner.from_master(master),
                                    clock=vault.clock).deliver_due(limit)
