"""``vrmvault officer``: who is a compliance officer, and who is an administrator.

Registered in ``web/cli.py`` with ``main.add_command(officer)``; like every command there it
takes the vault home from ``ctx.obj["home"]``. Officers and administrators are ordinary
accounts (made on the sign-up page, signed in on the sign-in page) with the ``compliance`` or
the ``administrator`` role, which only this command gives or takes (``--role``, compliance by
default): the web has no way to change a role. An account holds one of the two at most. A role
is given only to an account with two-step sign-in on (``MemberService.set_role`` refuses
otherwise), and while it is held two-step sign-in cannot be turned off: such an account is
worth more to an attacker than a member's, so a password alone must never open the console. A
change takes effect on the account's next request, in sessions that are open already too, and
is recorded in the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import click

from consent.context import open_consent
from consent.event_details import RoleGranted, RoleRevoked
from vault.errors import NotFoundError, ValidationError
from vault.home import Vault, VaultHome
from vault.members import (
    ADMINISTRATOR,
    COMPLIANCE,
    MEMBER,
    ROLE_NAMES,
    STAFF_ROLES,
    MemberService,
)

from .cli_errors import ReportingGroup

OPERATOR = "operator"           # the ledger's actor for a change made with this command


@contextmanager
def _vault(ctx: click.Context) -> Iterator[tuple[VaultHome, Vault]]:
    home: VaultHome = ctx.find_root().obj["home"]
    home.require()
    with home.open() as vault:
        yield home, vault


def _set_role(ctx: click.Context, email: str, role: str, *, revoking: str | None = None
              ) -> bool:
    """Give EMAIL's account ``role`` (or, ``revoking`` a staff role it holds, make it a
    member); a change is recorded in the ledger (the account by its pseudonym, the operator as
    ``operator``: whoever holds the master key on this machine)."""
    with _vault(ctx) as (home, vault):
        member_id = _member_id(vault.members, email)
        if revoking is not None and vault.members.role(member_id) != revoking:
            return False
        changed = vault.members.set_role(member_id, role)
        if changed:
            consent = open_consent(vault, home, controller=ctx.find_root().obj["controller"])
            try:
                member = consent.principal(member_id)
                details = (RoleRevoked(member=member, role=revoking) if revoking is not None
                           else RoleGranted(member=member, role=role))
                consent.ledger.record_event(actor=OPERATOR, details=details)
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


ROLE_OPTION = click.option(
    "--role", type=click.Choice((COMPLIANCE, ADMINISTRATOR)), default=COMPLIANCE,
    show_default=True, help="compliance: the officer's console (ledger, requests, reports,"
    " reveals); administrator: brand management in the console.")


@click.group(cls=ReportingGroup)
def officer() -> None:
    """Compliance officers and administrators: accounts that may also open the console."""


@officer.command()
@click.argument("email")
@ROLE_OPTION
@click.pass_context
def grant(ctx: click.Context, email: str, role: str) -> None:
    """Make the account with login address EMAIL a compliance officer, or with --role
    administrator an administrator (it needs two-step sign-in on)."""
    changed = _set_role(ctx, email, role)
    click.echo(f"{email} is {'now' if changed else 'already'} {_a(role)}")


@officer.command()
@click.argument("email")
@ROLE_OPTION
@click.pass_context
def revoke(ctx: click.Context, email: str, role: str) -> None:
    """Take the role (compliance unless --role says otherwise) from EMAIL's account, making it
    an ordinary member again (the console closes to it at once)."""
    changed = _set_role(ctx, email, MEMBER, revoking=role)
    held = None if changed else _held_role(ctx, email)
    # The other staff role still held is said: the console stays open to the account.
    click.echo(f"{email} is {'no longer' if changed else 'not'} {_a(role)}" + (
        f" (it is {_a(held)}, which it keeps: --role {held} revokes that)"
        if held in (COMPLIANCE, ADMINISTRATOR) else ""))


def _held_role(ctx: click.Context, email: str) -> str | None:
    with _vault(ctx) as (_, vault):
        return vault.members.role(_member_id(vault.members, email))


def _a(role: str) -> str:
    name = ROLE_NAMES[role]
    return ("an " if name[0] in "aeiou" else "a ") + name


@officer.command("list")
@click.pass_context
def list_officers(ctx: click.Context) -> None:
    """List the compliance officers and administrators, oldest account first."""
    with _vault(ctx) as (_, vault):
        staff = [(account, role) for role in (COMPLIANCE, ADMINISTRATOR)
                 for account in vault.members.with_role(role, readable_only=True)]
        unreadable = vault.members.count_with_role(STAFF_ROLES) - len(staff)
    if unreadable:
        # A key store restored from before their key: their address cannot be read.
        one = unreadable == 1
        whose = "its key was" if one else "their keys were"
        click.echo(f"{unreadable} account{'' if one else 's'} with a role"
                   f" {'is' if one else 'are'} not listed: {whose} lost in a restore"
                   " ('vrmvault reapply-erasures' names them)", err=True)
    if not staff:
        click.echo("No compliance officers or administrators; make one with"
                   " 'vrmvault officer grant EMAIL [--role administrator]'.")
        return
    staff.sort(key=lambda pair: pair[0].created_at)
    rows = [("E-MAIL", "ROLE", "SIGNED UP", "TWO-STEP SIGN-IN")]
    for account, role in staff:
        created = dt.datetime.fromtimestamp(account.created_at, dt.UTC).date().isoformat()
        rows.append((account.email, role, created, "on" if account.totp_enabled else "off"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))
