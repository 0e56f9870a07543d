"""A member joins an insight community from the Communities page in a real browser, sees the
grant on the Sharing page, and posts an idea that the brand then reads through its API.

The store is seeded through the community services before the server starts: Velo Bikes' open
community with a challenge, and a member whose terms allow aggregate-only use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from community.storage import cocreation_service, community_service
from consent.context import open_consent
from consent.model import GrantStatus, Mode
from tests.conftest import TEST_HASHING
from vault.home import VaultHome

from .conftest import LiveServer

pytestmark = pytest.mark.browser

EMAIL = "joining.member@example.org"
PASSWORD = "meadow lantern copper harbour"
IDEA = "Lend me an e-bike while mine is repaired."


@dataclass(frozen=True)
class Seed:
    member_id: str
    brand_id: str
    community_id: str
    challenge_id: str


@pytest.fixture
def seed(live_home: VaultHome) -> Seed:
    with live_home.open(hashing=TEST_HASHING) as vault:
        consent = open_consent(vault, live_home)
        try:
            member_id = vault.members.register(EMAIL, PASSWORD)
            consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                                 aggregate_allowed=True)
            [brand] = [b for b in vault.brands.all() if b.name == "Velo Bikes"]
            community = community_service(consent).open(
                brand.id, name="Velo Repair Club", description="Help us shape repairs.",
                purposes=["dpv:ResearchAndDevelopment"])
            challenge = cocreation_service(consent).open_challenge(
                brand.id, community.id, title="How should our repair service work?",
                description="Tell us what would help.")
        finally:
            consent.close()
    return Seed(member_id, brand.id, community.id, challenge.id)


@pytest.fixture
def server(seed: Seed, live_home: VaultHome) -> Iterator[LiveServer]:
    """The conftest's server, started only once the store is seeded."""
    live = LiveServer(live_home.root)
    live.start()
    yield live
    live.stop()


def test_join_from_the_communities_page_and_post_an_idea(page: Page, live_home: VaultHome,
                                                         seed: Seed) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Communities").click()
    expect(page.get_by_role("heading", name="Insight communities")).to_be_visible()
    page.get_by_role("link", name="See what joining means for Velo Repair Club").click()
    expect(page.get_by_role("heading", name="What joining means")).to_be_visible()
    expect(page.get_by_text("Research and development", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Join Velo Repair Club").click()
    expect(page.get_by_role("status")).to_contain_text("You joined Velo Repair Club")
    expect(page.get_by_role("heading", name="You are in this community")).to_be_visible()

    page.get_by_role("link", name="Sharing", exact=True).click()
    expect(page.get_by_text("Research and development").first).to_be_visible()

    page.get_by_role("link", name="Communities", exact=True).click()
    page.get_by_role("link", name="Velo Repair Club").click()
    page.get_by_role("link", name="How should our repair service work?").click()
    page.get_by_role("button", name="Post my idea").click()       # empty: an error by the field
    expect(page.locator("#text-error")).to_contain_text("Your idea")
    page.get_by_label("Your idea").fill(IDEA)
    page.get_by_role("button", name="Post my idea").click()
    expect(page.get_by_role("status")).to_contain_text("Your idea is posted")
    expect(page.locator(".idea-text")).to_have_text(IDEA)

    with live_home.open(hashing=TEST_HASHING) as vault:
        consent = open_consent(vault, live_home)
        try:
            [grant] = consent.grants.for_member(seed.member_id)
            assert grant.status is GrantStatus.ACTIVE and grant.mode is Mode.AGGREGATE
            [idea] = cocreation_service(consent).release_ideas(seed.brand_id,
                                                               seed.challenge_id)
            assert idea.text == IDEA and idea.author.startswith("m-")
        finally:
            consent.close()
