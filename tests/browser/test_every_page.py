"""Every page on a 390 px wide phone, in real Chromium: no sideways scrolling, its own title,
the favicon, and nothing the Content-Security-Policy has to block.

The store holds the demo (the showcase member with a full profile, journal and grants) and
brand reads made over HTTP through the served brand API, so the access page draws its chart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from consent.context import open_consent
from demo.brand_clients import CREDENTIALS_FILE, register_demo_clients
from demo.consents import load_consent_demo
from demo.members import DEMO_PASSWORD, SHOWCASE_EMAIL, load_demo
from tests.brand_api_support import BrandApi
from tests.conftest import initialise_home
from vault.home import VaultHome

from .conftest import LiveServer

PHONE = {"width": 390, "height": 844}
READS = {"Velo Bikes": 3, "Fresh Grocer": 1}


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """The demo store served; the showcase member's reads by two brands, made over HTTP."""
    home = initialise_home(VaultHome(tmp_path / "var"))
    with home.open() as vault:
        load_demo(vault, members=2)
        consent = open_consent(vault, home)
        try:
            load_consent_demo(consent)
            member_id = vault.data.one("SELECT id FROM members WHERE email_index = ?",
                                       (vault.members.email_index(SHOWCASE_EMAIL),))["id"]
            api = BrandApi(vault, consent)
            tokens = {name: api.member_token(member_id, api.brand(name + " Reader")).token
                      for name in READS}
        finally:
            consent.close()
    with home.open() as vault:
        register_demo_clients(vault, home.root)
    live = LiveServer(home.root)
    live.start()
    try:
        for name, count in READS.items():
            for _ in range(count):
                request = urllib.request.Request(live.url + "/api/v1/member/profile",
                                                 headers={"Authorization": "Bearer "
                                                          + tokens[name]})
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200
        yield live, json.loads((home.root / CREDENTIALS_FILE).read_text())[0]
    finally:
        live.stop()


@pytest.fixture
def phone(browser: Browser, demo_server: tuple[LiveServer, dict[str, str]]
          ) -> Iterator[BrowserContext]:
    live, _ = demo_server
    context = browser.new_context(base_url=live.url, viewport=PHONE, is_mobile=True,
                                  device_scale_factor=2)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def authorize_url(client: dict[str, str]) -> str:
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(secrets.token_urlsafe(48).encode()).digest()).rstrip(b"=").decode()
    return "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client["client_id"],
        "redirect_uri": client["redirect_uri"], "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256", "authorization_details": json.dumps([{
            "type": "vrmvault-member-data", "purpose": "dpv:ServiceProvision",
            "datatypes": ["given_name", "pd:City"]}])})


def fits(page: Page, what: str) -> str:
    """The page's title, after checking it needs no sideways scrolling at 390 px."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 390.5)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))""")
    assert width <= 390, f"{what} is {width} px wide: {wide}"
    return page.title()


def test_every_page_fits_a_phone_and_has_its_own_title(
        phone: BrowserContext, demo_server: tuple[LiveServer, dict[str, str]]) -> None:
    _, client = demo_server
    page = phone.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text)
            if "Content Security Policy" in m.text else None)
    titles: dict[str, str] = {}

    for path in ("/", "/login", "/signup", "/no-such-page"):
        page.goto(path)
        titles[path] = fits(page, path)
    # The sign-up form with every field wrong: long messages must wrap too.
    page.goto("/signup")
    page.get_by_label("E-mail address").fill("not-an-address-" + "x" * 60)
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create my vault").click()
    expect(page.locator("#password-error")).to_be_visible()
    fits(page, "/signup with errors")

    page.goto("/login")
    page.get_by_label("E-mail address").fill(SHOWCASE_EMAIL)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()

    member_pages = ["/member/", "/member/profile", "/member/feedback", "/member/consents",
                    "/member/access", "/member/terms", "/member/security", "/member/delete"]
    for path in member_pages:
        page.goto(path)
        titles[path] = fits(page, path)
        if path == "/member/feedback":
            edit = page.locator("a[href$='/edit']").first.get_attribute("href")
        if path == "/member/consents":
            narrow = page.locator("a[href$='/narrow']").first.get_attribute("href")
    for path in (edit, narrow):
        assert path
        page.goto(path)
        titles[path] = fits(page, path)
    # Every "Codes for the record" open: the codes must wrap as well.
    for path in ("/member/consents", "/member/terms", "/member/access"):
        page.goto(path)
        for details in page.locator("details").all():
            details.evaluate("d => d.open = true")
        fits(page, path + " with its details open")
    page.goto("/member/profile")
    page.get_by_label("Country").fill("Netherlands and then some more words")
    page.get_by_role("button", name="Save my profile").click()
    expect(page.locator("#country-error")).to_be_visible()
    fits(page, "/member/profile with an error")
    page.goto(authorize_url(client))
    titles["consent screen"] = fits(page, "the consent screen")

    assert all(t.endswith(" · vrmvault") for t in titles.values()), titles
    assert len(set(titles.values())) == len(titles), titles
    assert not blocked, blocked


def test_the_access_chart_reads_without_hovering(phone: BrowserContext) -> None:
    page = phone.new_page()
    page.goto("/login")
    page.get_by_label("E-mail address").fill(SHOWCASE_EMAIL)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/member/access")
    figure = page.locator("figure.chart")
    expect(figure).to_be_visible()
    svg_text = figure.locator("svg").evaluate("s => [...s.querySelectorAll('text')]"
                                              ".map(t => t.textContent).join('|')")
    # Each brand's row is labelled with its total, each bar with its count; both axes named.
    for name, count in READS.items():
        assert f"{name} Reader · {count} read" in svg_text
        assert f"|{count}|" in "|" + svg_text + "|"
    assert "Reads per day" in svg_text and "Day of the month (UTC)" in svg_text
    expect(figure.locator("figcaption")).to_contain_text("4 reads in all")
    # The same numbers as a table, for anyone who cannot see the chart.
    page.get_by_text("The chart's numbers as a table").click()
    table = page.locator("details.chart-numbers table")
    expect(table.locator("thead")).to_contain_text("Velo Bikes Reader")
    assert re.search(r"\b3\b", table.locator("tbody").inner_text())


def test_the_favicon_is_served_both_ways(phone: BrowserContext) -> None:
    page = phone.new_page()
    page.goto("/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href
    for path in (href, "/favicon.ico"):
        response = page.request.get(path)
        assert response.status == 200, path
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert response.body().lstrip().startswith(b"<svg")
