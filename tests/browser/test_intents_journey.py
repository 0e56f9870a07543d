"""Intent casting end to end: a member casts an intent in a real browser (the real ``vrmvault
serve``, Debian's Chromium); brands registered with the real CLI list it and offer through the
brand API with Authlib's OAuth client (client credentials, RFC 6749 sec. 4.4); the member
compares the offers, accepts one revealing their e-mail address to that brand only, and the
other brand learns that it was declined and nothing more. Withdrawing and blocking take an
intent out of the next listing (expiry does too: tests/functional/test_intents_api.py, where
the clock can be moved)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from authlib.integrations.requests_client import OAuth2Session
from playwright.sync_api import Page, expect

from tests.conftest import initialise_home
from vault.home import VaultHome

from .conftest import LiveServer
from .test_brand_journey import vrmvault

pytestmark = pytest.mark.browser

EMAIL = "caster@example.org"
PASSWORD = "lantern orchard velvet compass"
SCOPE = "intents:read offers:write"


@pytest.fixture
def live_home(tmp_path) -> VaultHome:
    """A member with a filled-in contact e-mail; the brands come from the CLI in the test."""
    home = initialise_home(VaultHome(tmp_path / "var"))
    with home.open() as vault:
        member_id = vault.members.register(EMAIL, PASSWORD)
        vault.profile.update(member_id, {"contact_email": EMAIL, "given_name": "Carla"})
    return home


class Brand:
    """A brand's own client of the API: Authlib's OAuth 2.0 session, client credentials."""

    def __init__(self, server: LiveServer, home: VaultHome, name: str, category: str) -> None:
        registered = json.loads(vrmvault(home.root, "brand", "create", "--name", name,
                                         "--redirect-uri", "http://127.0.0.1:9/callback",
                                         "--category", category))
        self.url = server.url
        self.session = OAuth2Session(registered["client_id"], registered["client_secret"],
                                     scope=SCOPE,
                                     token_endpoint_auth_method="client_secret_basic")
        self.session.fetch_token(server.url + "/oauth/token", grant_type="client_credentials")

    def get(self, path: str, status: int = 200) -> Any:
        response = self.session.get(self.url + path, timeout=30)
        assert response.status_code == status, response.text
        return response.json()

    def listed(self) -> list[dict[str, Any]]:
        return list(self.get("/api/v1/intents")["intents"])

    def offer(self, intent: str, price: str) -> dict[str, Any]:
        valid_until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()
        response = self.session.post(self.url + f"/api/v1/intents/{intent}/offers", json={
            "price": price, "currency": "EUR", "terms": "Delivered within a week",
            "message": "Fitted with winter tyres", "valid_until": valid_until}, timeout=30)
        assert response.status_code == 201, response.text
        return dict(response.json()["offer"])


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()


def cast(page: Page, description: str, *, reveal: bool = True) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Intents").click()
    today = dt.datetime.now(dt.UTC).date()
    page.locator("#category").select_option(label="Bicycles")
    page.locator("#description").fill(description)
    page.locator("#currency").select_option("EUR")
    page.locator("#budget_min").fill("1200")
    page.locator("#budget_max").fill("2400")
    page.locator("#window_from").fill((today + dt.timedelta(days=2)).isoformat())
    page.locator("#window_until").fill((today + dt.timedelta(days=45)).isoformat())
    page.locator("#country").fill("NL")
    page.locator("#region").fill("NL-NH")
    page.locator("#city").fill("Haarlem")
    if reveal:
        reveal_fields = page.locator("#reveal_fields")
        reveal_fields.get_by_label("Contact e-mail").check()
        reveal_fields.get_by_label("Given name").check()
    page.get_by_role("button", name="Cast intent").click()
    expect(page.get_by_role("heading", name="Bicycles: your intent")).to_be_visible()


def test_two_brands_offer_the_member_accepts_one_and_reveals_an_email_to_it_only(
        page: Page, server: LiveServer, live_home: VaultHome) -> None:
    velo = Brand(server, live_home, "Velo Bikes", "bicycles")
    spoke = Brand(server, live_home, "Spoke & Chain", "bicycles")
    sky = Brand(server, live_home, "Sky Trips", "travel")
    sign_in(page)

    # Bad input first: an address for a place and an inverted budget, each next to its field.
    page.get_by_role("navigation").get_by_role("link", name="Intents").click()
    page.locator("#category").select_option(label="Bicycles")
    page.locator("#description").fill("A cargo bike")
    page.locator("#budget_min").fill("900")
    page.locator("#budget_max").fill("100")
    page.locator("#window_from").fill("2001-01-01")
    page.locator("#window_until").fill("2001-02-01")
    page.locator("#country").fill("NL")
    page.locator("#city").fill("Kerkstraat 12")
    page.get_by_role("button", name="Cast intent").click()
    expect(page.locator("#budget_max-error")).to_contain_text("must not be below")
    expect(page.locator("#city-error")).to_contain_text("not an address")
    expect(page.locator("#window_until-error")).to_contain_text("ended already")
    expect(page.locator("#city")).to_have_value("Kerkstraat 12")     # kept to correct
    assert velo.listed() == []

    cast(page, "A cargo bike for two children, electric")
    [seen_by_velo] = velo.listed()
    [seen_by_spoke] = spoke.listed()
    assert seen_by_velo["id"] != seen_by_spoke["id"]
    assert seen_by_velo["description"] == "A cargo bike for two children, electric"
    assert seen_by_velo["location"]["city"] == "Haarlem"
    assert sky.listed() == []
    spoke.get(f"/api/v1/intents/{seen_by_velo['id']}", status=404)   # not Spoke's name for it

    velos = velo.offer(seen_by_velo["id"], "2199.00")
    spokes = spoke.offer(seen_by_spoke["id"], "1999.50")

    page.reload()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("row").nth(1)).to_contain_text("Spoke & Chain")   # cheapest first
    page.get_by_label("Sort").select_option(label="Highest price first")
    page.get_by_role("button", name="Sort").click()
    expect(page.get_by_role("table").get_by_role("row").nth(1)).to_contain_text("Velo Bikes")

    with page.expect_download() as download:
        page.get_by_role("link", name="Keep the signed offer of Velo Bikes").click()
    signed = download.value.path().read_text()
    assert signed.count(".") == 2                          # a compact JWS

    offer = page.locator(f"#{velos['id']}")          # the member's and the brand's offer id
    offer.get_by_label("Contact e-mail").check()
    offer.get_by_role("button", name="Accept Velo Bikes's offer").click()
    expect(page.locator(".flash.success")).to_contain_text(
        "revealed your contact e-mail to it only")

    accepted = velo.get(f"/api/v1/offers/{velos['id']}")["offer"]
    assert accepted["status"] == "accepted" and accepted["fields"] == ["contact_email"]
    profile = velo.get(f"/api/v1/offers/{velos['id']}/profile")
    assert profile["profile"] == {"contact_email": EMAIL}
    assert profile["subject"] == accepted["subject"]
    declined = spoke.get(f"/api/v1/offers/{spokes['id']}")["offer"]
    assert declined["status"] == "declined"
    assert (declined["subject"], declined["grant"], declined["fields"]) == (None, None, [])
    spoke.get(f"/api/v1/offers/{spokes['id']}/profile", status=404)
    assert EMAIL not in json.dumps(declined) and "Carla" not in json.dumps(declined)

    page.goto("/member/consents")
    expect(page.locator("main")).to_contain_text("Velo Bikes")


def test_withdrawing_and_blocking_take_the_intent_out_of_the_next_listing(
        page: Page, server: LiveServer, live_home: VaultHome) -> None:
    velo = Brand(server, live_home, "Velo Bikes", "bicycles")
    spoke = Brand(server, live_home, "Spoke & Chain", "bicycles")
    sign_in(page)
    cast(page, "A folding bike for the train", reveal=False)
    assert len(velo.listed()) == len(spoke.listed()) == 1

    page.get_by_role("link", name="All your intents").click()
    page.get_by_label("Block a brand").select_option(label="Spoke & Chain")
    page.get_by_role("button", name="Block", exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text("Spoke & Chain no longer sees")
    assert spoke.listed() == [] and len(velo.listed()) == 1

    page.get_by_role("link", name="Bicycles").first.click()
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".flash.success")).to_contain_text("paused")
    assert velo.listed() == []
    page.get_by_role("button", name="Resume").click()
    assert len(velo.listed()) == 1
    page.get_by_role("button", name="Withdraw").click()
    expect(page.locator(".status")).to_contain_text("Withdrawn")
    assert velo.listed() == [] and spoke.listed() == []
