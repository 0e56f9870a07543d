"""Every page on a 390 px wide phone, in real Chromium: no sideways scrolling, its own title,
the favicon, and nothing the Content-Security-Policy has to block.

The store holds the demo (the showcase member with a full profile, journal and grants) and
brand reads made over HTTP through the served brand API, so the access page draws its chart;
a compliance officer (two-step sign-in on, as the role needs), webhook deliveries to long
endpoint URLs that failed in two ways, and an offer reported as spam with a long reason, so the
console's tables have rows to fit.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from brand_gateway.dsr import dsr_service
from brand_gateway.intents_wiring import intent_service
from brand_gateway.storage import (
    pairwise_pseudonyms,
    webhook_dispatcher,
    webhook_outbox,
    webhook_registry,
)
from brand_gateway.webhooks.delivery import HttpResult
from brand_gateway.webhooks.outbox import enqueue_grant_event
from brand_gateway.webhooks.signing import WebhookSigner
from compliance.deadlines import HolidayCalendar
from consent.context import Consent, open_consent
from consent.model import GrantEvent
from demo.brand_clients import CREDENTIALS_FILE, register_demo_clients
from demo.communities import load_community_demo
from demo.consents import load_consent_demo
from demo.intents import load_intent_demo
from demo.loop import load_loop_demo
from demo.members import DEMO_PASSWORD, SHOWCASE_EMAIL, load_demo
from demo.surveys import load_survey_demo
from intents.model import IntentDraft
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD, initialise_home, turn_on_totp
from vault.home import Vault, VaultHome
from vault.members import COMPLIANCE

from .conftest import LiveServer

PHONE = {"width": 390, "height": 844}
READS = {"Velo Bikes": 3, "Fresh Grocer": 1}
OFFICER_EMAIL = "olive.officer@vrmvault.example"
# Endpoint URLs as long as brands write them: the console's tables must still fit.
HOOKS = {"Velo Bikes": "https://notifications.velo-bikes-reader.example/vrmvault/consent-events"
                       "/receiver/v2?tenant=velo-bikes-reader-production-eu-west",
         "Fresh Grocer": "https://hooks.fresh-grocer-reader.example/webhooks/vrmvault/consent"}


@dataclass(frozen=True)
class Demo:
    live: LiveServer
    client: dict[str, str]          # a demo brand's OAuth client
    officer_code: str               # a recovery code of the compliance officer


def add_officer(vault: Vault) -> str:
    """A compliance officer with two-step sign-in on; one of their recovery codes (the
    browser signs in with it: no clock shared with the served app is needed)."""
    officer = vault.members.register(OFFICER_EMAIL, GOOD_PASSWORD)
    _, codes = turn_on_totp(vault, officer)
    assert vault.members.set_role(officer, COMPLIANCE)
    return codes[0]


def failed_webhooks(vault: Vault, grants: dict[str, Any]) -> None:
    """A withdrawal told to each reader brand: one endpoint answered 500, one refused."""
    registry = webhook_registry(database=vault.data, clock=vault.clock)
    pseudonyms = pairwise_pseudonyms(database=vault.data, master=vault.master)
    for name, grant in grants.items():
        registry.add(grant.client.client_id, HOOKS[name])
        enqueue_grant_event(webhook_outbox(vault.data), pseudonyms, grant.grant,
                            GrantEvent.WITHDRAWN, int(vault.clock()))

    def send(url: str, body: bytes, headers: Any, timeout: float) -> HttpResult:
        if url == HOOKS["Fresh Grocer"]:
            raise ConnectionRefusedError()
        return HttpResult(500)

    webhook_dispatcher(database=vault.data, signer=WebhookSigner.from_master(vault.master),
                      clock=vault.clock, sender=send, fraction=lambda: 0.0).deliver_due(10)


def spam_report(consent: Consent) -> None:
    """A member's intent, a demo bike brand's offer on it, and the member's report of it as
    spam, its reason as long as the form takes, with a token too long for a phone's line."""
    vault = consent.vault
    intents = intent_service(consent)
    member = vault.members.register("rita.reporter@example.org", GOOD_PASSWORD)
    brand = next(b.id for b in vault.brands.all() if b.name == "Spokesmith Cycles")
    today = dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()
    intents.cast(member, IntentDraft(
        category="bicycles", description="A cargo bike for two children.", budget_min="1500",
        budget_max="3000", currency="EUR", window_from=today + dt.timedelta(days=1),
        window_until=today + dt.timedelta(days=30)))
    pseudonym = intents.list_for_brand(brand).items[0].pseudonym
    offer = intents.make_offer(brand, pseudonym, price="2000", currency="EUR",
                               terms="Buy now.", message="",
                               valid_until=int(vault.clock()) + 86_400)
    reason = ("Not a bike at all: a course in trading, and the same offer came three times "
              "with a code " + "X7" * 40 + ". ") * 3
    intents.report_spam(member, offer.id, reason=reason[:500])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[Demo]:
    """The demo store served; the showcase member's reads by two brands, made over HTTP."""
    home = initialise_home(VaultHome(tmp_path / "var"))
    with home.open() as vault:
        load_demo(vault, members=2)
        consent = open_consent(vault, home)
        try:
            load_consent_demo(consent)
            load_community_demo(consent)
            load_survey_demo(consent)
            load_loop_demo(consent)
            load_intent_demo(consent)
            member_id = vault.data.one("SELECT id FROM members WHERE email_index = ?",
                                       (vault.members.email_index(SHOWCASE_EMAIL),))["id"]
            api = BrandApi(vault, consent)
            issued = {name: api.member_token(member_id, api.brand(name + " Reader"))
                      for name in READS}
            failed_webhooks(vault, issued)
            spam_report(consent)
            officer_code = add_officer(vault)
            # An erasure request waiting for the member's confirmation: open in the queue.
            dsr_service(consent, callback_base="http://localhost",
                        calendar=HolidayCalendar()).file(member_id, kind="erasure", brands=[])
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
                                                          + issued[name].token})
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200
        yield Demo(live, json.loads((home.root / CREDENTIALS_FILE).read_text())[0],
                   officer_code)
    finally:
        live.stop()


