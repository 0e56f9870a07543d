"""The normal, look-up and transport forms of an address (vault/email_addresses.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault.email_addresses import (
    check_email,
    lookup_forms,
    normalise_email,
    transport_address,
)
from vault.errors import ValidationError
from vault.mail import MaildirMailer, compose


@pytest.mark.parametrize(("typed", "normal"), [
    ("  Alice@Example.ORG ", "alice@example.org"),
    ("ａｌｉｃｅ@example.org", "alice@example.org"),
    ("x@EXÄMPLE.org", "x@exämple.org"),
    ("x@xn--exmple-cua.org", "x@exämple.org"),
    ("a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"),
])
def test_one_address_has_one_normal_form(typed: str, normal: str) -> None:
    assert normalise_email(typed) == normal


@pytest.mark.parametrize("typed", ["x@[127.0.0.1]", "x@[IPv6:::1]", "<x>@example.org",
                                   "a@localhost", "a@b.onion", '"x"@example.org', "a@b@c.org",
                                   "x" * 65 + "@example.org", "a@" + "x" * 260 + ".org"])
def test_what_mail_cannot_reach_is_refused_under_the_field_named(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_email(typed, field="address")
    assert list(caught.value.errors) == ["address"]


def test_the_transport_form_is_ascii_and_the_contact_form_keeps_the_case_typed() -> None:
    assert transport_address("x@exämple.org") == "x@xn--exmple-cua.org"
    assert transport_address("alice@example.org") == "alice@example.org"
    assert transport_address("ü@exämple.org") == "ü@xn--exmple-cua.org"
    assert transport_address("a b@example.org") == "a b@example.org"    # refused: unchanged
    assert check_email("Alice.Contact@Example.ORG") == "Alice.Contact@example.org"
    with pytest.raises(ValueError, match="not an address in brackets"):
        check_email("x@[127.0.0.1]")


def test_the_maildir_holds_an_international_address_as_utf8(tmp_path: Path) -> None:
    """RFC 6532: no encoded words in an address (what the trial found in ``var/mail``)."""
    mailer = MaildirMailer(tmp_path / "mail")
    mailer.send(compose(sender="vrmvault <no-reply@vault.example>", to="ünïcode@exämple.org",
                        subject="Your link", text="Hello"))
    assert len(mailer.messages()) == 1
    raw = next((tmp_path / "mail" / "new").iterdir()).read_bytes()
    assert "To: ünïcode@xn--exmple-cua.org".encode() in raw and b"=?utf-8?" not in raw


def test_an_address_is_looked_up_under_its_normal_and_its_earlier_form() -> None:
    assert lookup_forms(" Alice@Example.org ") == ["alice@example.org"]
    assert lookup_forms("X@xn--exmple-cua.org") == ["x@exämple.org", "x@xn--exmple-cua.org"]
    assert lookup_forms("Ünïcode@exämple.org") == ["ünïcode@exämple.org"]
    assert lookup_forms("no address") == [] and lookup_forms(None) == []
