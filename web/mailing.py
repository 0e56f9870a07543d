"""The mail the member pages send: through which mailer, composed from ``templates/mail/``.

The mailer is chosen once per app from the settings: SMTP when ``VRMVAULT_SMTP_URL`` is set,
else the maildir ``HOME/mail`` (``vault/mail.py``). Nothing here logs an address, a subject or
a link: a link in a log would sign in whoever reads the log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, render_template

from vault.mail import MaildirMailer, Mailer, SmtpEndpoint, SmtpMailer, compose

_EXTENSION = "vrmvault_mailer"
MAILDIR = "mail"


def maildir_path(home: Path) -> Path:
    return home / MAILDIR


def app_maildir() -> Path:
    """The current app's maildir (whether or not SMTP is set: it may hold earlier mail)."""
    return maildir_path(Path(current_app.config["VRMVAULT_HOME"]))


def mailer_for(settings: dict[str, Any] | Any, home: Path) -> Mailer:
    """The mailer the settings ask for (no connection is made until a message is sent)."""
    endpoint = settings.get("VRMVAULT_SMTP_URL")
    if isinstance(endpoint, str):
        endpoint = SmtpEndpoint.parse(endpoint)
    if endpoint is not None:
        return SmtpMailer(endpoint)
    return MaildirMailer(maildir_path(home))


def send_mail(*, to: str, subject: str, template: str, **context: Any) -> None:
    """Compose ``templates/mail/<template>.txt`` and hand it over; :class:`MailError` if the
    mailer cannot take it."""
    text = render_template(f"mail/{template}.txt", **context)
    message = compose(sender=current_app.config["VRMVAULT_MAIL_FROM"], to=to,
                      subject=subject, text=text)
    mailer: Mailer = current_app.extensions[_EXTENSION]
    mailer.send(message)


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = mailer_for(app.config, Path(app.config["VRMVAULT_HOME"]))
