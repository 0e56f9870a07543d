"""The member's community pages: the Communities list, a community's page with what joining
means, joining and leaving as grants on the Sharing page, the invitation link, and ideas posted,
edited, voted on and withdrawn, with errors next to their fields."""

from __future__ import annotations

import json
import re

import pytest

from brand_gateway.storage import webhook_registry
from community.storage import cocreation_service, community_service
from consent.context import Consent
from consent.model import GrantStatus, Mode
from tests.conftest import GOOD_PASSWORD, AuthActions
from vault.home import Vault

from .pages import error_message, error_summary, field_errors, flashes, location_path

RESEARCH = "dpv:ResearchAndDevelopment"


@pytest.fixture
def club(consent: Consent, brand) -> str:
    return community_service(consent).open(
        brand.id, name="Repair club", description="Help us shape our repair service.",
        purposes=[RESEARCH]).id


@pytest.fixture
def challenge(consent: Consent, brand, club: str) -> str:
    return cocreation_service(consent).open_challenge(
        brand.id, club, title="How should our repair service work?",
        description="Tell us what would help.").id


def allow_totals(consent: Consent, member_id: str) -> None:
    consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                         aggregate_allowed=True)


def join(member, club: str, **form: str):
    page = f"/member/communities/{club}"
    return member.auth.post(page + "/join", form, form_page=page)


def test_the_list_offers_open_communities_and_the_page_says_what_joining_means(
        alice, club: str) -> None:
    page = alice.client.get("/member/communities").get_data(as_text=True)
    assert "Repair club" in page and "You are in no community yet." in page
    assert 'href="/member/communities"' in page            # in the member nav
    page = alice.client.get(f"/member/communities/{club}").get_data(as_text=True)
    assert "Research and development" in page and "365 days" in page
    assert "in totals" in page and "Join Repair club" in page


def test_joining_is_grants_on_the_sharing_page_and_leaving_withdraws_them(
        alice, consent: Consent, club: str) -> None:
    allow_totals(consent, alice.id)
    response = join(alice, club)
    assert response.status_code == 302 and location_path(response) == f"/member/communities/{club}"
    [grant] = consent.grants.for_member(alice.id)
    assert grant.mode is Mode.AGGREGATE and grant.purpose == RESEARCH
    sharing = alice.client.get("/member/consents").get_data(as_text=True)
    assert grant.id in sharing and "Given for your membership of" in sharing
    assert f'href="/member/communities/{club}">Repair club</a>' in sharing
    page = alice.client.get("/member/communities").get_data(as_text=True)
    assert "Sharing in force" in page and re.search(r"<code>m-[a-z2-7]{12}</code>", page)
    response = alice.auth.post(f"/member/communities/{club}/leave",
                               form_page=f"/member/communities/{club}")
    assert response.status_code == 302
    assert consent.grants.get(alice.id, grant.id).status is GrantStatus.WITHDRAWN
    assert "You left Repair club." in " ".join(flashes(
        alice.client.get("/member/communities").get_data(as_text=True)))


def test_individual_only_if_ticked_and_refusals_are_next_to_the_field(
        alice, consent: Consent, club: str) -> None:
    response = join(alice, club)                       # terms do not allow totals
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert any("Terms page" in m for m in field_errors(page, "individual"))
    assert consent.grants.for_member(alice.id) == []
    response = join(alice, club, individual="on")
    assert response.status_code == 302
    assert [g.mode for g in consent.grants.for_member(alice.id)] == [Mode.INDIVIDUAL]
    response = join(alice, club, individual="on")      # in force already
    assert response.status_code == 409
    response = join(alice, club, individual="yes please")
    assert response.status_code == 422


