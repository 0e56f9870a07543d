"""The console in Chromium against ``vrmvault serve``: the demo's compliance officer signs in
with password and TOTP code (computed from the secret the demo printed) and opens the console;
an administrator registers a brand and sees its secret once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from consent.context import open_consent
from demo.officers import DemoOfficer, load_demo_officer
from tests.conftest import GOOD_PASSWORD, turn_on_totp
from vault.home import VaultHome
from vault.members import ADMINISTRATOR

from .conftest import LiveServer, sign_in_with_code
from .test_every_page import PHONE, fits

ADMIN_EMAIL = "adam@example.org"


@dataclass(frozen=True)
class Staff:
    officer: DemoOfficer
    admin_secret: str


@pytest.fixture
def staff(live_home: VaultHome) -> Staff:
    with live_home.open() as vault:
        consent = open_consent(vault, live_home)
        try:
            officer = load_demo_officer(consent)
        finally:
            consent.close()
        adam = vault.members.register(ADMIN_EMAIL, GOOD_PASSWORD)
        secret, _ = turn_on_totp(vault, adam)
        vault.members.set_role(adam, ADMINISTRATOR)
    assert officer is not None
    return Staff(officer, secret)


@pytest.fixture
def live(staff: Staff, server: LiveServer) -> LiveServer:
    return server


@pytest.fixture
def fresh_page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live.url)
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def test_the_demo_officer_signs_in_with_a_code_and_opens_the_console(
        fresh_page: Page, staff: Staff) -> None:
    page = fresh_page
    officer = staff.officer
    sign_in_with_code(page, officer.email, officer.password, officer.totp_secret)
    page.get_by_role("link", name="Compliance").click()
    expect(page.get_by_role("heading", name="Compliance console")).to_be_visible()
    expect(page.get_by_role("link", name="Brands")).to_have_count(0)
    page.get_by_role("link", name="Reveals of members' identities").click()
    expect(page.get_by_text("No officer has revealed")).to_be_visible()
    # An officer does not manage brands.
    response = page.goto("/console/brands/")
    assert response is not None and response.status == 403


def test_an_administrator_registers_a_brand_and_sees_its_secret_once(
        fresh_page: Page, staff: Staff) -> None:
    page = fresh_page
    sign_in_with_code(page, ADMIN_EMAIL, GOOD_PASSWORD, staff.admin_secret)
    page.get_by_role("link", name="Brands").click()
    expect(page.get_by_role("heading", name="Brands", exact=True)).to_be_visible()
    # A mistake first: the message stands next to its field, what was typed stays.
    page.get_by_label("Brand name").fill("Corner Bakery")
    page.get_by_label("Redirect URIs, one per line").fill("http://bakery.example/callback")
    page.get_by_role("button", name="Register the brand").click()
    expect(page.locator("#redirect_uris-error")).to_contain_text("Redirect URI")
    expect(page.get_by_label("Brand name")).to_have_value("Corner Bakery")
    page.get_by_label("Redirect URIs, one per line").fill("https://bakery.example/callback")
    page.get_by_role("button", name="Register the brand").click()
    expect(page.get_by_role("heading", name="Corner Bakery is registered")).to_be_visible()
    secret = page.locator("#client-secret").inner_text()
    client_id = page.locator("#client-id").inner_text()
    assert len(secret) >= 32 and secret not in page.url
    page.get_by_role("link", name="Back to the brands").click()
    expect(page.get_by_role("cell", name=client_id)).to_be_visible()
    assert secret not in page.content()
    # The administrator does not see the officers' pages.
    response = page.goto("/console/")
    assert response is not None and response.status == 403
    assert re.search("for compliance officers only", page.content())


def test_the_console_pages_of_both_roles_fit_a_phone(browser: Browser, live: LiveServer,
                                                     staff: Staff) -> None:
    context = browser.new_context(base_url=live.url, viewport=PHONE, is_mobile=True,
                                  device_scale_factor=2)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        officer = staff.officer
        sign_in_with_code(page, officer.email, officer.password, officer.totp_secret)
        page.goto("/console/reveals")
        titles = {"reveals": fits(page, "/console/reveals")}
        page.get_by_role("button", name="Reveal").click()        # empty: errors by field
        expect(page.locator("#reason-error")).to_be_visible()
        fits(page, "/console/reveals with errors")
        context.clear_cookies()
        sign_in_with_code(page, ADMIN_EMAIL, GOOD_PASSWORD, staff.admin_secret)
        page.goto("/console/brands/")
        titles["brands"] = fits(page, "/console/brands/")
        page.get_by_label("Brand name").fill("A brand with a rather long name, Ltd.")
        page.get_by_label("Redirect URIs, one per line").fill(
            "https://a-brand-with-a-rather-long-name.example/oauth/callback/vrmvault")
        page.get_by_role("button", name="Register the brand").click()
        titles["secret"] = fits(page, "the new secret")
        page.get_by_role("link", name="Back to the brands").click()
        fits(page, "/console/brands/ with a client")
        assert all(t.endswith(" · vrmvault") for t in titles.values()), titles
        assert len(set(titles.values())) == len(titles), titles
    finally:
        context.close()
