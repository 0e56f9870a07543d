"""Every form, every field wrong at once: every error shows at once, in words a member reads.

For each form a submission with a bad value in every field. Each field's error must be next to
it (``<ul id="NAME-error">``, the control ``aria-invalid`` and ``aria-describedby`` it), name the
field as the label on the page does, appear in the summary at the top linked to the field, and
never show a field's internal name or a library's default wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.storage import client_registry
from consent.context import Consent
from tests.conftest import GOOD_PASSWORD, AuthActions, Inbox
from vault.brands import Brand
from vault.catalog import ATTRIBUTES, DataType
from vault.clock import FrozenClock
from vault.home import Vault

from .conftest import SignedIn, SignIn
from .pages import text_of
from .test_authorization_code_flow import (
    CALLBACK,
    AuthorizationRequest,
    authorization_request,
    form_tokens,
    set_terms,
)
from .test_authorization_code_flow import Brand as OAuthBrand
from .test_consent_pages import share

# What members must never read: marshmallow's defaults, and the old made-up labels.
LIBRARY_WORDS = ("Not a valid", "Longer than maximum length", "Missing data for required field",
                 "Field may not be null", "Unknown field", "Invalid value", "Nps",
                 "Brand id", "Occurred on", "Max days", "Ends on")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    label: str = ""        # the text of its <label> (or, for a fieldset, its legend)


@dataclass
class Page:
    """What the tests read of a rendered form page."""

    elements: dict[str, Element] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    summary_links: list[tuple[str, str]] = field(default_factory=list)
    summary_text: str = ""


class _Reader(HTMLParser):
    """Ids, labels (``for=``, wrapping, legends), error lists and the error summary.

    A label's text is its own text, not that of elements inside it (a "sensitive" badge, a
    help line), as a member reads the label itself.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._open: list[tuple[str, dict[str, str]]] = []
        self._label: dict[str, Any] | None = None
        self._legend_of: list[str | None] = []    # the fieldset ids open, innermost last
        self._legend: list[str] | None = None
        self._errors_for: str | None = None
        self._item: list[str] | None = None
        self._summary_depth: int | None = None
        self._link: tuple[str, list[str]] | None = None
        self._labels_for: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag not in ("input", "br", "meta", "link", "img"):
            self._open.append((tag, a))
        if "id" in a:
            self.page.elements[a["id"]] = Element(tag, a)
        if tag == "label":
            self._label = {"for": a.get("for"), "text": [], "depth": len(self._open),
                           "inputs": []}
        elif tag == "input" and self._label is not None and "id" in a:
            self._label["inputs"].append(a["id"])
        elif tag == "fieldset":
            self._legend_of.append(a.get("id"))
        elif tag == "legend":
            self._legend = []
        elif tag == "ul" and a.get("class") == "errors":
            self._errors_for = a["id"].removesuffix("-error")
            self.page.errors[self._errors_for] = []
        elif tag == "li" and self._errors_for is not None:
            self._item = []
        elif tag == "div" and a.get("class") == "error-summary":
            self._summary_depth = len(self._open)
        elif tag == "a" and self._summary_depth is not None:
            self._link = (a.get("href", ""), [])

    def handle_data(self, data: str) -> None:
        if self._label is not None and len(self._open) == self._label["depth"]:
            self._label["text"].append(data)
        if self._legend is not None and self._open and self._open[-1][0] == "legend":
            self._legend.append(data)
        if self._item is not None:
            self._item.append(data)
        if self._link is not None:
            self._link[1].append(data)
        if self._summary_depth is not None:
            self.page.summary_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label is not None:
            text = " ".join("".join(self._label["text"]).split())
            for target in [self._label["for"], *self._label["inputs"]]:
                if target:
                    self._labels_for[target] = text
            self._label = None
        elif tag == "legend" and self._legend is not None:
            owner = self._legend_of[-1] if self._legend_of else None
            if owner:
                self._labels_for[owner] = " ".join("".join(self._legend).split())
            self._legend = None
        elif tag == "fieldset" and self._legend_of:
            self._legend_of.pop()
        elif tag == "li" and self._item is not None and self._errors_for is not None:
            self.page.errors[self._errors_for].append(" ".join("".join(self._item).split()))
            self._item = None
        elif tag == "ul" and self._errors_for is not None:
            self._errors_for = None
        elif tag == "a" and self._link is not None:
            self.page.summary_links.append(
                (self._link[0], " ".join("".join(self._link[1]).split())))
            self._link = None
        if self._open and self._open[-1][0] == tag:
            self._open.pop()
            if self._summary_depth is not None and len(self._open) < self._summary_depth:
                self._summary_depth = None

    def close(self) -> None:
        super().close()
        for element_id, text in self._labels_for.items():
            if element_id in self.page.elements:
                self.page.elements[element_id].label = text