def test_the_invitation_leads_to_sign_in_and_back(app, vault: Vault, club: str) -> None:
    vault.members.register("carol@example.org", GOOD_PASSWORD)
    browser = app.test_client()
    page = browser.get(f"/communities/{club}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Repair club" in text and "Sign in" in text
    response = AuthActions(browser).login("carol@example.org", GOOD_PASSWORD)
    assert location_path(response) == f"/member/communities/{club}"
    assert browser.get(f"/communities/{club}").status_code == 302     # signed in: straight on
    assert browser.get("/communities/com_" + "0" * 24).status_code == 404
    assert browser.get("/communities/../member").status_code == 404


def test_ideas_posted_voted_edited_withdrawn(alice, bob, consent: Consent, club: str,
                                            challenge: str, brand) -> None:
    for member in (alice, bob):
        allow_totals(consent, member.id)
        assert join(member, club).status_code == 302
    page = f"/member/challenges/{challenge}"
    response = alice.auth.post(page + "/ideas", {"text": "   "}, form_page=page)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "text") == [
        "Your idea: write 1 to 2000 characters."]
    response = alice.auth.post(page + "/ideas", {"text": "x" * 2001}, form_page=page)
    assert response.status_code == 422 and "2000" in error_summary(response.get_data(as_text=True))
    response = alice.auth.post(page + "/ideas", {"text": "Loan bikes during repairs."},
                               form_page=page)
    assert response.status_code == 302
    [idea] = cocreation_service(consent).release_ideas(brand.id, challenge)
    shown = bob.client.get(page).get_data(as_text=True)
    assert "Loan bikes during repairs." in shown and idea.author in shown
    assert "bob@example.org" not in shown and alice.id not in shown
    assert bob.auth.post(f"/member/ideas/{idea.id}/vote", {"challenge_id": challenge},
                         form_page=page).status_code == 302
    assert alice.auth.post(f"/member/ideas/{idea.id}/vote", {"challenge_id": challenge},
                           form_page=page).status_code == 302
    assert "You cannot vote for your own idea." in flashes(alice.client.get(page).get_data(
        as_text=True))
    assert cocreation_service(consent).release_ideas(brand.id, challenge)[0].votes == 1
    edit = f"/member/ideas/{idea.id}/edit"
    assert bob.client.get(edit).status_code == 404
    assert alice.auth.post(edit, {"text": ""}).status_code == 422
    assert alice.auth.post(edit, {"text": "Loan e-bikes."}).status_code == 302
    assert "Loan e-bikes." in bob.client.get(page).get_data(as_text=True)
    assert bob.auth.post(f"/member/ideas/{idea.id}/withdraw", form_page=page).status_code == 404
    assert alice.auth.post(f"/member/ideas/{idea.id}/withdraw",
                           form_page=page).status_code == 302
    assert cocreation_service(consent).release_ideas(brand.id, challenge) == []


