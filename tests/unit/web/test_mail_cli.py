"""The embedded mail default (a maildir under the home) and ``vrmvault mail list/show``.

A sign-up on an app with no ``VRMVAULT_SMTP_URL`` writes its message to ``HOME/mail``; the
command lists and shows it, and the link in it opens the vault.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from tests.apps import opened_app
from tests.conftest import GOOD_PASSWORD, TEST_HASHING, AuthActions
from vault.clock import FrozenClock
from vault.home import VaultHome
from vault.mail import MaildirMailer
from web.cli import main
from web.mail_cli import mail


def run(home: VaultHome, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--home", str(home.root), *args],
                              env={"VRMVAULT_MASTER_KEY": "", "VRMVAULT_SMTP_URL": "",
                                   **(env or {})}, catch_exceptions=False)


@pytest.fixture
def maildir_app(vault_home: VaultHome, clock: FrozenClock) -> Iterator[Flask]:
    """The app with no SMTP server set: its mail goes to the home's maildir."""
    with opened_app({
        "TESTING": True, "VRMVAULT_HOME": vault_home.root, "VRMVAULT_CLOCK": clock,
        "VRMVAULT_ARGON2_TIME_COST": TEST_HASHING.time_cost,
        "VRMVAULT_ARGON2_MEMORY_KIB": TEST_HASHING.memory_kib,
        "VRMVAULT_ARGON2_PARALLELISM": TEST_HASHING.parallelism,
    }) as made:
        yield made


def test_the_group_has_its_commands() -> None:
    assert set(mail.commands) == {"list", "show"}


def test_sign_up_mail_lands_in_the_maildir_and_the_command_reads_it(
        vault_home: VaultHome, maildir_app: Flask) -> None:
    assert "No messages in" in run(vault_home, "mail", "list").output
    auth = AuthActions(maildir_app.test_client())
    assert auth.signup("carol@example.org", GOOD_PASSWORD).status_code == 200

    listed = run(vault_home, "mail", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 1
    message_id, _, _, recipient, *subject = lines[0].split()
    assert recipient == "carol@example.org"
    assert " ".join(subject) == "Confirm your address to open your vault"

    shown = run(vault_home, "mail", "show", message_id)
    assert shown.exit_code == 0, shown.output
    assert "To: carol@example.org" in shown.output
    link = re.search(r"http://[^/\s]+(/signup/verify\?token=\S+)", shown.output)
    assert link, shown.output
    assert auth.verify(link.group(1)).status_code == 302
    assert auth.client.get("/member/").status_code == 200


def test_an_international_address_is_listed_and_shown_as_written(
        vault_home: VaultHome, maildir_app: Flask) -> None:
    # The vault writes a non-ASCII local part as UTF-8 (RFC 6532); it was listed and shown
    # as replacement characters.
    auth = AuthActions(maildir_app.test_client())
    assert auth.signup("ünï@exämple.org", GOOD_PASSWORD).status_code == 200
    [line] = run(vault_home, "mail", "list").output.splitlines()
    message_id, _, _, recipient, *_ = line.split()
    assert recipient == "ünï@xn--exmple-cua.org"
    shown = run(vault_home, "mail", "show", message_id).output
    assert "To: ünï@xn--exmple-cua.org" in shown and "\ufffd" not in shown


def test_an_unknown_message_is_one_line_and_exit_1(vault_home: VaultHome) -> None:
    result = run(vault_home, "mail", "show", "../../master.key")
    assert result.exit_code == 1
    assert result.output.startswith("error: no message") and "Traceback" not in result.output


def test_with_smtp_set_the_list_says_where_mail_goes(vault_home: VaultHome) -> None:
    result = run(vault_home, "mail", "list",
                 env={"VRMVAULT_SMTP_URL": "smtps://user:s3cret@mail.example"})
    assert result.exit_code == 0
    assert "Mail goes out by SMTP mail.example:465 over TLS" in result.output
    assert "s3cret" not in result.output


def test_init_says_where_mail_goes(tmp_path: Path) -> None:
    home = VaultHome(tmp_path / "var")
    result = run(home, "init")
    assert result.exit_code == 0, result.output
    assert f"mail: written to the maildir {home.root / 'mail'}" in result.output
    result = run(home, "init", env={"VRMVAULT_SMTP_URL": "smtp+starttls://u:pw@mx.example"})
    assert "mail: sent by SMTP mx.example:587 with STARTTLS" in result.output
    assert ":pw" not in result.output


def test_on_postgresql_the_maildir_is_said_to_be_the_hosts_own(
        postgresql_home: VaultHome, tmp_path: Path) -> None:
    # Several hosts share the database, not their homes: an erasure run on one cannot reach
    # another's maildir, so a host that writes mail there says to use SMTP instead.
    result = run(postgresql_home, "init")
    assert result.exit_code == 0, result.output
    assert f"mail: written to the maildir {postgresql_home.root / 'mail'}" in result.output
    assert "with several hosts set VRMVAULT_SMTP_URL on each" in result.output
    result = run(postgresql_home, "init", env={"VRMVAULT_SMTP_URL": "smtp://mx.example"})
    assert "several hosts" not in result.output
    alone = VaultHome(tmp_path / "alone")
    assert "several hosts" not in run(alone, "init").output


# -- an erasure takes the member's messages out of the maildir ----------------------------------
def _join(auth: AuthActions, home: VaultHome, email: str, *, to: str | None = None) -> None:
    """Sign up and follow the link the maildir holds for ``email`` (mailed to ``to``, the
    transport's form of it, if it differs)."""
    assert auth.signup(email, GOOD_PASSWORD).status_code == 200
    texts = [message.get_payload(decode=True).decode()
             for _, message in MaildirMailer(home.root / "mail").messages()
             if message["To"] == (to or email)]
    link = re.search(r"http://[^/\s]+(/signup/verify\?token=\S+)", texts[-1])
    assert link and auth.verify(link.group(1)).status_code == 302


def _recipients(home: VaultHome) -> list[str]:
    listed = run(home, "mail", "list")
    assert listed.exit_code == 0, listed.output
    return [line.split()[3] for line in listed.output.splitlines()
            if not line.startswith("No messages")]


@pytest.mark.parametrize(("email", "sent_to", "asked_as"), [
    ("carol@example.org", "carol@example.org", "Carol@Example.ORG"),
    # An international domain is mailed in its IDNA form, and that copy goes too.
    ("carol@bücher.org", "carol@xn--bcher-kva.org", "Carol@Bücher.org"),
])
def test_deleting_an_account_removes_its_mail_from_the_maildir(
        vault_home: VaultHome, maildir_app: Flask, email: str, sent_to: str,
        asked_as: str) -> None:
    carol = AuthActions(maildir_app.test_client())
    _join(carol, vault_home, email, to=sent_to)
    _join(AuthActions(maildir_app.test_client()), vault_home, "dave@example.org")
    # A second message to Carol, her address written otherwise by whoever asked.
    assert AuthActions(maildir_app.test_client()).post(
        "/password/forgot", {"email": asked_as}).status_code == 200
    assert _recipients(vault_home).count(sent_to) == 2

    deleted = carol.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"},
                         form_page="/member/delete")
    assert deleted.status_code == 303, deleted.get_data(as_text=True)
    assert _recipients(vault_home) == ["dave@example.org"]