@pytest.fixture
def phone(browser: Browser, demo_server: Demo) -> Iterator[BrowserContext]:
    live = demo_server.live
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
    """The page's title, after checking it needs no sideways scrolling at 390 px, neither of
    the page nor of a region inside it."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 390.5)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))""")
    assert width <= 390, f"{what} is {width} px wide: {wide}"
    # Nor sideways inside a box of its own (a wide table in a scrolling region).
    boxed = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)
                     && e.scrollWidth > e.clientWidth + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + ' > ' + e.clientWidth)""")
    assert not boxed, f"{what} scrolls sideways inside: {boxed}"
    return page.title()


def test_every_page_fits_a_phone_and_has_its_own_title(
        phone: BrowserContext, demo_server: Demo) -> None:
    client = demo_server.client
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
                    "/member/access", "/member/terms", "/member/security", "/member/delete",
                    "/member/asked/", "/member/results", "/member/care", "/member/requests"]
    for path in member_pages:
        page.goto(path)
        titles[path] = fits(page, path)
        if path == "/member/feedback":
            edit = page.locator("a[href$='/edit']").first.get_attribute("href")
        if path == "/member/consents":
            narrow = page.locator("a[href$='/narrow']").first.get_attribute("href")
        if path == "/member/care":
            ask = page.locator("a[href*='/care/ask/']").first.get_attribute("href")
        if path == "/member/asked/":
            survey = page.locator("a[href*='/asked/surveys/']").first.get_attribute("href")
            attribute = page.locator("a[href*='/asked/attributes/']").first.get_attribute(
                "href")
    for path in (edit, narrow, survey, attribute, ask):
        assert path
        page.goto(path)
        titles[path] = fits(page, path)
    # The communities: the list, a community, its challenge with ideas, an idea's edit form
    # (the showcase member's), and that form with an error.
    page.goto("/member/communities")
    titles["/member/communities"] = fits(page, "/member/communities")
    community = page.get_by_role("link", name="Spokesmith Repair Club").get_attribute("href")
    assert community
    page.goto(community)
    titles[community] = fits(page, community)
    challenge = page.locator("a[href^='/member/challenges/']").first.get_attribute("href")
    assert challenge
    page.goto(challenge)
    titles[challenge] = fits(page, challenge)
    idea_edit = page.locator("a[href$='/edit']").first.get_attribute("href")
    assert idea_edit
    page.goto(idea_edit)
    titles[idea_edit] = fits(page, idea_edit)
    page.get_by_label("Your idea").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#text-error")).to_be_visible()
    fits(page, idea_edit + " with an error")
    page.goto("/member/communities")
    open_to_join = page.locator("a[href^='/member/communities/com_']").last.get_attribute(
        "href")
    assert open_to_join and open_to_join != community
    page.goto(open_to_join)
    titles[open_to_join] = fits(page, open_to_join)
    # Intents: the list with the cast form, an intent with two offers side by side, its edit
    # form, and the cast form with errors next to its fields.
    page.goto("/member/intents")
    titles["/member/intents"] = fits(page, "/member/intents")
    intent = page.get_by_role("link", name="Bicycles").first.get_attribute("href")
    assert intent
    page.goto(intent)
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(3)
    titles[intent] = fits(page, intent)
    page.goto(intent + "/edit")
    titles[intent + "/edit"] = fits(page, intent + "/edit")
    page.goto("/member/intents")
    page.locator("#budget_min").fill("900")
    page.locator("#budget_max").fill("100")
    page.locator("#city").fill("Kerkstraat 12, first floor")
    page.get_by_role("button", name="Cast intent").click()
    expect(page.locator("#city-error")).to_be_visible()
    fits(page, "/member/intents with errors")
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
    # My rights' form with an error next to the field.
    page.goto("/member/requests")
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("#kind-error")).to_be_visible()
    fits(page, "/member/requests with an error")
    page.goto(authorize_url(client))
    titles["consent screen"] = fits(page, "the consent screen")

    # The compliance officer's console, signed in with password and a recovery code.
    phone.clear_cookies()
    page.goto("/login")
    page.get_by_label("E-mail address").fill(OFFICER_EMAIL)
    page.get_by_label("Password", exact=True).fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("6-digit code").fill(demo_server.officer_code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Compliance").click()
    expect(page.get_by_role("heading", name="Compliance console")).to_be_visible()
    titles["/console/"] = fits(page, "/console/")
    page.get_by_role("link", name="Every delivery attempt").click()
    expect(page.locator("table.deliveries tbody tr")).to_have_count(2)
    titles["/console/webhooks"] = fits(page, "/console/webhooks")
    page.get_by_label("State").select_option("pending")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.deliveries tbody tr")).to_have_count(2)
    fits(page, "/console/webhooks filtered")
    page.goto("/console/webhooks?page=0")
    titles["a bad console filter"] = fits(page, "/console/webhooks?page=0")
    # The reports: grants over time (one chart), the records of processing, an exposure with
    # a Reveal form per member.
    page.goto("/console/")
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Compliance reports")).to_be_visible()
    # Grants given, withdrawn and expired: one chart on one scale, under a visible heading.
    expect(page.locator("svg.chart")).to_have_count(1)
    expect(page.locator("#activity-chart-caption")).to_be_visible()
    expect(page.locator("svg.chart text", has_text="Expired")).to_have_count(2)
    titles["/console/reports/"] = fits(page, "/console/reports/")
    page.get_by_role("link", name="Records of processing", exact=True).click()
    expect(page.get_by_role("heading", name="Records of processing")).to_be_visible()
    titles["/console/reports/records-of-processing"] = fits(
        page, "/console/reports/records-of-processing")
    page.goto("/console/reports/")
    page.get_by_role("link", name="Velo Bikes Reader", exact=True).click()
    expect(page.get_by_role("heading", name="Exposure of Velo Bikes Reader")).to_be_visible()
    expect(page.get_by_role("button", name="Reveal").first).to_be_visible()
    titles["an exposure report"] = fits(page, "an exposure report")
    # An officer's own erasure request is refused while they hold the role, next to the field.
    page.goto("/member/requests")
    page.get_by_label("Erasure (Art. 17)").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("#kind-error")).to_contain_text("revoke the role")
    fits(page, "/member/requests with an error")
    # The queue of data subject requests (charts and table) with the showcase member's erasure
    # request (sent to no brand, so no webhook; it waits for the member's confirmation).
    page.goto("/console/requests")
    expect(page.locator("svg.chart")).to_have_count(1)
    titles["/console/requests"] = fits(page, "/console/requests")
    page.get_by_role("link", name="Erasure (Art. 17)").first.click()
    expect(page.get_by_role("button", name="Extend and tell the member")).to_be_visible()
    titles["a data subject request"] = fits(page, "a data subject request")
    # The queue of spam reports on offers: the report with its long reason, then dismissed.
    page.goto("/console/")
    page.get_by_role("link", name="Spam reports on offers").click()
    expect(page.get_by_role("heading", name="Spam reports on offers")).to_be_visible()
    expect(page.locator("table.spam-reports tbody tr")).to_have_count(1)
    titles["/console/intents/reports"] = fits(page, "/console/intents/reports")
    page.get_by_role("button", name="Dismiss").click()
    expect(page.locator(".flash.success")).to_contain_text("Dismissed: Spokesmith Cycles")
    fits(page, "/console/intents/reports after a decision")
    page.get_by_label("State").select_option("dismissed")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.spam-reports tbody tr")).to_have_count(1)
    fits(page, "/console/intents/reports?status=dismissed")
    # The Security page's forms with an error next to the field (an officer has them all).
    page.goto("/member/security")
    page.get_by_label("Your password, to confirm it is you").first.fill("not my password")
    page.get_by_role("button", name="Turn two-step sign-in off").click()
    expect(page.locator("#disable-password-error")).to_contain_text(
        "That is not your password; two-step sign-in is still on.")
    expect(page.locator("#disable-password")).to_have_attribute("aria-invalid", "true")
    fits(page, "/member/security with an error")

    # A brand's invitation link, as a visitor who is not signed in opens it.
    phone.clear_cookies()
    invitation = community.replace("/member", "", 1)
    page.goto(invitation)
    titles[invitation] = fits(page, invitation)

    assert all(t.endswith(" · vrmvault") for t in titles.values()), titles
    assert len(set(titles.values())) == len(titles), titles
    assert not blocked, blocked


def sign_in_showcase(context: BrowserContext) -> Page:
    """A new page of ``context``, signed in as the demo's showcase member."""
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail address").fill(SHOWCASE_EMAIL)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_the_access_chart_reads_without_hovering(phone: BrowserContext) -> None:
    page = sign_in_showcase(phone)
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


