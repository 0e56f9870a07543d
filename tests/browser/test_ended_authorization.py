"""An authorization that ends on the brand's side, seen by the member in a real browser:
the member approves in headless Chromium, the brand (Authlib's client) replays a
refresh token it already used, and the member's Sharing page then says, in words, that the
brand can no longer read and why, while the consent stands; the brand hears of it from the
delivery loop ``vrmvault serve`` runs, as a signed ``authorization.ended`` webhook."""

from __future__ import annotations

import json
import secrets

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from playwright.sync_api import Page, expect

from brand_gateway.webhooks.signing import verify
from vault.home import VaultHome

from . import test_brand_journey as journey
from .conftest import LiveServer
from .test_brand_journey import (
    BRAND,
    DETAILS,
    EMAIL,
    PASSWORD,
    BrandReceiver,
    query_of,
    sign_up_and_prepare,
    vrmvault,
)

pytestmark = pytest.mark.browser
receiver = journey.receiver      # the brand's loopback server fixture, as in the brand journey


def test_a_replayed_refresh_token_shows_as_ended_on_the_sharing_page(
        page: Page, server: LiveServer, live_home: VaultHome, receiver: BrandReceiver) -> None:
    home = live_home.root
    callback = receiver.url + "/callback"
    registered = json.loads(vrmvault(home, "brand", "create", "--name", BRAND,
                                     "--redirect-uri", callback, "--category", "bicycles"))
    client_id, client_secret = registered["client_id"], registered["client_secret"]
    vrmvault(home, "webhooks", "add", client_id, receiver.url + "/webhook")
    whpk = vrmvault(home, "webhooks", "key").split("\n", 1)[0].strip()
    metadata = requests.get(server.url + "/.well-known/oauth-authorization-server",
                            timeout=10).json()

    sign_up_and_prepare(page, home)
    verifier = secrets.token_urlsafe(64)
    brand = OAuth2Session(client_id, client_secret, redirect_uri=callback,
                          code_challenge_method="S256",
                          token_endpoint_auth_method="client_secret_basic")
    url, state = brand.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier,
        authorization_details=json.dumps(DETAILS))
    page.goto(url)
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(callback + "?**")
    [returned] = receiver.callbacks
    assert query_of(returned)["state"] == state

    with brand:
        token = brand.fetch_token(metadata["token_endpoint"],
                                  authorization_response=receiver.url + returned,
                                  code_verifier=verifier, state=state)
        grant_id = token["authorization_details"][0]["grant_id"]
        used = token["refresh_token"]
        brand.refresh_token(metadata["token_endpoint"], refresh_token=used)
        replay = requests.post(metadata["token_endpoint"], auth=(client_id, client_secret),
                               data={"grant_type": "refresh_token", "refresh_token": used},
                               timeout=10)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        read = brand.get(server.url + "/api/v1/member/profile", timeout=10)
        assert read.status_code == 401

    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Sharing").click()
    card = page.locator(f"li#{grant_id}")
    expect(card).to_contain_text(f"{BRAND} can no longer read this: its access was ended on")
    expect(card).to_contain_text("a key it holds to stay connected was used twice")
    expect(card).to_contain_text("Your consent stands until")
    expect(card).not_to_contain_text("Active until")
    expect(card.get_by_role("button", name=f"Withdraw grant to {BRAND}")).to_be_visible()
    receipts = page.get_by_role("table")
    expect(receipts).to_contain_text("Brand's access ended")

    ended = receiver.wait_for("authorization.ended")
    event = verify(ended.headers, ended.body, whpk)
    assert event["data"]["grant"] == grant_id
    assert (event["data"]["reason"], event["data"]["consent"]) == ("refresh-replay", "stands")

    # The brand asks again for the same purpose: before the member answers, the consent screen
    # says that allowing replaces what the brand holds (the consent still stands), and what.
    again = OAuth2Session(client_id, client_secret, redirect_uri=callback,
                          code_challenge_method="S256")
    url, _ = again.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=secrets.token_urlsafe(64),
        authorization_details=json.dumps(DETAILS))
    page.goto(url)
    notice = page.locator(".notice.replaces")
    expect(notice).to_contain_text(f"Allowing replaces what {BRAND} may see now for this "
                                   "purpose:")
    expect(notice).to_contain_text("Given name, City, Country, until")
    expect(notice).to_contain_text("Choose Refuse to keep it as it is.")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(callback + "?**")
    page.goto("/member/consents")
    expect(page.locator(f"li#{grant_id}")).to_contain_text("your newer answer")


def brand_token(token_endpoint: str, client_id: str, client_secret: str, scope: str) -> str:
    response = requests.post(token_endpoint, auth=(client_id, client_secret), timeout=10,
                             data={"grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_member_withdraws_an_offer_and_the_brand_cannot_answer_it(
        page: Page, server: LiveServer, live_home: VaultHome) -> None:
    home = live_home.root
    registered = json.loads(vrmvault(home, "brand", "create", "--name", BRAND,
                                     "--redirect-uri", "http://127.0.0.1:9/callback",
                                     "--category", "bicycles"))
    sign_up_and_prepare(page, home)
    page.goto("/login")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation").get_by_role("link", name="Sharing").click()
    page.get_by_label("Offer my terms").select_option(label=BRAND)
    page.get_by_role("button", name="Offer", exact=True).click()
    expect(page.get_by_text(f"Your terms are offered to {BRAND}.")).to_be_visible()
    page.get_by_role("button", name=f"Withdraw my offer to {BRAND}").click()
    expect(page.get_by_text(f"Your offer to {BRAND} is withdrawn")).to_be_visible()
    expect(page.locator("li.agreement")).to_contain_text("you took back your offer")

    metadata = requests.get(server.url + "/.well-known/oauth-authorization-server",
                            timeout=10).json()
    token = brand_token(metadata["token_endpoint"], registered["client_id"],
                        registered["client_secret"], "agreements:write")
    headers = {"Authorization": "Bearer " + token}
    [offer] = requests.get(server.url + "/api/v1/agreements?status=withdrawn",
                           headers=headers, timeout=10).json()["agreements"]
    answer = requests.post(f"{server.url}/api/v1/agreements/{offer['id']}/answer",
                           headers=headers, json={"answer": "accept"}, timeout=10)
    assert answer.status_code == 409
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert "withdrawn" in answer.json()["detail"]