def test_an_idea_filled_to_its_maxlength_with_line_breaks_is_posted_and_edited(
        alice, consent: Consent, club: str, challenge: str, brand) -> None:
    """A browser lets the textarea hold 2,000 characters counting each line break as one,
    and sends each as CR LF (HTML's form submission): what it let through is taken, on
    posting and on editing; one character more is still refused."""
    allow_totals(consent, alice.id)
    assert join(alice, club).status_code == 302
    page = f"/member/challenges/{challenge}"
    assert 'name="text" rows="4" maxlength="2000"' in alice.client.get(page).get_data(
        as_text=True)
    idea = ("Loan bikes." + "x" * 88 + "\r\n") * 19 + "y" * 100      # 2,000 characters
    response = alice.auth.post(page + "/ideas", {"text": idea}, form_page=page)
    assert response.status_code == 302
    [posted] = cocreation_service(consent).release_ideas(brand.id, challenge)
    assert posted.text == idea
    edit = f"/member/ideas/{posted.id}/edit"
    assert 'maxlength="2000"' in alice.client.get(edit).get_data(as_text=True)
    edited = idea.replace("Loan bikes.", "Loan e-bike")
    assert alice.auth.post(edit, {"text": edited}).status_code == 302
    assert cocreation_service(consent).release_ideas(brand.id, challenge)[0].text == edited
    response = alice.auth.post(edit, {"text": idea + "z"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "text") == [
        "Your idea: write 1 to 2000 characters."]


def test_what_is_not_there_any_more_is_said_in_the_services_words(
        alice, app, consent: Consent, club: str, challenge: str) -> None:
    """Leaving twice (two tabs), voting for an idea withdrawn meanwhile, an idea or community
    id that names nothing: a 404 page saying what is missing, not Flask's "The requested URL
    was not found on the server. If you entered the URL manually please check your
    spelling"."""
    allow_totals(consent, alice.id)
    assert join(alice, club).status_code == 302
    page = f"/member/communities/{club}"
    assert alice.auth.post(page + "/leave", form_page=page).status_code == 302
    cases = [
        (alice.auth.post(page + "/leave", form_page=page), "You are not in this community."),
        (alice.auth.post("/member/ideas/idea_" + "0" * 24 + "/vote",
                         {"challenge_id": challenge}, form_page=page),
         "There is no such idea."),
        (alice.client.get("/member/ideas/idea_" + "0" * 24 + "/edit"),
         "There is no such idea."),
        (alice.client.get("/member/communities/com_" + "0" * 24),
         "There is no such community."),
        (app.test_client().get("/communities/nonsense"), "There is no such community."),
    ]
    for response, said in cases:
        assert response.status_code == 404
        assert error_message(response.get_data(as_text=True)) == said


def test_a_non_member_sees_no_challenge(alice, challenge: str) -> None:
    assert alice.client.get(f"/member/challenges/{challenge}").status_code == 404


@pytest.mark.parametrize("individual", [False, True], ids=["totals-only", "individual"])
def test_leaving_is_a_withdrawal_that_counts_at_once_and_is_heard_only_of_individual_use(
        alice, vault: Vault, consent: Consent, api, individual: bool) -> None:
    velo = api.brand("Velo Bikes")
    webhook_registry(database=vault.data, clock=vault.clock).add(
        velo.client_id, "https://hooks.velo.example/vrmvault")
    club = community_service(consent).open(velo.brand_id, name="Repair club",
                                           description="Shape repairs.", purposes=[RESEARCH])
    allow_totals(consent, alice.id)
    assert join(alice, club.id, **({"individual": "on"} if individual else {})
                ).status_code == 302
    [grant] = consent.grants.for_member(alice.id)
    assert grant.mode is (Mode.INDIVIDUAL if individual else Mode.AGGREGATE)
    assert consent.decisions.decide(velo.brand_id, RESEARCH, alice.id, "feedback",
                                    Mode.AGGREGATE, vault.clock()).allowed
    page = f"/member/communities/{club.id}"
    assert alice.auth.post(page + "/leave", form_page=page).status_code == 302
    assert not consent.decisions.decide(velo.brand_id, RESEARCH, alice.id, "feedback",
                                        Mode.AGGREGATE, vault.clock()).allowed
    # Aggregate use gave the brand nothing of Alice to delete: no webhook names her to it.
    assert [(q["type"], q["data"]["grant"]) for q in queued_webhooks(vault, velo.client_id)] == (
        [("consent.withdrawn", grant.id)] if individual else [])


def queued_webhooks(vault: Vault, client_id: str) -> list[dict]:
    return [json.loads(row["payload"]) for row in vault.data.all(
        "SELECT payload FROM webhook_outbox WHERE client_id = ?", (client_id,))]


def test_the_page_says_how_the_brand_is_told_the_community_s_size(app, alice,
                                                                   club: str) -> None:
    """What the brand learns of the community's size, as it is: a noisy count, made at most
    once a budget period, told from the minimum cohort on (it said "ten people", an exact count
    from a fifth of the smallest group the brand is ever told of)."""
    page = alice.client.get(f"/member/communities/{club}").get_data(as_text=True)
    text = " ".join(page.split())
    assert "ten people" not in text
    minimum = app.config["VRMVAULT_MINIMUM_COHORT"]
    days = app.config["VRMVAULT_INSIGHTS_PERIOD_DAYS"]
    assert f"reaches {minimum}" in text and "random noise" in text
    assert f"once every {days} days" in text
