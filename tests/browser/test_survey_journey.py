"""A member answers a survey of their community in a real browser, changes the answer and
withdraws it (the real ``vrmvault serve``, Debian's Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from community.storage import community_service, membership_service, survey_service
from community.surveys import QuestionDraft, SurveyDraft
from consent.context import open_consent
from tests.conftest import initialise_home
from vault.home import VaultHome

pytestmark = pytest.mark.browser

EMAIL = "rider@example.org"
PASSWORD = "lantern orchard velvet compass"
RATING = "How do you rate our winter tyres?"
WHY = "What do you ride for?"
ELSE = "Anything else?"


@pytest.fixture
def live_home(tmp_path: Path) -> VaultHome:
    """A member of Velo's community, with Velo's survey waiting for them."""
    home = initialise_home(VaultHome(tmp_path / "var"))
    with home.open() as vault:
        velo = vault.brands.add("Velo Bikes", ("bikes",))
        member_id = vault.members.register(EMAIL, PASSWORD)
        consent = open_consent(vault, home)
        try:
            consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                                 aggregate_allowed=True)
            club = community_service(consent).open(
                velo.id, name="Velo riders", description="Riding.",
                purposes=["dpv:ResearchAndDevelopment"])
            membership_service(consent).join(member_id, club.id)
            survey_service(consent=consent).publish(velo.id, SurveyDraft(
                community_id=club.id, title="Riding in winter",
                closes_at=int(vault.clock()) + 7 * 86_400,
                questions=(QuestionDraft("rating", RATING),
                           QuestionDraft("multiple", WHY, ("Commuting", "Sport", "Leisure")),
                           QuestionDraft("text", ELSE))))
        finally:
            consent.close()
    return home


def test_a_member_answers_changes_and_withdraws(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation").get_by_role("link", name="Asked").click()
    expect(page.get_by_role("heading", name="What brands ask you")).to_be_visible()
    page.get_by_role("link", name="Answer Riding in winter").click()

    # A wrong answer first: nothing chosen is refused with the reason.
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("alert")).to_contain_text("Answer at least one question")

    page.get_by_role("group", name=RATING).get_by_label("4").check()
    page.get_by_role("group", name=WHY).get_by_label("Commuting").check()
    page.get_by_role("group", name=WHY).get_by_label("Leisure").check()
    page.get_by_label(ELSE).fill("Brighter lights, please.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your answer is saved in your vault.")).to_be_visible()
    expect(page.get_by_role("heading", name="Your answers (1)")).to_be_visible()

    page.get_by_role("link", name="Change your answer to Riding in winter").click()
    expect(page.get_by_role("group", name=RATING).get_by_label("4")).to_be_checked()
    expect(page.get_by_label(ELSE)).to_have_value("Brighter lights, please.")
    page.get_by_role("group", name=RATING).get_by_label("2").check()
    page.get_by_role("button", name="Change my answer").click()
    expect(page.get_by_text("Your answer is changed.")).to_be_visible()
    page.get_by_role("link", name="Change your answer to Riding in winter").click()
    expect(page.get_by_role("group", name=RATING).get_by_label("2")).to_be_checked()

    page.get_by_role("button", name="Withdraw my answer").click()
    expect(page.get_by_text("Your answer is withdrawn and deleted.")).to_be_visible()
    expect(page.get_by_text("You have not answered anything yet.")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for your answer (1)")).to_be_visible()
