"""A member's first contact with a brand, in headless Chromium against the real ``vrmvault serve``.

The brand is registered with the CLI (``--accepts SD-BASE``) and asks with Authlib's
``OAuth2Session``; a person without a vault follows its link, creates one, is told in plain
words what the request needs of their terms (a purpose, a longer grant, an agreement with the
brand), accepts it for this brand, allows on the consent screen and lands on the brand's
callback with a code the brand exchanges.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from playwright.sync_api import Page, expect

from vault.home import VaultHome

from .conftest import LiveServer, mailed_link
from .test_brand_journey import BrandReceiver, query_of, receiver, vrmvault

pytestmark = pytest.mark.browser
__all__ = ["receiver"]                          # the fixture, used by name

EMAIL = "first.contact@example.org"
PASSWORD = "harbour lantern quiet meadow"
BRAND = "Velo Bikes Online"
DETAILS: list[dict[str, Any]] = [{"type": "vrmvault-member-data",
                                  "purpose": "dpv:ServiceProvision",
                                  "datatypes": ["given_name", "city"], "duration_days": 60}]


def test_a_new_member_from_a_brands_link_signs_up_accepts_and_allows(
        page: Page, server: LiveServer, live_home: VaultHome,
        receiver: BrandReceiver) -> None:
    callback = receiver.url + "/callback"
    registered = json.loads(vrmvault(live_home.root, "brand", "create", "--name", BRAND,
                                     "--redirect-uri", callback, "--accepts", "SD-BASE"))
    metadata = requests.get(server.url + "/.well-known/oauth-authorization-server",
                            timeout=10).json()
    verifier = secrets.token_urlsafe(64)
    brand = OAuth2Session(registered["client_id"], registered["client_secret"],
                          redirect_uri=callback, code_challenge_method="S256",
                          token_endpoint_auth_method="client_secret_basic")
    url, state = brand.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier,
        authorization_details=json.dumps(DETAILS))

    # No vault yet: from the sign-in page to sign-up, and back to the same request.
    page.goto(url)
    expect(page.get_by_text(f"Sign in, or create a vault, to answer the request from {BRAND}.")
           ).to_be_visible()
    page.locator("#main").get_by_role("link", name="Create a vault").click()
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create my vault").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text(f"The request from {BRAND} waits in this browser")).to_be_visible()
    page.goto(mailed_link(live_home.root, EMAIL))          # the same browser follows the link
    page.get_by_role("button", name="Confirm and open my vault").click()

    # What the request needs of the new (empty) terms, in plain words, for this brand only.
    expect(page.get_by_role("heading", name=f"The request from {BRAND} needs more than your "
                                              "terms allow")).to_be_visible()
    expect(page.get_by_text("Your terms do not accept providing the service yet")
           ).to_be_visible()
    expect(page.get_by_text(f"{BRAND} asks to keep access for 60 days")).to_be_visible()
    expect(page.get_by_text(f"You have no agreement on terms with {BRAND} yet")
           ).to_be_visible()
    codes = page.get_by_text("SD-BASE", exact=True)                     # folded away...
    expect(codes.first).to_be_hidden()
    page.get_by_text("The terms in IEEE 7012").click()                  # ...until asked for
    expect(codes.first).to_be_visible()
    page.get_by_role("button", name=f"Accept for {BRAND} and continue").click()

    # The normal consent screen: fields can be unticked; Allow goes back to the brand.
    expect(page.get_by_text(f"Accepted for {BRAND} only")).to_be_visible()
    expect(page.get_by_role("heading", name=f"{BRAND} asks to see some of your data")
           ).to_be_visible()
    expect(page.get_by_label("Given name")).to_be_checked()
    page.get_by_label("City").uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(callback + "?**")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    [returned] = receiver.callbacks
    params = query_of(returned)
    assert params["state"] == state and params["iss"] == metadata["issuer"]
    with brand:
        token = brand.fetch_token(metadata["token_endpoint"],
                                  authorization_response=receiver.url + returned,
                                  code_verifier=verifier, state=state)
        [granted] = token["authorization_details"]
        assert granted["datatypes"] == ["given_name"]
        assert brand.get(server.url + "/api/v1/member", timeout=10).status_code == 200

    # The receipt of what was accepted for the brand is on the Sharing page.
    page.goto("/member/consents")
    expect(page.get_by_role("heading", name="Accepted for one brand only")).to_be_visible()
    expect(page.get_by_role("cell", name="Terms accepted for this brand")).to_be_visible()
