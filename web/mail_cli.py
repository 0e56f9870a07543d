"""``vrmvault mail``: read the mail the vault wrote to its maildir (the embedded default).

With no ``VRMVAULT_SMTP_URL``, every message the vault sends (sign-up links, reset links,
notices) is a file in the maildir ``HOME/mail``; these commands list and show them, for local
use. With SMTP set, mail leaves the machine and ``mail list`` says so (and still lists what the
maildir holds from before). Messages are shown only here, to whoever may read the home: the
server never logs them.
"""

from __future__ import annotations

import datetime as dt
from email.header import decode_header
from email.message import Message

import click

from vault.errors import NotFoundError
from vault.home import VaultHome
from vault.mail import MaildirMailer

from .cli_errors import ReportingGroup
from .mailing import maildir_path, mailer_for


def _header(message: Message, name: str) -> str:
    """A header's text. The vault writes a non-ASCII address as UTF-8 (RFC 6532), which
    Python's maildir reader keeps as bytes of an "unknown-8bit" charset: printed as they
    are, an address such as ünï@... showed as replacement characters."""
    value = message.get(name)
    if value is None:
        return ""
    return "".join(part.decode("utf-8", errors="replace") if isinstance(part, bytes) else part
                   for part, _ in decode_header(value))


def _home(ctx: click.Context) -> VaultHome:
    home: VaultHome = ctx.find_root().obj["home"]
    return home.require()


def _maildir(ctx: click.Context) -> MaildirMailer:
    return MaildirMailer(maildir_path(_home(ctx).root))


@click.group(cls=ReportingGroup)
def mail() -> None:
    """The mail the vault sent, as kept in its maildir (when no SMTP server is set)."""


@mail.command("list")
@click.pass_context
def list_mail(ctx: click.Context) -> None:
    """List the messages in the maildir, oldest first: id, time, recipient, subject."""
    mailer = mailer_for(ctx.find_root().obj["settings"], _home(ctx).root)
    if not isinstance(mailer, MaildirMailer):
        click.echo(f"Mail goes out by {mailer.describe()}; nothing new is kept here.")
    box = _maildir(ctx)
    messages = box.messages()
    if not messages:
        click.echo(f"No messages in {box.path}.")
        return
    for key, message in messages:
        when = dt.datetime.fromtimestamp(message.get_date(), dt.UTC).strftime("%Y-%m-%d %H:%M")
        subject = " ".join(_header(message, "Subject").split())
        click.echo(f"{key}  {when}  {_header(message, 'To')}  {subject}")


@mail.command()
@click.argument("message_id", metavar="ID")
@click.pass_context
def show(ctx: click.Context, message_id: str) -> None:
    """Print the message ID (from 'mail list'): its headers and its text."""
    message = _maildir(ctx).get(message_id)
    if message is None:
        raise NotFoundError(f"no message {message_id[:80]!r} in the maildir;"
                            " see 'vrmvault mail list'")
    for name in ("From", "To", "Subject", "Date"):
        if message.get(name) is not None:
            click.echo(f"{name}: {_header(message, name)}")
    click.echo()
    body = message.get_payload(decode=True)
    charset = message.get_content_charset() or "utf-8"
    click.echo(body.decode(charset, errors="replace") if isinstance(body, bytes) else "")
