"""One data subject request from filing to close, in a real browser against the real server.

A member whose data Velo Bikes holds files an access request on their My rights page; Velo,
told by the signed webhook's dsr/v1 message (read here from the outbox, as its receiver would
get it), answers through the brand API with a result document; the compliance officer, signed
in with a second factor, finds the request in the queue by pseudonym (no address); the member
sees Velo's state and the document, and the officer sees the request closed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.storage import client_registry, webhook_registry
from compliance.requests import KINDS
from consent.context import open_consent
from consent.grants import BrandRequest
from tests.conftest import GOOD_PASSWORD, TEST_HASHING, turn_on_totp
from vault.home import VaultHome
from vault.members import COMPLIANCE

from .conftest import LiveServer, brand_bearer, call_json

pytestmark = pytest.mark.browser

EMAIL = "rights.member@example.org"
PASSWORD = "lantern orchard velvet compass"
OFFICER = "olive.officer@vrmvault.example"


@dataclass(frozen=True)
class Seed:
    member_id: str
    principal: str
    client_id: str
    secret: str
    officer_code: str


@pytest.fixture
def seed(live_home: VaultHome) -> Seed:
    """Velo Bikes with an OAuth client and a webhook endpoint, holding the member's city under
    a grant of individual use; a compliance officer with two-step sign-in."""
    with live_home.open(hashing=TEST_HASHING) as vault:
        [brand] = [b for b in vault.brands.all() if b.name == "Velo Bikes"]
        registry = client_registry(database=vault.data, clock=vault.clock,
                                   hasher=ClientSecretHasher.from_master(vault.master))
        client, secret = registry.create("Velo Bikes", ["https://velo.example/callback"],
                                         brand_id=brand.id)
        webhook_registry(database=vault.data, clock=vault.clock).add(
            client.client_id, "https://velo.example/hooks")
        member_id = vault.members.register(EMAIL, PASSWORD)
        consent = open_consent(vault, live_home)
        try:
            consent.terms.update(member_id, agreement="SD-BASE-ATP",
                                 purposes=["dpv:ServiceProvision"], max_days=365,
                                 aggregate_allowed=False)
            offer = consent.agreements.proffer(member_id, brand.id)
            consent.agreements.brand_accepts(offer.id, brand.id)
            consent.grants.grant(member_id, BrandRequest(brand.id, "dpv:ServiceProvision",
                                                         frozenset({"city"})))
            principal = consent.principal(member_id)
        finally:
            consent.close()
        officer = vault.members.register(OFFICER, GOOD_PASSWORD)
        _, codes = turn_on_totp(vault, officer)
        vault.members.set_role(officer, COMPLIANCE)
    return Seed(member_id, principal, client.client_id, secret, codes[0])


@pytest.fixture
def server(seed: Seed, live_home: VaultHome) -> Iterator[LiveServer]:
    live = LiveServer(live_home.root)
    live.start()
    yield live
    live.stop()


def _brand_headers(server: LiveServer, seed: Seed) -> dict[str, str]:
    return brand_bearer(server, seed.client_id, seed.secret, "requests:write")


def _forwarded(home: VaultHome) -> dict[str, Any]:
    """The dsr/v1 message queued for Velo's endpoint (what its receiver is sent, signed)."""
    with home.open(hashing=TEST_HASHING) as vault:
        [row] = vault.data.all("SELECT payload FROM webhook_outbox WHERE event_type ="
                               " 'dsr.access'")
        return dict(json.loads(row["payload"])["data"])


def _sign_in(page: Page, email: str, password: str, heading: str = "My vault") -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    if heading:
        expect(page.get_by_role("heading", name=heading)).to_be_visible()


def test_a_request_from_filing_to_close(page: Page, browser: Browser, server: LiveServer,
                                        seed: Seed, live_home: VaultHome) -> None:
    _sign_in(page, EMAIL, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="My rights").click()
    # Each kind is one label beside its radio: the name, and its description under it, on the
    # same left edge (not a narrow column of bold names with the descriptions apart).
    expect(page.locator("label.option")).to_have_count(len(KINDS))
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 720})
        for choice in page.locator("label.option").all():
            radio = choice.locator("input[type=radio]").bounding_box()
            name = choice.locator("span").first.bounding_box()
            words = choice.locator(".option-help").bounding_box()
            assert radio and name and words
            assert words["x"] == name["x"] > radio["x"] + radio["width"]
            assert words["y"] > name["y"]
    page.get_by_label("Access (Art. 15)").check()
    page.get_by_label("Anything to add (optional)").fill("Which orders do you keep?")
    expect(page.get_by_label("Velo Bikes")).to_be_checked()       # every holder by default
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_text("Your request is recorded and sent to 1 brand.")).to_be_visible()
    request = page.locator("li.dsr")
    expect(request.locator(".dsr-state")).to_have_text("In progress")
    expect(request.locator(".task-state")).to_have_text("Received, not started")

    message = _forwarded(live_home)
    assert message["apiVersion"] == "dsr/v1" and message["kind"] == "AccessRequest"
    assert EMAIL not in json.dumps(message) and "Which orders" not in json.dumps(message)
    callback = message["request"]["callbacks"][0]["url"]
    assert callback.startswith(server.url + "/api/v1/requests/")
    headers = _brand_headers(server, seed)
    listed = call_json(server.url + "/api/v1/requests", headers=headers)["requests"]
    assert [r["uid"] for r in listed] == [message["metadata"]["uid"]]
    call_json(callback, headers=headers, body=json.dumps({"status": "in_progress"}).encode())
    page.reload()
    expect(request.locator(".task-state")).to_have_text("In progress")
    # The officer: second factor; the request in the queue by pseudonym, no address.
    context = browser.new_context(base_url=server.url)
    officer = context.new_page()
    try:
        _sign_in(officer, OFFICER, GOOD_PASSWORD, heading="")
        officer.get_by_label("6-digit code").fill(seed.officer_code)
        officer.get_by_role("button", name="Continue").click()
        expect(officer.get_by_role("heading", name="My vault")).to_be_visible()
        officer.goto("/console/requests")
        expect(officer.get_by_role("heading", name="1 open request")).to_be_visible()
        queued = officer.locator("tr[data-request]")
        expect(queued).to_have_attribute("data-urgency", "green")
        expect(queued.get_by_text(seed.principal)).to_be_visible()
        assert EMAIL not in officer.content()
        queued.get_by_role("link", name="Access (Art. 15)").click()
        expect(officer.locator("td.task-state")).to_have_text("In progress")

        document = base64.b64encode(json.dumps({"orders": ["city bike"]}).encode()).decode()
        done = call_json(callback, headers=headers, body=json.dumps({
            "status": "completed", "results": [{"name": "orders.json", "data": document,
                                                "headers": {"Content-Type":
                                                            "application/json"}}]}).encode())
        assert done["request"]["status"] == "completed"
        page.reload()
        expect(request.locator(".dsr-state")).to_have_text("Closed")
        expect(request.locator(".task-state")).to_have_text("Done")
        request.get_by_text("Velo Bikes sent: orders.json").click()
        expect(request.get_by_text('"city bike"')).to_be_visible()

        officer.reload()
        expect(officer.locator("dd.dsr-state")).to_contain_text("Closed")
        expect(officer.locator("td.task-state")).to_have_text("Done")
        assert EMAIL not in officer.content()
        officer.goto("/console/requests")
        expect(officer.get_by_role("heading", name="0 open requests")).to_be_visible()
        expect(officer.get_by_role("img", name="Requests by state")).to_be_visible()
    finally:
        context.close()
