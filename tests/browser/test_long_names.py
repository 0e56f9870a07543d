"""A brand's name as long as registration takes, in one unbroken word, on a 390 px phone: the
consent screens wrap it rather than grow past the screen, so the member reads which brand asks
and for which fields without scrolling sideways (a button or a fieldset as wide as the name
pushed the page to 1,470 px)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, expect

from vault.brands import MAX_NAME
from vault.home import VaultHome

from .conftest import LiveServer, sign_up
from .test_brand_journey import DETAILS, EMAIL, PASSWORD, vrmvault
from .test_every_page import PHONE, fits

pytestmark = pytest.mark.browser
NAME = "M" * MAX_NAME


def test_a_long_brand_name_wraps_on_the_consent_screens(
        browser: Browser, server: LiveServer, live_home: VaultHome) -> None:
    callback = "http://127.0.0.1:9/callback"
    client = json.loads(vrmvault(live_home.root, "brand", "create", "--name", NAME,
                                 "--redirect-uri", callback))
    context = browser.new_context(base_url=server.url, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        sign_up(page, live_home.root, EMAIL, PASSWORD)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(
            secrets.token_urlsafe(48).encode()).digest()).rstrip(b"=").decode()
        page.goto("/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": client["client_id"],
            "redirect_uri": callback, "state": "s", "code_challenge": challenge,
            "code_challenge_method": "S256", "authorization_details": json.dumps(DETAILS)}))
        # A new vault accepts no purpose yet: the terms screen first, its button naming the brand.
        accept = page.get_by_role("button", name=f"Accept for {NAME} and continue")
        expect(accept).to_be_visible()
        fits(page, "the terms screen")
        accept.click()
        expect(page.get_by_role("button", name="Allow")).to_be_visible()
        fits(page, "the consent screen")
    finally:
        context.close()