def read(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page


def assert_every_field_explained(response: TestResponse, names: set[str]) -> None:
    """All of ``names`` have their error, at once, named by their label, linked from the top."""
    assert 400 <= response.status_code < 500, response.status_code
    html = response.get_data(as_text=True)
    page = read(html)
    assert set(page.errors) == names, "every field's error shows at once"
    for name in names:
        element = page.elements.get(name)
        assert element is not None, f"no element with id {name!r} for the summary to link to"
        label = element.label.rstrip(".:")
        assert label, f"{name!r} has no label on the page"
        messages = page.errors[name]
        assert messages, name
        for message in messages:
            assert label in message, (name, label, message)
            assert (f"#{name}", message) in page.summary_links, (name, page.summary_links)
        if element.tag != "fieldset":     # a group's boxes are described by its legend
            assert element.attrs.get("aria-invalid") == "true", name
            assert f"{name}-error" in element.attrs.get("aria-describedby", "").split(), name
    # The summary reads in the order of the page, as a member reads the form.
    linked = list(dict.fromkeys(href.removeprefix("#") for href, _ in page.summary_links))
    assert linked == [name for name in page.elements if name in names], "summary in page order"
    assert_member_words(html, names)


def assert_member_words(html: str, names: frozenset[str] | set[str] = frozenset()) -> None:
    page = read(html)
    shown = [page.summary_text, *(m for ms in page.errors.values() for m in ms)]
    assert page.summary_text.strip(), "the summary at the top is shown"
    for text in shown:
        for words in LIBRARY_WORDS:
            assert words not in text, (words, text)
        assert not SNAKE.search(text), text
        for name in names:
            # "nps" shown as "Nps", "brand_id" as "Brand id": a name dressed up as a label
            # (unless the page's label really is that, as "Date of birth" is).
            dressed = name.replace("_", " ").capitalize()
            label = page.elements[name].label if name in page.elements else ""
            if dressed not in label:
                assert not re.search(rf"\b{re.escape(dressed)}\b", text), (name, text)


# -- bad values for every field -------------------------------------------------------------------
BAD_BY_TYPE: dict[DataType, Any] = {
    DataType.TEXT: "x" * 1200, DataType.EMAIL: "not an address", DataType.PHONE: "call me",
    DataType.DATE: "yesterday", DataType.INTEGER: "lots", DataType.CHOICE: "robot",
    DataType.CHOICES: ["knitting-with-wolves"], DataType.COUNTRY: "Netherlands",
}
BAD_FEEDBACK = {"brand_id": "brand_0000000000000000", "touchpoint": "telepathy",
                "rating": "five", "nps": "11", "comment": "z" * 2001,
                "occurred_on": "yesterday"}


# An empty password is the form's own error, a malformed address the vault's: the two kinds
# arrive at different moments and still read in the page's order.
@pytest.mark.parametrize("password", ["short", ""], ids=["both-by-the-vault", "mixed"])
def test_sign_up(auth: AuthActions, password: str) -> None:
    response = auth.post("/signup", {"email": "not an address", "password": password})
    assert_every_field_explained(response, {"email", "password"})


def test_sign_in(auth: AuthActions) -> None:
    response = auth.post("/login", {"email": "", "password": ""})
    assert_every_field_explained(response, {"email", "password"})


def test_the_one_time_code_at_sign_in(auth: AuthActions, client: FlaskClient, vault: Vault,
                                      clock: FrozenClock, member_id: str) -> None:
    secret = vault.members.new_totp_secret()
    vault.members.enable_totp(member_id, secret, pyotp.TOTP(secret).at(clock.now))
    assert auth.login().status_code == 302
    response = auth.post("/login/code", {"code": "12"})
    assert_every_field_explained(response, {"code"})


def test_profile(alice: SignedIn) -> None:
    form = {spec.key: BAD_BY_TYPE[spec.type] for spec in ATTRIBUTES}
    response = alice.auth.post("/member/profile", form)
    assert_every_field_explained(response, set(form))


@pytest.mark.parametrize("editing", [False, True], ids=["new", "edit"])
def test_feedback(alice: SignedIn, brand: Brand, editing: bool) -> None:
    path = "/member/feedback"
    if editing:
        path = f"/member/feedback/{alice.add_feedback(brand)}/edit"
    response = alice.auth.post(path, BAD_FEEDBACK, form_page=path)
    assert_every_field_explained(response, set(BAD_FEEDBACK))


@pytest.mark.parametrize("password", ["", "short", "password password password"],
                         ids=["empty", "short", "common"])
def test_password_reset(auth: AuthActions, member_id: str, inbox: Inbox, password: str) -> None:
    auth.post("/password/forgot", {"email": "alice@example.org"})
    link = inbox.link("alice@example.org")
    response = auth.post("/password/reset", {"token": link.rsplit("=", 1)[1],
                                             "password": password}, form_page=link)
    assert_every_field_explained(response, {"password"})


def test_terms(alice: SignedIn) -> None:
    response = alice.auth.post("/member/terms", {
        "agreement": "SD-EVERYTHING", "purposes": ["dpv:Spying"], "max_days": "ninety",
        "aggregate_allowed": "yes", "sale_sharing_opt_out": "please"})
    # The two single boxes can only be ticked or not: a tampered value is said about them too.
    assert_every_field_explained(response, {"agreement", "purposes", "max_days"} | {
        "aggregate_allowed", "sale_sharing_opt_out"})


def test_narrow(alice: SignedIn, consent: Consent, brand: Brand) -> None:
    grant, _, _ = share(consent, alice.id, brand)
    path = f"/member/consents/{grant.id}/narrow"
    # No field left (a rule of the grant) and a date that is none (the form's own check).
    response = alice.auth.post(path, {"fields": [], "ends_on": "soon"}, form_page=path)
    assert_every_field_explained(response, {"fields", "ends_on"})


def test_delete(alice: SignedIn) -> None:
    response = alice.auth.post("/member/delete", {"password": "not my passphrase at all"})
    assert_every_field_explained(response, {"confirm", "password"})


# The Security page holds three forms: a field's errors are keyed by its id on the page.
@pytest.mark.parametrize(("path", "form", "field"), [
    ("/member/totp/disable", {"password": "not my password at all"}, "disable-password"),
    ("/member/totp/disable", {"password": ""}, "disable-password"),
    ("/member/totp/recovery-codes", {"password": "not my password at all"}, "codes-password"),
    ("/member/totp/recovery-codes", {"password": "x" * 1100}, "codes-password"),
], ids=["off-wrong", "off-empty", "codes-wrong", "codes-too-long"])
def test_the_security_pages_password_forms(sign_in_with_totp: SignIn, vault: Vault, path: str,
                                          form: dict[str, str], field: str) -> None:
    olive = sign_in_with_totp("olive@example.org")
    response = olive.auth.post(path, form, form_page="/member/security")
    assert_every_field_explained(response, {field})
    assert vault.members.has_second_factor(olive.id)        # nothing changed


@pytest.mark.parametrize("code", ["", "12", "x" * 50, "wrong"])
def test_the_code_that_turns_two_step_sign_in_on(alice: SignedIn, vault: Vault, clock: FrozenClock,
                                                 code: str) -> None:
    alice.auth.post("/member/totp/start", form_page="/member/security")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>',
                       alice.client.get("/member/security").get_data(as_text=True))
    assert secret
    if code == "wrong":
        good = {pyotp.TOTP(secret.group(1)).at(clock.now + step * 30) for step in (-1, 0, 1)}
        code = next(c for c in ("000000", "111111", "222222") if c not in good)
    response = alice.auth.post("/member/totp/confirm", {"code": code},
                               form_page="/member/security")
    assert_every_field_explained(response, {"code"})
    assert not vault.members.has_second_factor(alice.id)
    # Still set up: the key is shown again, to try the next code.
    assert f'<code class="secret">{secret.group(1)}</code>' in response.get_data(as_text=True)


