"""E-mail addresses are checked wherever one enters, and mailed in a form SMTP can carry.

Through the pages and a real SMTP server (aiosmtpd): sign-up, the reset request and the
profile's contact address refuse what is not one deliverable address, with the reason next to
the field and in the summary naming it, and nothing is mailed or stored; an internationalised
domain is accepted and mailed in its IDNA form, letters outside ASCII before the @ with
SMTPUTF8, and where the operator's mail server cannot carry those the page says so next to the
address; an account made before addresses were checked this way still signs in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.apps import opened_app
from tests.conftest import GOOD_PASSWORD, TEST_HASHING, AuthActions, MailCollector, free_port
from vault.email_addresses import NOT_DELIVERABLE_HERE
from vault.home import Vault

from .conftest import SignedIn
from .pages import count, error_summary, field_errors

REFUSED = [
    ("<script>alert(1)</script>@x.example", "An e-mail address cannot contain < or >."),
    ("x@[127.0.0.1]", "Use a domain name after the @ (like example.org), not an address in"
                      " brackets."),
    ('"a b"@example.org', "Quoting the part before the @ is not allowed here."),
    ("Alice <alice@example.org>", "An e-mail address cannot contain < or >."),
    ("alice@vault.invalid", "special-use or reserved name"),
    ("alice..b@example.org", "An e-mail address cannot have two periods in a row."),
    ("a@-x.org", "An e-mail address cannot have a hyphen immediately after the @."),
    ("alice@example", "It should have a period."),
]


@pytest.mark.parametrize(("email", "reason"), REFUSED)
def test_signup_refuses_an_address_with_the_reason_next_to_the_field(
        auth, vault: Vault, inbox, email: str, reason: str) -> None:
    response = auth.signup(email)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    [message] = field_errors(page, "email")
    assert message.startswith("E-mail address: ") and reason in message, message
    assert "E-mail address" in error_summary(page)
    assert count(vault, "signup_requests") == 0 and inbox.messages() == []


@pytest.mark.parametrize(("email", "reason"), REFUSED[:3])
def test_a_reset_request_refuses_an_address_with_the_reason(
        auth, vault: Vault, inbox, email: str, reason: str) -> None:
    response = auth.post("/password/forgot", {"email": email})

    assert response.status_code == 422
    [message] = field_errors(response.get_data(as_text=True), "email")
    assert reason in message, message
    assert count(vault, "password_resets") == 0 and inbox.messages() == []


@pytest.mark.parametrize(("email", "reason"), REFUSED[:3])
def test_the_contact_address_is_checked_the_same_way(
        alice: SignedIn, vault: Vault, email: str, reason: str) -> None:
    response = alice.auth.post("/member/profile", {"contact_email": email})

    assert response.status_code == 422
    [message] = field_errors(response.get_data(as_text=True), "contact_email")
    assert message.startswith("Contact e-mail: ") and reason in message, message
    assert vault.profile.get(alice.id).get("contact_email") is None


def test_an_international_address_is_mailed_as_utf8_with_its_domain_in_idna(
        auth, vault: Vault, inbox) -> None:
    """Letters outside ASCII before the @ go with SMTPUTF8 (RFC 6531; the test server offers
    it) and stand in the header as UTF-8 (RFC 6532), not as encoded words."""
    assert auth.signup("Ünïcode@Exämple.org").status_code == 200
    [message] = inbox.messages("ünïcode@xn--exmple-cua.org")
    assert message["To"] == "ünïcode@xn--exmple-cua.org"
    assert "=?" not in str(message["To"])


def test_an_international_domain_is_mailed_in_its_idna_form(auth, client, vault: Vault,
                                                             inbox) -> None:
    assert auth.signup("Kim@Exämple.org").status_code == 200
    [message] = inbox.messages("kim@xn--exmple-cua.org")
    assert message["To"] == "kim@xn--exmple-cua.org"
    assert auth.verify(inbox.link("kim@xn--exmple-cua.org")).status_code == 302
    assert "<strong>kim@exämple.org</strong>" in client.get("/member/").get_data(as_text=True)

    # The same address typed in its IDNA form is the same account.
    client.post("/logout", data={"csrf_token": auth.csrf("/member/")})
    assert auth.login("kim@xn--exmple-cua.org").status_code == 302
    assert auth.signup("kim@xn--EXMPLE-cua.org").status_code == 200
    assert count(vault, "signup_requests") == 0 and count(vault, "members") == 1


@pytest.mark.parametrize("stored", ["ünïcode@exämple.org", "kim@xn--exmple-cua.org"])
def test_an_account_made_before_the_check_still_signs_in(
        auth, client, vault: Vault, stored: str) -> None:
    """Stored as the vault normalised addresses before (NFKC, trimmed, lower-cased)."""
    member_id = vault.members.insert(email=stored, index=vault.members.email_index(stored),
                                     password_hash=vault.password_hasher.hash(GOOD_PASSWORD))

    response = auth.login(stored.upper() if stored.isascii() else stored)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/member/").status_code == 200
    assert vault.members.find(stored) == member_id


@pytest.fixture
def plain_relay() -> Iterator[tuple[Controller, MailCollector]]:
    """A real SMTP server that does not offer SMTPUTF8 (RFC 6531), as many relays do not."""
    collector = MailCollector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(),
                            enable_SMTPUTF8=False)
    controller.start()
    try:
        yield controller, collector
    finally:
        controller.stop()


def test_a_relay_without_smtputf8_is_said_next_to_the_address(
        vault_home, clock, vault: Vault, plain_relay) -> None:
    controller, collector = plain_relay
    with opened_app({"TESTING": True, "VRMVAULT_HOME": vault_home.root,
                     "VRMVAULT_CLOCK": clock,
                     "VRMVAULT_ARGON2_TIME_COST": TEST_HASHING.time_cost,
                     "VRMVAULT_ARGON2_MEMORY_KIB": TEST_HASHING.memory_kib,
                     "VRMVAULT_ARGON2_PARALLELISM": TEST_HASHING.parallelism,
                     "VRMVAULT_SMTP_URL": f"smtp://127.0.0.1:{controller.port}"}) as app:
        actions = AuthActions(app.test_client())
        response = actions.signup("ünïcode@example.org")
        assert response.status_code == 422
        assert field_errors(response.get_data(as_text=True), "email") == [
            "E-mail address: " + NOT_DELIVERABLE_HERE]
        assert count(vault, "signup_requests") == 0

        vault.members.register("zoë@example.org", GOOD_PASSWORD)
        response = actions.post("/password/forgot", {"email": "zoë@example.org"})
        assert response.status_code == 422
        assert NOT_DELIVERABLE_HERE in field_errors(response.get_data(as_text=True), "email")[0]
        assert count(vault, "password_resets") == 0

        assert actions.signup("kim@exämple.org").status_code == 200     # an IDN domain goes
    assert [recipients for recipients, _ in collector.delivered] == [["kim@xn--exmple-cua.org"]]
