"""The insight community's loop in a real browser, against the real server: a member joins
Velo's community on the Communities page, answers its survey on the Asked page, and, once Velo
posts through the brand API what it did about that survey, sees it on the Results page next to
their own answer; their low rating lets them ask Velo to get back to them about it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.storage import client_registry
from community.storage import community_service, survey_service
from community.surveys import QuestionDraft, SurveyDraft
from consent.context import open_consent
from tests.conftest import TEST_HASHING
from vault.home import VaultHome

from .conftest import LiveServer, call_json
from .test_loop_journey import brand_headers

pytestmark = pytest.mark.browser

EMAIL = "panel.member@example.org"
PASSWORD = "lantern orchard velvet compass"
RATING = "How do you rate our winter tyres?"


@dataclass(frozen=True)
class Seed:
    member_id: str
    brand_id: str
    client_id: str
    secret: str
    survey_id: str


@pytest.fixture
def seed(live_home: VaultHome) -> Seed:
    """Velo with an OAuth client and a community with a survey; a member not in it yet."""
    with live_home.open(hashing=TEST_HASHING) as vault:
        [brand] = [b for b in vault.brands.all() if b.name == "Velo Bikes"]
        client, secret = client_registry(
            database=vault.data, clock=vault.clock,
            hasher=ClientSecretHasher.from_master(vault.master)).create(
                "Velo Bikes", ["https://velo.example/callback"], brand_id=brand.id)
        member_id = vault.members.register(EMAIL, PASSWORD)
        consent = open_consent(vault, live_home)
        try:
            consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                                 aggregate_allowed=True)
            club = community_service(consent).open(
                brand.id, name="Velo riders", description="Tell us about riding.",
                purposes=["dpv:ResearchAndDevelopment"])
            survey = survey_service(consent=consent).publish(brand.id, SurveyDraft(
                community_id=club.id, title="Riding in winter",
                closes_at=int(vault.clock()) + 7 * 86_400,
                questions=(QuestionDraft("rating", RATING),))).survey
        finally:
            consent.close()
    return Seed(member_id, brand.id, client.client_id, secret, survey.id)


@pytest.fixture
def server(seed: Seed, live_home: VaultHome) -> Iterator[LiveServer]:
    live = LiveServer(live_home.root)
    live.start()
    yield live
    live.stop()


def test_a_member_joins_answers_and_sees_what_the_brand_did(
        page: Page, server: LiveServer, seed: Seed) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Communities").click()
    page.get_by_role("link", name="See what joining means for Velo riders").click()
    page.get_by_role("button", name="Join Velo riders").click()
    expect(page.get_by_role("status")).to_contain_text("You joined Velo riders")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Asked").click()
    page.get_by_role("link", name="Answer Riding in winter").click()
    page.get_by_role("group", name=RATING).get_by_label("2").check()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Your answers (1)")).to_be_visible()

    headers = brand_headers(server, seed)          # its client id and secret
    posted = call_json(server.url + "/api/v1/wedid", headers=headers, body=(
        b'{"subject_kind": "survey", "subject": "' + seed.survey_id.encode()
        + b'", "said": "Tyres slip on icy mornings.", "did": "Winter tyres now come with'
          b' every e-bike.", "changed_on": "2027-01-10",'
          b' "purpose": "dpv:ResearchAndDevelopment"}'))
    # One member in the community: the release is suppressed, for the brand as for them.
    assert posted["post"]["release"]["questions"][0]["suppressed"] is True

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Results").click()
    post = page.get_by_role("article").filter(has_text="Riding in winter")
    expect(post.get_by_text("Winter tyres now come with every e-bike.")).to_be_visible()
    chart = post.get_by_role("img", name=RATING)
    expect(chart).to_be_visible()
    # The question is written over its chart, not only in the chart's hover title.
    expect(post.get_by_role("figure", name=RATING).locator("figcaption")).to_be_visible()
    expect(chart.locator("text.chart-value").first).to_have_text("2 of 5")
    expect(post.get_by_role("cell", name="not shown: too few members")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Care").click()
    page.get_by_role("link", name="Ask Velo Bikes to get back to me about the survey "
                                  "Riding in winter").click()
    expect(page.get_by_text(f"{RATING}: 2 of 5")).to_be_visible()
    page.get_by_role("button", name="Ask Velo Bikes to get back to me").click()
    expect(page.get_by_text("Your request is sent.")).to_be_visible()
    expect(page.locator(".case-state")).to_have_text("Open: waiting for the brand")
    [case] = call_json(server.url + "/api/v1/care/cases", headers=headers)["cases"]
    read = call_json(server.url + f"/api/v1/care/cases/{case['id']}", headers=headers)["case"]
    assert read["survey"]["answers"][0]["value"] == 2