def test_a_tampered_security_form_shows_every_error_at_once(sign_in_with_totp: SignIn) -> None:
    olive = sign_in_with_totp("olive@example.org")
    response = olive.auth.post("/member/totp/disable", {"password": "", "role": "member"},
                               form_page="/member/security")
    assert response.status_code == 422
    page = read(response.get_data(as_text=True))
    assert page.errors == {"disable-password": [
        "Your password, to confirm it is you: Enter your password."]}
    assert "Reload the page and try again." in page.summary_text


def test_the_consent_screen(app: Flask, client: FlaskClient, auth: AuthActions, vault: Vault,
                            clock: FrozenClock) -> None:
    registry = client_registry(database=vault.data, clock=clock,
                               hasher=ClientSecretHasher.from_master(vault.master))
    created, secret = registry.create("Velo", [CALLBACK], ["bicycles"], accepts=["SD-BASE"])
    member_id = vault.members.register("alice@example.org", GOOD_PASSWORD)
    set_terms(app, member_id)
    assert auth.login().status_code == 302
    asked: AuthorizationRequest = authorization_request(
        OAuthBrand(created.client_id, secret, "Velo"))
    screen = client.get(asked.url).get_data(as_text=True)
    # Everything unticked: nothing would be shared, which is what Refuse is for.
    response = client.post(asked.url, data={**form_tokens(screen), "decision": "approve"})
    assert response.status_code == 422
    assert_member_words(response.get_data(as_text=True))
    assert "Tick at least one" in text_of(read(response.get_data(as_text=True)).summary_text)


def test_a_field_sent_twice_is_said_about_the_form(alice: SignedIn, brand: Brand) -> None:
    response = alice.auth.post("/member/feedback", {**BAD_FEEDBACK, "rating": ["1", "2"]})
    assert response.status_code == 422
    assert_member_words(response.get_data(as_text=True), set(BAD_FEEDBACK))
