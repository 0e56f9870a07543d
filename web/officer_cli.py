"""``vrmvault officer``: who is a compliance officer.

Registered in ``web/cli.py`` with ``main.add_command(officer)``; like every command there it
takes the vault home from ``ctx.obj["home"]``. An officer is an ordinary account (made on the
sign-up page, signed in on the sign-in page) with the ``compliance`` role, which only this
command gives or takes: the web has no way to change a role. The role is given only to an
account with two-step sign-in on (``MemberService.set_role`` refuses otherwise), and while it
is held two-step sign-in cannot be turned off: an officer's account is worth more to an
attacker than a member's, so a password alone must never open the console. A change takes
effect on the account's next request, in sessions that are open already too, and is recorded
in the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import click

from consent.context import open_consent
from consent.event_details import RoleGranted, RoleRevoked
from vault.errors import NotFoundError, StoreNotInitialisedError, ValidationError
from vault.home import Vault, VaultHome
from vault.members import COMPLIANCE, MEMBER, MemberService

from .cli_errors import ReportingGroup

OPERATOR = "operator"           # the ledger's actor for a change made with this command


@contextmanager
def _vault(ctx: click.Context) -> Iterator[tuple[VaultHome, Vault]]:
    home: VaultHome = ctx.find_root().obj["home"]
    if not home.exists():
        raise StoreNotInitialisedError(f"no store in {home.root}; run 'vrmvault init' first")
    with home.open() as vault:
        yield home, vault


def _set_role(ctx: click.Context, email: str, role: str) -> bool:
    """Give EMAIL's account ``role``; a change is recorded in the ledger (the account by its
    pseudonym, the operator as ``operator``: whoever holds the master key on this machine)."""
    with _vault(ctx) as (home, vault):
        member_id = _member_id(vault.members, email)
        changed = vault.members.set_role(member_id, role)
        if changed:
            consent = open_consent(vault, home)
            try:
                change = RoleGranted if role == COMPLIANCE else RoleRevoked
                consent.ledger.record_event(
                    actor=OPERATOR, details=change(member=consent.principal(member_id)))
            finally:
                consent.close()
    return changed


def _member_id(members: MemberService, email: str) -> str:
    try:
        member_id = members.find(email)
    except ValidationError as exc:
        raise click.BadParameter(exc.errors["email"][0], param_hint="EMAIL") from None
    if member_id is None:
        raise NotFoundError("no account has that e-mail address; the officer signs up first")
    return member_id


@click.group(cls=ReportingGroup)
def officer() -> None:
    """Compliance officers: accounts that may also open the compliance console."""


@officer.command()
@click.argument("email")
@click.pass_context
def grant(ctx: click.Context, email: str) -> None:
    """Make the account with login address EMAIL a compliance officer (it needs two-step
    sign-in on)."""
    changed = _set_role(ctx, email, COMPLIANCE)
    click.echo(f"{email} is {'now' if changed else 'already'} a compliance officer")


@officer.command()
@click.argument("email")
@click.pass_context
def revoke(ctx: click.Context, email: str) -> None:
    """Make EMAIL's account an ordinary member again (the console closes to it at once)."""
    changed = _set_role(ctx, email, MEMBER)
    click.echo(f"{email} is {'no longer' if changed else 'not'} a compliance officer")


@officer.command("list")
@click.pass_context
def list_officers(ctx: click.Context) -> None:
    """List the compliance officers, oldest account first."""
    with _vault(ctx) as (_, vault):
        officers = vault.members.with_role(COMPLIANCE)
    if not officers:
        click.echo("No compliance officers; make one with 'vrmvault officer grant EMAIL'.")
        return
    rows = [("E-MAIL", "SIGNED UP", "TWO-STEP SIGN-IN")]
    for account in officers:
        created = dt.datetime.fromtimestamp(account.created_at, dt.UTC).date().isoformat()
        rows.append((account.email, created, "on" if account.totp_enabled else "off"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))
