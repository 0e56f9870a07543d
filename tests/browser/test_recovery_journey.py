"""Sign-up in a real browser, with the mail through a real SMTP server (aiosmtpd, in this
process): the form, the message the live server sent, its link, the confirmation, signed in.
And the password reset the same way."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import Inbox
from vault.home import VaultHome

from .conftest import LiveServer

pytestmark = pytest.mark.browser

EMAIL = "mailed.member@example.org"
PASSWORD = "lantern orchard velvet compass"
NEW_PASSWORD = "copper kettles drift past harbour cranes"


@pytest.fixture
def smtp_page(browser: Browser, live_home: VaultHome, inbox: Inbox) -> Iterator[Page]:
    """A page on a live server (``vrmvault serve``) whose mail goes to the test's SMTP server."""
    live = LiveServer(live_home.root, env={"VRMVAULT_SMTP_URL": inbox.smtp_url})
    live.start()
    context = browser.new_context(base_url=live.url)
    try:
        opened = context.new_page()
        opened.set_default_timeout(15_000)
        yield opened
    finally:
        context.close()
        live.stop()


def link_in_mail(inbox: Inbox, email: str, server: str) -> str:
    link = inbox.links(email)[0]
    assert urlsplit(link).netloc == urlsplit(server).netloc, link
    return link


def test_sign_up_mail_verify_and_signed_in(smtp_page: Page, inbox: Inbox,
                                           live_home: VaultHome) -> None:
    page = smtp_page
    page.goto("/signup")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create my vault").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    with live_home.open() as vault:
        assert vault.data.one("SELECT count(*) FROM members")[0] == 0

    message = inbox.last(EMAIL)
    assert message["Subject"] == "Confirm your address to open your vault"
    page.goto(link_in_mail(inbox, EMAIL, page.url))
    page.get_by_role("button", name="Confirm and open my vault").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()
    expect(page.get_by_text("Your address is confirmed")).to_be_visible()
    expect(page.get_by_text(EMAIL)).to_be_visible()

    # The same link again: a clear page, not a second account or a sign-in.
    page.get_by_role("button", name="Sign out").click()
    page.goto(link_in_mail(inbox, EMAIL, page.url))
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()


def test_forgot_password_mail_and_new_password(smtp_page: Page, inbox: Inbox,
                                               live_home: VaultHome) -> None:
    with live_home.open() as vault:
        vault.members.register(EMAIL, PASSWORD)
    page = smtp_page
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    page.goto(link_in_mail(inbox, EMAIL, page.url))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()
