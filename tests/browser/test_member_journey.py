"""A member's whole journey in a real browser: sign up, profile, feedback, export, delete."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from vault.home import VaultHome

from .conftest import LiveServer, mailed_link
from .conftest import sign_up as sign_up_with_mail

pytestmark = pytest.mark.browser

EMAIL = "browser.member@example.org"
PASSWORD = "lantern orchard velvet compass"


@pytest.fixture
def sign_up(server: LiveServer) -> Callable[..., None]:
    """Sign up through the form and the link the live server mailed (to its maildir)."""

    def run(page: Page, email: str = EMAIL, password: str = PASSWORD) -> None:
        sign_up_with_mail(page, server.home, email, password)

    return run


def test_sign_up_rejects_a_short_password_with_the_reason(page: Page) -> None:
    page.goto("/signup")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill("tooshort")
    page.get_by_role("button", name="Create my vault").click()
    error = page.locator("#password-error")
    expect(error).to_contain_text("at least 15 characters")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")


def test_sign_up_then_sign_out_and_in_again(page: Page, sign_up) -> None:
    sign_up(page)
    expect(page.get_by_text(EMAIL)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()


def test_profile_edit_shows_a_validation_error_and_saves_nothing(page: Page, sign_up) -> None:
    sign_up(page)
    page.get_by_role("navigation").get_by_role("link", name="Profile").click()
    page.get_by_label("Given name").fill("Robin")
    page.get_by_label("Country").fill("Netherlands")
    page.get_by_role("button", name="Save my profile").click()
    expect(page.locator("#country-error")).to_contain_text("two-letter country code")
    expect(page.get_by_label("Country")).to_have_attribute("aria-invalid", "true")
    # Nothing of that submission was saved: reload the page from the server.
    page.goto("/member/profile")
    expect(page.get_by_label("Given name")).to_have_value("")

    page.get_by_label("Given name").fill("Robin")
    page.get_by_label("Country").fill("nl")
    page.get_by_label("cycling").check()
    page.get_by_role("button", name="Save my profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(page.get_by_label("Given name")).to_have_value("Robin")
    expect(page.get_by_label("Country")).to_have_value("NL")
    expect(page.get_by_label("cycling")).to_be_checked()


def test_feedback_entry_is_added_and_charted(page: Page, sign_up) -> None:
    sign_up(page)
    page.get_by_role("navigation").get_by_role("link", name="Feedback").click()
    page.get_by_label("Brand").select_option(label="Velo Bikes")
    page.get_by_label("Moment of the journey").select_option("delivery")
    page.get_by_label("Rating (1-5)").fill("4")
    page.get_by_label("Net Promoter Score (0-10)").fill("9")
    page.get_by_label("Comment").fill("Arrived a day early, well packed.")
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text("Your feedback is saved in your vault.")).to_be_visible()
    entry = page.locator("li.entry").first
    expect(entry).to_contain_text("Velo Bikes")
    expect(entry).to_contain_text("Arrived a day early, well packed.")
    expect(page.get_by_role("table").get_by_text("Delivery")).to_be_visible()


def test_export_downloads_a_zip_with_everything(page: Page, tmp_path: Path, sign_up) -> None:
    sign_up(page)
    page.get_by_role("navigation").get_by_role("link", name="Profile").click()
    page.get_by_label("Given name").fill("Robin")
    page.get_by_role("button", name="Save my profile").click()
    page.get_by_role("navigation").get_by_role("link", name="My vault").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download all my data").click()
    download = download_info.value
    assert download.suggested_filename.startswith("vrmvault-export-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with zipfile.ZipFile(target) as archive:
        document = json.loads(archive.read("vrmvault-export.json"))
        assert {"profile.csv", "feedback.csv", "vrmvault-export.schema.json"} <= set(
            archive.namelist())
    assert document["member"]["email"] == EMAIL
    assert {"attribute": "given_name", "value": "Robin"}.items() <= document["profile"][0].items()


def test_account_deletion_needs_confirmation_then_erases(page: Page, sign_up, live_home: VaultHome
                                                         ) -> None:
    sign_up(page)
    page.get_by_role("link", name="Delete my account…").click()
    page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and all my data").click()
    expect(page.locator("#confirm-error")).to_contain_text("Tick “I understand")

    page.get_by_label("I understand").check()
    page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and all my data").click()
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    # A page of its own (post/redirect/get): reloading it posts nothing and says it no more.
    assert urlsplit(page.url).path == "/account-deleted"
    page.reload()
    expect(page.locator("#main").get_by_role("link", name="Create a vault")).to_be_visible()
    assert urlsplit(page.url).path == "/"

    page.goto("/login")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong e-mail address or password.")).to_be_visible()
    with live_home.open() as vault:
        assert vault.data.one("SELECT count(*) FROM members")[0] == 0
        assert vault.keys_database.one("SELECT count(*) FROM member_keys")[0] == 0
        assert vault.erasure.erased_count() == 1


def test_password_forms_name_their_account_for_password_managers(page: Page, sign_up,
                                                                  server: LiveServer) -> None:
    """Chromium warns of a password form without a username field (the HTML standard's
    autocomplete="username"): the delete and reset forms carry a hidden one, never sent."""
    warned: list[str] = []
    page.on("console", lambda message: warned.append(message.text)
            if "username field" in message.text else None)
    sign_up(page)
    page.goto("/member/delete")
    expect(page.locator('input[autocomplete="username"]')).to_have_value(EMAIL)
    page.goto("/password/forgot")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.goto(mailed_link(server.home, EMAIL))
    expect(page.locator('input[autocomplete="username"]')).to_have_value(EMAIL)

    # A form without one, as a barrier: its warning arrives after any of the pages' own would.
    with page.expect_console_message(lambda message: "username field" in message.text):
        page.set_content('<form><input type="password" autocomplete="current-password"></form>')
    assert len(warned) == 1, warned


def test_pages_work_without_javascript(browser, server, sign_up) -> None:
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_up(page)
        page.get_by_role("navigation").get_by_role("link", name="Feedback").click()
        page.get_by_label("Brand").select_option(label="Fresh Grocer")
        page.get_by_label("Moment of the journey").select_option("support")
        page.get_by_label("Rating (1-5)").fill("2")
        page.get_by_role("button", name="Save entry").click()
        expect(page.locator("li.entry").first).to_contain_text("Fresh Grocer")
    finally:
        context.close()
