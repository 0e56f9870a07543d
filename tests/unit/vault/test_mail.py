"""``vault/mail.py``: SMTP URLs, the maildir default, and real SMTP (plain, STARTTLS, SMTPS).

The SMTP servers are aiosmtpd in this process; the TLS ones use a self-signed certificate made
here with ``cryptography``, which the client is told to trust (and which a default client,
checking the system's trust store, refuses).
"""

from __future__ import annotations

import os
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.certificates import self_signed_files
from tests.conftest import Inbox, MailCollector, free_port
from vault.errors import MailError
from vault.mail import MaildirMailer, Mailer, SmtpEndpoint, SmtpMailer, compose
from web.config import from_environment


def message(to: str = "carol@example.org"):
    return compose(sender="vrmvault <no-reply@vault.example>", to=to, subject="Your link",
                   text="Follow https://vault.example/signup/verify?token=abc\n")


# -- URLs --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example", ("mail.example", 25, "plain", None, None)),
    ("smtp://mail.example:2525", ("mail.example", 2525, "plain", None, None)),
    ("smtp+starttls://mail.example", ("mail.example", 587, "starttls", None, None)),
    ("SMTPS://u%40x:p%3Ass@mail.example:4650", ("mail.example", 4650, "tls", "u@x", "p:ss")),
    ("smtps://apikey@[::1]", ("::1", 465, "tls", "apikey", None)),
    ("smtp://user:@127.0.0.1:25/", ("127.0.0.1", 25, "plain", "user", "")),
])
def test_smtp_urls_are_parsed(url: str, expected: tuple) -> None:
    endpoint = SmtpEndpoint.parse(url)
    assert (endpoint.host, endpoint.port, endpoint.security, endpoint.username,
            endpoint.password) == expected


@pytest.mark.parametrize(("url", "reason"), [
    ("http://mail.example", "scheme"),
    ("mail.example:25", "scheme"),
    ("smtp://", "no host"),
    ("smtp://mail.example:99999", "not an SMTP URL"),
    ("smtp://mail.example:port", "not an SMTP URL"),
    ("smtp://mail.example/inbox", "path, query or fragment"),
    ("smtp://mail.example?tls=1", "path, query or fragment"),
])
def test_malformed_smtp_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        SmtpEndpoint.parse(url)


def test_the_password_is_never_shown() -> None:
    endpoint = SmtpEndpoint.parse("smtps://user:s3cret-pass@mail.example")
    assert "s3cret" not in repr(endpoint) and "s3cret" not in endpoint.describe()
    assert endpoint.describe() == "SMTP mail.example:465 over TLS"
    with pytest.raises(ValueError) as refused:
        from_environment({"VRMVAULT_SMTP_URL": "smtp://user:s3cret@mail.example:port"})
    assert "VRMVAULT_SMTP_URL" in str(refused.value) and "s3cret" not in str(refused.value)


@pytest.mark.parametrize("sender", ["no-reply", "a@b.example\r\nBcc: x@y.example", "a b@c.d"])
def test_a_malformed_from_address_is_refused(sender: str) -> None:
    with pytest.raises(ValueError, match="VRMVAULT_MAIL_FROM"):
        from_environment({"VRMVAULT_MAIL_FROM": sender})


def test_the_settings_default_to_the_maildir() -> None:
    settings = from_environment({})
    assert settings["VRMVAULT_SMTP_URL"] is None
    assert "@" in settings["VRMVAULT_MAIL_FROM"]


# -- the maildir -------------------------------------------------------------------------------
def test_removing_a_recipients_messages_keeps_everyone_elses(tmp_path: Path) -> None:
    box = MaildirMailer(tmp_path / "mail")
    assert box.remove_messages_to("carol@example.org") == 0        # no maildir yet: nothing
    for to in ("Carol <Carol@Example.org>", "dave@example.org", "carol@example.org",
               "ünïcode@exämple.org"):
        box.send(compose(sender="vrmvault <no-reply@vrmvault.invalid>", to=to,
                         subject="Hello", text="A link."))
    # An address an older version wrote as encoded words, not as an address.
    (tmp_path / "mail" / "new" / "old.eml").write_bytes(
        b"To: =?utf-8?b?w7xuw69jb2Rl?=@=?utf-8?q?ex=C3=A4mple?=.org\r\n"
        b"Subject: Hello\r\n\r\nA link.\r\n")
    assert box.remove_messages_to("CAROL@example.org") == 2
    assert box.remove_messages_to("ünïcode@exämple.org") == 2
    assert [str(message["To"]) for _, message in box.messages()] == ["dave@example.org"]


