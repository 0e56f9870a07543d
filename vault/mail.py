"""Outgoing mail: verification links, password resets, notices.

Two ways out, one contract (:class:`Mailer`):

- :class:`SmtpMailer` sends over SMTP (``smtp://`` plain, ``smtp+starttls://`` upgraded with
  STARTTLS, ``smtps://`` TLS from the first byte, RFC 8314), with the certificate checked
  against the system's trust store whenever TLS is used; user and password come from the URL.
- :class:`MaildirMailer` is the embedded default: each message becomes one file of a maildir
  under the vault home (directory 0700, files 0600), read locally with ``vrmvault mail``.

Invariants: nothing here logs or echoes an address, a subject or a body (messages carry links
that sign people in); an :class:`SmtpEndpoint` never shows its password in ``repr``. A message
that cannot be handed over raises :class:`~vault.errors.MailError`, and nothing is half-sent:
SMTP delivers a message whole or not at all.
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import SMTP, SMTPUTF8
from email.policy import default as default_policy
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from .email_addresses import comparable, transport_address
from .errors import MailError, RecipientNotSupportedError

SECURITY_BY_SCHEME = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}
DEFAULT_PORTS = {"plain": 25, "starttls": 587, "tls": 465}
SMTP_TIMEOUT = 15
DEFAULT_SENDER = "vrmvault <no-reply@vrmvault.invalid>"


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where and how to hand mail over, parsed from ``VRMVAULT_SMTP_URL``."""

    host: str
    port: int
    security: str                     # "plain", "starttls" or "tls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> SmtpEndpoint:
        """``smtp[+starttls]://[user[:password]@]host[:port]`` or ``smtps://…``; raises
        ``ValueError`` saying what is wrong (never quoting the password)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ValueError("is not an SMTP URL") from None
        security = SECURITY_BY_SCHEME.get(parts.scheme.lower())
        if security is None:
            raise ValueError("has a scheme other than smtp, smtp+starttls or smtps")
        if not parts.hostname:
            raise ValueError("names no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("has a path, query or fragment")
        return cls(host=parts.hostname, port=port or DEFAULT_PORTS[security],
                   security=security,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password is not None else None)

    def describe(self) -> str:
        """Where mail goes, for command output: host, port and security, never credentials."""
        how = {"plain": "without TLS", "starttls": "with STARTTLS", "tls": "over TLS"}
        return f"SMTP {self.host}:{self.port} {how[self.security]}"


class Mailer(Protocol):
    """Hands a finished message over for delivery, or raises :class:`MailError`."""

    def send(self, message: EmailMessage) -> None: ...

    def describe(self) -> str: ...


def compose(*, sender: str, to: str, subject: str, text: str) -> EmailMessage:
    """A plain-text message (UTF-8), dated and with a Message-ID."""
    to = transport_address(to)       # an IDN domain in its ASCII form
    # An address with letters outside ASCII before the @ travels as UTF-8 (RFC 6532, with
    # SMTPUTF8): an encoded word there is no address at all (RFC 2047 sec. 5).
    message = EmailMessage(policy=SMTP if to.isascii() else SMTPUTF8)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="vrmvault.invalid")
    message["Auto-Submitted"] = "auto-generated"          # RFC 3834: no auto-replies, please
    message.set_content(text)
    return message


class SmtpMailer:
    def __init__(self, endpoint: SmtpEndpoint, *, timeout: float = SMTP_TIMEOUT,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.endpoint = endpoint
        self._timeout = timeout
        self._tls_context = tls_context

    @property
    def _tls(self) -> ssl.SSLContext:
        # Made on first use: loading the system's CA certificates takes 25 ms, every time an
        # app is made (each worker, each command), for a mailer that may never send over TLS.
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context

    def describe(self) -> str:
        return self.endpoint.describe()

    def send(self, message: EmailMessage) -> None:
        endpoint = self.endpoint
        try:
            if endpoint.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(endpoint.host, endpoint.port,
                                                      timeout=self._timeout, context=self._tls)
            else:
                smtp = smtplib.SMTP(endpoint.host, endpoint.port, timeout=self._timeout)
            with smtp:
                smtp.ehlo()
                if endpoint.security == "starttls":
                    smtp.starttls(context=self._tls)
                    smtp.ehlo()
                if endpoint.username is not None:
                    smtp.login(endpoint.username, endpoint.password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPNotSupportedError:
            # smtplib asks for SMTPUTF8 (RFC 6531) only for an address that needs it, and
            # refuses before sending when the server does not offer it.
            raise RecipientNotSupportedError(
                f"{endpoint.describe()} does not take international addresses (SMTPUTF8)"
            ) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            # The exception text may quote the address the server refused: not passed on.
            raise MailError(f"the mail could not be handed to {endpoint.describe()}"
                            f" ({type(exc).__name__})") from None
        if refused:
            raise MailError(f"{endpoint.describe()} refused the recipient")


class MaildirMailer:
    """Writes each message into a maildir (Python's :class:`mailbox.Maildir`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"maildir {self.path}"

    def open(self, *, create: bool = True) -> mailbox.Maildir:
        # mailbox makes the folder and its tmp/new/cur as 0700 (and the parent must exist).
        try:
            box = mailbox.Maildir(self.path, create=create)
        except (OSError, mailbox.Error) as exc:
            raise MailError(f"cannot open the maildir {self.path}") from exc
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o700)
        return box

    def send(self, message: EmailMessage) -> None:
        box = self.open()
        try:
            key = box.add(message)
            # mailbox writes 0666 less the umask, inside a 0700 folder (a message without
            # maildir flags goes to new/); keep each message 0600.
            os.chmod(self.path / "new" / key, 0o600)
        except OSError as exc:
            raise MailError(f"cannot write to the maildir {self.path}") from exc

    def messages(self) -> list[tuple[str, mailbox.MaildirMessage]]:
        """Every message, oldest first, with its maildir key (its id for ``mail show``)."""
        if not self.path.exists():
            return []
        box = self.open(create=False)
        items = [(key, box[key]) for key in box.keys()]
        return sorted(items, key=lambda item: (item[1].get_date(), item[0]))

    def remove_messages_to(self, address: str) -> int:
        """Delete every message addressed to ``address`` (compared after NFKC and lower-casing,
        as login addresses are), in the form it was given or the one :func:`compose` sent it
        to (an international domain in IDNA); how many. The maildir is the vault's own copy
        of what it sent, so an erasure takes the member's messages with it."""
        if not self.path.exists():
            return 0
        wanted = {comparable(address), comparable(transport_address(address))}
        box = self.open(create=False)
        removed = 0
        try:
            for key in list(box.keys()):
                headers = BytesParser(policy=default_policy).parsebytes(box.get_bytes(key),
                                                                        headersonly=True)
                if wanted & _recipients(headers):
                    box.remove(key)
                    removed += 1
        except (OSError, mailbox.Error) as exc:
            raise MailError(f"cannot remove messages from the maildir {self.path}") from exc
        return removed

    def get(self, key: str) -> mailbox.MaildirMessage | None:
        if not self.path.exists() or not key or "/" in key or key.startswith("."):
            return None
        try:
            return self.open(create=False)[key]
        except KeyError:
            return None


def _recipients(headers: Message) -> set[str]:
    """Every address a message's To names, canonical: as parsed, and as the header's decoded
    text (an address an older version encoded word by word parses as no address at all)."""
    found: set[str] = set()
    for header in headers.get_all("To") or ():
        for parsed in getattr(header, "addresses", ()):
            found.add(comparable(parsed.addr_spec))
        text = str(make_header(decode_header(str(header))))
        found.update(comparable(value) for _, value in getaddresses([text]))
    return found
