"""``vrmvault brand``: register brands as OAuth clients, list, disable, rotate their secrets.

Registered in ``web/cli.py`` with ``main.add_command(brand)``; like every command there it takes
the vault home from ``ctx.obj["home"]``, and needs a store ``vrmvault init`` brought to its last
migration (opening it checks). Failures are one line on stderr and exit status 1 (the group
catches domain errors itself). A client secret is printed exactly twice in its life: by
``create`` and by ``rotate-secret``, as JSON on stdout for the operator to hand to the brand;
``list`` never shows one, and the store keeps only a keyed hash.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from brand_gateway.clients import CLIENT_SCOPES, ClientRegistry, ClientSecretHasher
from brand_gateway.observers import family_end_hook, grant_observer
from brand_gateway.storage import client_registry
from consent.context import open_consent
from consent.event_details import ClientDisabled, ClientSecretRotated
from consent.vocabulary import AGREEMENT_BY_CODE, DEFAULT_AGREEMENT
from intents.catalog import CATEGORY_BY_ID
from vault.home import Vault, VaultHome

from .cli_errors import ReportingGroup
from .officer_cli import OPERATOR


@contextmanager
def _registry(ctx: click.Context) -> Iterator[ClientRegistry]:
    with _opened(ctx) as (_home, _vault, registry):
        yield registry


@contextmanager
def _opened(ctx: click.Context) -> Iterator[tuple[VaultHome, Vault, ClientRegistry]]:
    home: VaultHome = ctx.obj["home"]
    home.require()
    with home.open() as vault:
        yield home, vault, client_registry(database=vault.data, clock=vault.clock,
                                           hasher=ClientSecretHasher.from_master(vault.master))


@click.group(cls=ReportingGroup)
def brand() -> None:
    """Brands as OAuth clients: register, list, disable, rotate secrets."""


@brand.command()
@click.option("--name", required=True, help="The brand's name (unique).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="An exact redirect URI (https, or http on a loopback host); repeatable.")
@click.option("--category", "categories", multiple=True,
              type=click.Choice(tuple(CATEGORY_BY_ID)), metavar="CATEGORY",
              help="A category of the intent catalog the brand trades in (intents/catalog.py),"
                   " e.g. bicycles; repeatable.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(CLIENT_SCOPES),
              help="A brand-level scope the client may ask for; repeatable (default: all).")
@click.option("--accepts", "accepts", multiple=True, type=click.Choice(tuple(AGREEMENT_BY_CODE)),
              help="An IEEE 7012 term the brand accepts as standing policy; repeatable "
                   "(default: SD-BASE).")
@click.pass_context
def create(ctx: click.Context, name: str, redirect_uris: tuple[str, ...],
           categories: tuple[str, ...], scopes: tuple[str, ...],
           accepts: tuple[str, ...]) -> None:
    """Register a brand as a confidential client and print its credentials as JSON, once."""
    with _registry(ctx) as registry:
        client, secret = registry.create(name, redirect_uris, categories,
                                         scopes=scopes or None,
                                         accepts=accepts or (DEFAULT_AGREEMENT,))
    click.echo(json.dumps({
        "client_id": client.client_id,
        "client_secret": secret,
        "brand_id": client.brand_id,
        "redirect_uris": list(client.redirect_uris),
        "scopes": list(client.scopes),
        "accepted_agreements": list(client.accepted_agreements),
    }, indent=2))
    click.secho("Hand the secret to the brand now: it is not stored and cannot be shown again.",
                err=True)


@brand.command("list")
@click.pass_context
def list_clients(ctx: click.Context) -> None:
    """List the registered clients (never their secrets)."""
    with _registry(ctx) as registry:
        clients = registry.list()
    if not clients:
        click.echo("No brands are registered; add one with 'vrmvault brand create'.")
        return
    rows = [("CLIENT ID", "BRAND", "BRAND ID", "STATUS", "CREATED", "ACCEPTS",
             "REDIRECT URIS")]
    for client in clients:
        created = dt.datetime.fromtimestamp(client.created_at, dt.UTC).date().isoformat()
        rows.append((client.client_id, client.brand_name, client.brand_id, client.status,
                     created, ",".join(client.accepted_agreements),
                     " ".join(client.redirect_uris)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


@brand.command()
@click.argument("client_id")
@click.pass_context
def disable(ctx: click.Context, client_id: str) -> None:
    """Disable CLIENT_ID: its secret stops authenticating at once, and every authorization it
    held ends (each with a receipt and ledger entry for the member and a webhook)."""
    with _opened(ctx) as (home, vault, registry):
        known = registry.get(client_id)
        if not known.active:
            # Disabling is idempotent; say what is true rather than "Disabled" again.
            click.echo(f"{known.client_id} ({known.brand_name}) was disabled already; "
                       "nothing changed")
            return
        # One connection for both: the ending is recorded in the disabling's transaction.
        consent = open_consent(vault, home,
                               observers=[grant_observer(vault.data, vault.master)],
                               controller=ctx.find_root().obj["controller"])
        try:
            client = registry.disable(client_id,
                                      on_end=family_end_hook(consent.grants, vault.data))
            consent.ledger.record_event(actor=OPERATOR, details=ClientDisabled(
                client=client.client_id, brand=client.brand_id))
        finally:
            consent.close()
    click.echo(f"Disabled {client.client_id} ({client.brand_name}); it can no longer "
               "authenticate")


@brand.command("rotate-secret")
@click.argument("client_id")
@click.pass_context
def rotate_secret(ctx: click.Context, client_id: str) -> None:
    """Give CLIENT_ID a new secret, printed as JSON once; the old one, and the access tokens
    issued under it, stop working at once (refresh tokens work with the new secret)."""
    with _opened(ctx) as (home, vault, registry):
        secret = registry.rotate_secret(client_id)
        client = registry.get(client_id)
        consent = open_consent(vault, home, controller=ctx.find_root().obj["controller"])
        try:
            consent.ledger.record_event(actor=OPERATOR, details=ClientSecretRotated(
                client=client_id, brand=client.brand_id, rotated_at=client.secret_rotated_at))
        finally:
            consent.close()
    click.echo(json.dumps({"client_id": client_id, "client_secret": secret}, indent=2))
    click.secho("Hand the new secret to the brand now: it is not stored and cannot be shown "
                "again.", err=True)