def test_both_mailers_keep_the_contract(tmp_path: Path) -> None:
    mailers: list[Mailer] = [MaildirMailer(tmp_path / "mail"),
                             SmtpMailer(SmtpEndpoint.parse("smtp://127.0.0.1"))]
    for mailer in mailers:
        assert callable(mailer.send) and isinstance(mailer.describe(), str)


def test_the_maildir_keeps_each_message_private(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path / "mail")
    assert mailer.messages() == [], "nothing yet, and nothing made by looking"
    assert not (tmp_path / "mail").exists()
    mailer.send(message())
    mailer.send(message("dave@example.org"))
    for folder in ("", "new", "cur", "tmp"):
        assert stat.S_IMODE(os.stat(tmp_path / "mail" / folder).st_mode) == 0o700, folder
    files = list((tmp_path / "mail" / "new").iterdir())
    assert len(files) == 2
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    listed = mailer.messages()
    assert [m["To"] for _, m in listed] == ["carol@example.org", "dave@example.org"]
    key = listed[0][0]
    assert mailer.get(key)["Subject"] == "Your link"
    for bad in ("", "nope", "../new", ".hidden"):
        assert mailer.get(bad) is None


def test_an_unwritable_maildir_is_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MailError):
        MaildirMailer(blocker / "mail").send(message())


# -- SMTP --------------------------------------------------------------------------------------
def test_plain_smtp_delivers_the_message(inbox: Inbox) -> None:
    SmtpMailer(SmtpEndpoint.parse(inbox.smtp_url)).send(message())
    delivered = inbox.last("carol@example.org")
    assert delivered["Subject"] == "Your link"
    assert delivered["Auto-Submitted"] == "auto-generated" and delivered["Message-ID"]
    assert "signup/verify?token=abc" in delivered.get_content()


def test_nobody_listening_is_a_mail_error_without_the_address() -> None:
    mailer = SmtpMailer(SmtpEndpoint.parse(f"smtp://127.0.0.1:{free_port()}"), timeout=5)
    with pytest.raises(MailError) as failed:
        mailer.send(message())
    assert "carol" not in failed.value.message


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    return self_signed_files(tmp_path_factory.mktemp("tls"), "127.0.0.1")


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def _client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


class Accounts:
    """An aiosmtpd authenticator: one user, and what was tried."""

    def __init__(self) -> None:
        self.tried: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.tried.append((login, password))
        return AuthResult(success=(login, password) == ("vault", "p@ss word"))


@pytest.fixture
def starttls_server(certificate) -> Iterator[tuple[Controller, MailCollector, Accounts]]:
    collector, accounts = MailCollector(), Accounts()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(),
                            tls_context=_server_context(certificate), require_starttls=True,
                            authenticator=accounts, auth_required=True)
    controller.start()
    yield controller, collector, accounts
    controller.stop()


def test_starttls_with_a_login(starttls_server, certificate) -> None:
    controller, collector, accounts = starttls_server
    endpoint = SmtpEndpoint.parse(f"smtp+starttls://vault:p%40ss%20word@127.0.0.1:"
                                  f"{controller.port}")
    SmtpMailer(endpoint, tls_context=_client_context(certificate)).send(message())
    assert accounts.tried == [("vault", "p@ss word")]
    assert [m["Subject"] for _, m in collector.delivered] == ["Your link"]


def test_starttls_refuses_an_untrusted_certificate(starttls_server) -> None:
    controller, collector, accounts = starttls_server
    endpoint = SmtpEndpoint.parse(f"smtp+starttls://vault:x@127.0.0.1:{controller.port}")
    with pytest.raises(MailError, match="SSLCertVerificationError"):
        SmtpMailer(endpoint).send(message())          # the system's trust store: refused
    assert accounts.tried == [] and collector.delivered == [], "no password sent in clear"


def test_plain_smtp_to_a_server_that_requires_starttls_fails_cleanly(starttls_server) -> None:
    controller, collector, _ = starttls_server
    with pytest.raises(MailError):
        SmtpMailer(SmtpEndpoint.parse(f"smtp://127.0.0.1:{controller.port}")).send(message())
    assert collector.delivered == []


def test_smtps_delivers_over_tls(certificate) -> None:
    collector = MailCollector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(),
                            ssl_context=_server_context(certificate))
    controller.start()
    try:
        endpoint = SmtpEndpoint.parse(f"smtps://127.0.0.1:{controller.port}")
        SmtpMailer(endpoint, tls_context=_client_context(certificate)).send(message())
        with pytest.raises(MailError):
            SmtpMailer(endpoint, timeout=5).send(message())     # untrusted: refused
    finally:
        controller.stop()
    assert [m["To"] for _, m in collector.delivered] == ["carol@example.org"]