# The size a chart's text is drawn at, in CSS pixels: its font size in the SVG's units, scaled
# as the SVG is (its width on the page over its viewBox's).
CHART_TEXT_SIZES = """() => [...document.querySelectorAll('svg.chart text, figure.chart svg text')]
  .map(t => {
    const svg = t.ownerSVGElement;
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale];
})"""


@pytest.mark.parametrize(("path", "seen"), [
    ("/member/results", {"You", "All members who shared", "Delivery"}),
    ("/member/access", {"Velo Bikes Reader · 3 reads", "3"})])
def test_the_charts_read_on_a_phone(browser: Browser, demo_server: Demo, path: str,
                                    seen: set[str]) -> None:
    """Every word and number on a member's charts is 12 px or more on a phone and no more
    than the page's 14 px on a wide screen: the Results page's, drawn 640 units wide, were
    7 px at 390 px; Who read what's 10 px there and 19 px on a wide screen."""
    sizes: dict[str, list[tuple[str, float]]] = {}
    for name, viewport in (("phone", PHONE), ("desktop", {"width": 1280, "height": 900})):
        context = browser.new_context(base_url=demo_server.live.url, viewport=viewport)
        try:
            page = sign_in_showcase(context)
            page.goto(path)
            expect(page.get_by_role("img").first).to_be_visible()
            sizes[name] = page.evaluate(CHART_TEXT_SIZES)
        finally:
            context.close()
    assert seen <= {text for text, _ in sizes["phone"]}
    small = [(text, round(size, 1)) for text, size in sizes["phone"] if size < 12]
    assert not small, small
    large = [(text, round(size, 1)) for text, size in sizes["desktop"] if size > 14.01]
    assert not large, large


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