def test_an_erasure_finished_after_a_stop_removes_the_mail_too(
        vault_home: VaultHome, maildir_app: Flask) -> None:
    _join(AuthActions(maildir_app.test_client()), vault_home, "carol@example.org")
    with vault_home.open() as vault:
        member_id = vault.members.find("carol@example.org")
        assert member_id is not None
        vault.erasure.begin(member_id)          # confirmed; the process stops here
    assert _recipients(vault_home) == ["carol@example.org"]
    finished = run(vault_home, "init")
    assert "finished 1 erasure a stop had interrupted" in finished.output
    assert _recipients(vault_home) == []


def test_a_maildir_that_cannot_be_cleared_does_not_hold_up_the_erasure(
        vault_home: VaultHome, maildir_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    carol = AuthActions(maildir_app.test_client())
    _join(carol, vault_home, "carol@example.org")
    cur = vault_home.root / "mail" / "cur"
    cur.rmdir()
    cur.write_text("a file where the maildir wants a folder")
    deleted = carol.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"},
                         form_page="/member/delete")
    assert deleted.status_code == 303
    with vault_home.open() as vault:
        assert vault.data.one("SELECT count(*) FROM members")[0] == 0
        assert vault.erasure.pending() == []
    assert [record.getMessage() for record in caplog.records if record.name == "web.erasures"] \
        == [f"cannot remove messages from the maildir {vault_home.root / 'mail'}; an erased"
            " member's messages may remain there: remove them by hand"]
    assert "carol" not in caplog.text


def test_a_home_without_stores_is_named_not_listed_as_empty(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "nowhere"), "mail", "list"],
                                env={"VRMVAULT_MASTER_KEY": "", "VRMVAULT_SMTP_URL": ""})
    assert result.exit_code == 1
    assert "no store in" in result.output and "vrmvault init" in result.output
    assert "No messages" not in result.output
