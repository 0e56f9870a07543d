"""Closing the loop end to end, through the pages and the brand API.

A member gives a brand a low score, asks it on the Care page to get back to them (a one-time
customer-care grant, agreed on their terms), the brand lists, reads, answers and closes the case
with a client credentials token holding ``communities:write``, and the member sees each state.
A brand posts "you said, we did" against a touchpoint; the members who gave feedback there see
it on their Results page next to the stored release, with charts drawn on the server. Bad input
is problem+json, another brand's case or post is a 404.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from brand_gateway.clients import OAuthClient
from community.storage import (
    cocreation_service,
    community_service,
    membership_service,
    survey_service,
)
from community.surveys import QuestionDraft, SurveyDraft
from consent.context import Consent
from consent.events import EventTag
from tests.brand_api_support import CALLBACK, BrandApi, bearer

from .conftest import SignedIn
from .pages import field_errors, text_of

PROBLEM = "application/problem+json"
SCOPE = "communities:write"


class Brand:
    def __init__(self, client: FlaskClient, oauth: OAuthClient, secret: str,
                 scope: str = SCOPE) -> None:
        self.client = client
        self.oauth = oauth
        pair = base64.b64encode(f"{oauth.client_id}:{secret}".encode()).decode()
        response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                      "scope": scope},
                               headers={"Authorization": "Basic " + pair})
        assert response.status_code == 200, response.get_data(as_text=True)
        self.headers = bearer(response.get_json()["access_token"])

    def get(self, path: str) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers)

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.client.post("/api/v1" + path, headers=self.headers, json=body, **kwargs)


def make_brand(api: BrandApi, client: FlaskClient, name: str = "Velo Bikes") -> Brand:
    oauth, secret = api.clients.create(name, [CALLBACK])
    return Brand(client, oauth, secret)


@pytest.fixture
def shop(api: BrandApi, brand_client: FlaskClient) -> Brand:
    return make_brand(api, brand_client)


def _brand_record(api: BrandApi, shop: Brand):
    return api.vault.brands.get(shop.oauth.brand_id)


def _ask(member: SignedIn, entry_id: int, contact: str = "") -> Any:
    return member.auth.post(f"/member/care/ask/{entry_id}", {"contact_field": contact})


def _tags(consent: Consent) -> list[EventTag]:
    ledger = consent.ledger
    return [ledger.entry(seq).tag for seq in range(ledger.size)]


def test_a_member_asks_after_a_low_score_and_the_brand_answers_and_closes(
        alice: SignedIn, api: BrandApi, shop: Brand, consent: Consent):
    brand = _brand_record(api, shop)
    entry = alice.add_feedback(brand, touchpoint="delivery", rating="1", nps="2",
                               comment="The bike came with a bent wheel.")
    care = alice.client.get("/member/care").get_data(as_text=True)
    assert f"/member/care/ask/{entry}" in care
    assert alice.client.get(f"/member/care/ask/{entry}").status_code == 200

    response = _ask(alice, entry)
    assert response.status_code == 302
    assert "Open: waiting for the brand" in text_of(
        alice.client.get("/member/care").get_data(as_text=True))

    listed = shop.get("/care/cases")
    assert listed.status_code == 200
    [case] = listed.get_json()["cases"]
    assert case["state"] == "open" and case["subject"] == api.subject(alice.id, shop.oauth)
    assert "entry" not in case                           # a list carries no member data
    read = shop.get(f"/care/cases/{case['id']}").get_json()["case"]
    assert read["entry"]["comment"] == "The bike came with a bent wheel."
    assert read["entry"]["rating"] == 1 and read["contact"] is None
    assert EventTag.ACCESS_FEEDBACK_READ in _tags(consent)

    answered = shop.post(f"/care/cases/{case['id']}/answer",
                         {"message": "A new wheel is on its way."})
    assert answered.status_code == 200 and answered.get_json()["case"]["state"] == "answered"
    page = text_of(alice.client.get("/member/care").get_data(as_text=True))
    assert "Answered" in page and "A new wheel is on its way." in page

    closed = shop.post(f"/care/cases/{case['id']}/close", {})
    assert closed.status_code == 200
    body = closed.get_json()["case"]
    assert body["state"] == "closed" and body["entry"] is None and body["closed_by"] == "brand"
    assert "Closed by the brand" in text_of(alice.client.get("/member/care").get_data(
        as_text=True))
    assert shop.get("/care/cases").get_json()["cases"] == []
    assert len(shop.get("/care/cases?state=all").get_json()["cases"]) == 1
    assert shop.post(f"/care/cases/{case['id']}/close", {}).status_code == 409
    tags = _tags(consent)
    assert EventTag.CARE_CASE_OPENED in tags and EventTag.CARE_CASE_CLOSED in tags
    assert EventTag.CONSENT_GRANT_RELEASED in tags


def test_the_member_chooses_a_contact_and_closes_the_case_themselves(
        alice: SignedIn, api: BrandApi, shop: Brand, consent: Consent):
    brand = _brand_record(api, shop)
    alice.auth.post("/member/profile", {"phone": "+44 20 7946 0000"})
    entry = alice.add_feedback(brand, touchpoint="support", rating="2", nps="")
    unfilled = _ask(alice, entry, "contact_email")
    assert unfilled.status_code == 422
    assert "is not filled in" in text_of(unfilled.get_data(as_text=True))
    assert field_errors(unfilled.get_data(as_text=True), "contact_field") == [
        "How they may reach you: Your contact e-mail is not filled in: add it on your Profile"
        " page, or choose none."]                            # names its field, as all forms do
    assert _ask(alice, entry, "phone").status_code == 302
    [case] = shop.get("/care/cases").get_json()["cases"]
    read = shop.get(f"/care/cases/{case['id']}").get_json()["case"]
    assert read["contact"] == {"field": "phone", "value": "+44 20 7946 0000"}

    page = alice.client.get("/member/care").get_data(as_text=True)
    [action] = re.findall(r'action="(/member/care/care_[0-9a-f]+/close)"', page)
    assert alice.auth.post(action, {}).status_code == 302
    assert "Closed by you" in text_of(alice.client.get("/member/care").get_data(as_text=True))
    assert shop.get(f"/care/cases/{case['id']}").get_json()["case"]["entry"] is None


def test_each_case_names_the_entry_it_is_about(alice: SignedIn, api: BrandApi, shop: Brand):
    """A member's cases with one brand over time, one closed, one open: each card says which
    entry it shares (both read "Velo Bikes" and their dates only), and the Close button which
    case it closes."""
    brand = _brand_record(api, shop)
    for touchpoint, day in (("delivery", "2027-01-08"), ("support", "2027-01-09")):
        assert _ask(alice, alice.add_feedback(brand, touchpoint=touchpoint, rating="2", nps="",
                                              occurred_on=day)).status_code == 302
        if touchpoint == "delivery":
            [action] = re.findall(r'action="(/member/care/care_[0-9a-f]+/close)"',
                                  alice.client.get("/member/care").get_data(as_text=True))
            assert alice.auth.post(action, {}).status_code == 302
    page = alice.client.get("/member/care").get_data(as_text=True)
    cards = [text_of(card) for card in re.findall(r'<li class="entry case"[^>]*>(.*?)</li>',
                                                  page, re.S)]
    [closed] = [card for card in cards if "your entry of 2027-01-08 (Delivery, 2 of 5)" in card]
    [open_] = [card for card in cards
               if "your entry of 2027-01-09 (Customer support, 2 of 5)" in card]
    assert "Closed by you" in closed and "Close this case" not in closed
    assert "Close this case with Velo Bikes about your entry of 2027-01-09" in open_


def test_a_good_score_cannot_be_asked_about(alice: SignedIn, api: BrandApi, shop: Brand):
    entry = alice.add_feedback(_brand_record(api, shop), rating="4", nps="9")
    page = alice.client.get(f"/member/care/ask/{entry}").get_data(as_text=True)
    assert "after a low score only" in text_of(page)
    assert _ask(alice, entry).status_code == 422
    assert shop.get("/care/cases").get_json()["cases"] == []


def test_withdrawing_the_cases_grant_on_the_sharing_page_closes_the_case(
        alice: SignedIn, api: BrandApi, shop: Brand, consent: Consent):
    """Recorded as the member closing it (care:case:closed), and no bar to a new case: a trial
    found the case's row left open, so asking about a new low score answered 409 for ever."""
    brand = _brand_record(api, shop)
    assert _ask(alice, alice.add_feedback(brand, rating="1")).status_code == 302
    [case] = shop.get("/care/cases").get_json()["cases"]
    [grant] = consent.grants.for_member(alice.id)
    assert alice.auth.post(f"/member/consents/{grant.id}/withdraw", {}).status_code == 302
    assert _tags(consent).count(EventTag.CARE_CASE_CLOSED) == 1
    closed = shop.get(f"/care/cases/{case['id']}").get_json()["case"]
    assert closed["state"] == "closed" and closed["closed_by"] == "member"
    assert "Closed by you" in text_of(alice.client.get("/member/care").get_data(as_text=True))
    assert _ask(alice, alice.add_feedback(brand, rating="2")).status_code == 302
    assert len(shop.get("/care/cases").get_json()["cases"]) == 1


def test_the_sharing_page_says_a_case_covers_its_one_entry_not_the_journal(
        alice: SignedIn, api: BrandApi, shop: Brand, consent: Consent):
    """A trial found a case's grant listed as "Fields: Contact e-mail, Feedback journal", which
    reads as the whole journal shared; the brand reads only the one entry, through the case."""
    brand = _brand_record(api, shop)
    alice.auth.post("/member/profile", {"contact_email": "alice.contact@example.org"})
    other = alice.add_feedback(brand, rating="5", comment="Great saddle")
    entry = alice.add_feedback(brand, rating="1")
    assert _ask(alice, entry, "contact_email").status_code == 302
    [grant] = consent.grants.for_member(alice.id)
    day = api.vault.feedback.get(alice.id, entry).occurred_on
    page = alice.client.get("/member/consents").get_data(as_text=True)
    start = page.index(f'id="{grant.id}"')
    card = text_of(page[start:page.index("</li>", start)])
    assert f"Fields: Your feedback entry of {day} only, Contact e-mail" in card
    assert "Feedback journal" not in card and "Given for your care case" in card
    # The brand's view is as narrow: that entry, not the other one.
    [case] = shop.get("/care/cases").get_json()["cases"]
    read = shop.get(f"/care/cases/{case['id']}").get_json()["case"]
    assert (read["entry"]["rating"], read["entry"]["occurred_on"]) == (1, day)
    assert read["contact"] == {"field": "contact_email", "value": "alice.contact@example.org"}
    assert "Great saddle" not in json.dumps(read) and other != entry


def test_another_brand_sees_neither_case_nor_post(alice: SignedIn, api: BrandApi, shop: Brand,
                                                   brand_client: FlaskClient):
    other = make_brand(api, brand_client, "Fresh Grocer")
    entry = alice.add_feedback(_brand_record(api, shop), rating="1")
    _ask(alice, entry)
    [case] = shop.get("/care/cases").get_json()["cases"]
    assert other.get("/care/cases").get_json()["cases"] == []
    for response in (other.get(f"/care/cases/{case['id']}"),
                     other.post(f"/care/cases/{case['id']}/answer", {"message": "hi"}),
                     other.post(f"/care/cases/{case['id']}/close", {})):
        assert response.status_code == 404 and response.mimetype == PROBLEM
    post = shop.post("/wedid", {"subject_kind": "touchpoint", "subject": "delivery",
                                "said": "x", "did": "y", "changed_on": "2027-01-01"})
    assert post.status_code == 201
    post_id = post.get_json()["post"]["id"]
    assert other.post(f"/wedid/{post_id}/withdraw", {}).status_code == 404
    assert other.get("/wedid").get_json()["posts"] == []


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/wedid", {"subject_kind": "poll", "subject": "delivery", "said": "a", "did": "b",
                "changed_on": "2027-01-01"}, "subject_kind"),
    ("/wedid", {"subject_kind": "survey", "subject": "srv_" + "0" * 24, "said": "a",
                "did": "b", "changed_on": "2027-01-01"}, "subject"),
    ("/wedid", {"subject_kind": "touchpoint", "subject": "moon", "said": "a", "did": "b",
                "changed_on": "2027-01-01"}, "subject"),
    ("/wedid", {"subject_kind": "touchpoint", "subject": "delivery", "said": "", "did": "b",
                "changed_on": "2027-01-01"}, "said"),
    ("/wedid", {"subject_kind": "touchpoint", "subject": "delivery", "said": "a", "did": "b",
                "changed_on": "yesterday"}, "changed_on"),
    ("/wedid", {"subject_kind": "touchpoint", "subject": "delivery", "said": "a", "did": "b",
                "changed_on": "2027-01-01", "extra": 1}, "extra"),
])
def test_bad_posts_are_problem_json_naming_the_field(shop: Brand, path, body, field):
    response = shop.post(path, body)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert field in response.get_json()["errors"]


def test_scopes_are_required(api: BrandApi, brand_client: FlaskClient):
    oauth, secret = api.clients.create("Nosy", [CALLBACK])
    other = Brand(brand_client, oauth, secret, scope="agreements:write")
    assert other.get("/care/cases").status_code == 403
    assert other.post("/wedid", {}).status_code == 403


def test_a_brand_posts_we_did_and_members_who_took_part_see_it_with_charts(
        alice: SignedIn, bob: SignedIn, api: BrandApi, shop: Brand, consent: Consent):
    brand = _brand_record(api, shop)
    alice.add_feedback(brand, touchpoint="delivery", rating="2", occurred_on="2027-01-02")
    alice.add_feedback(brand, touchpoint="delivery", rating="3", occurred_on="2027-01-05")
    bob.add_feedback(brand, touchpoint="purchase", rating="5")

    response = shop.post("/wedid", {
        "subject_kind": "touchpoint", "subject": "delivery",
        "said": "Deliveries came late.", "did": "We added Saturday delivery slots.",
        "changed_on": "2027-01-20"})
    assert response.status_code == 201, response.get_data(as_text=True)
    post = response.get_json()["post"]
    # Too few members shared for a figure: suppressed, for the brand as for its members.
    assert post["release"]["suppressed"] is True and post["release"]["mean_rating"] is None
    assert post["release"]["epsilon"] == 1.0
    assert EventTag.LOOP_WEDID_POSTED in _tags(consent)

    page = alice.client.get("/member/results").get_data(as_text=True)
    shown = text_of(page)
    assert "We added Saturday delivery slots." in shown and "Deliveries came late." in shown
    assert "too few to show" in shown
    assert page.count("<svg") >= 3 and 'role="img"' in page and "<desc" in page
    assert ">2.5 (2 of yours)<" in page                  # the value written on the chart
    assert "Saturday delivery" not in text_of(bob.client.get("/member/results").get_data(
        as_text=True))                                   # bob gave no feedback on delivery

    withdrawn = shop.post(f"/wedid/{post['id']}/withdraw", {})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["post"]["withdrawn_at"]
    assert "Saturday delivery" not in alice.client.get("/member/results").get_data(
        as_text=True)
    assert shop.get("/wedid").get_json()["posts"] == []
    assert len(shop.get("/wedid?withdrawn=true").get_json()["posts"]) == 1
    assert shop.post(f"/wedid/{post['id']}/withdraw", {}).status_code == 409


# -- "we did" about a survey and an idea ------------------------------------------------------
def _community_with_survey_and_idea(consent: Consent, brand_id: str,
                                    members: list[str]) -> tuple[str, str]:
    """The brand's community, joined by ``members``; a survey they all answer (a rating and
    an NPS question); an idea the first posts and the second votes for."""
    club = community_service(consent).open(brand_id, name="Riders", description="Riding.",
                                           purposes=["dpv:ServiceOptimisation"])
    for member_id in members:
        consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                             aggregate_allowed=True)
        membership_service(consent).join(member_id, club.id)
    surveys = survey_service(consent=consent, minimum_cohort=2)
    survey = surveys.publish(brand_id, SurveyDraft(
        community_id=club.id, title="Winter riding",
        closes_at=int(consent.vault.clock()) + 7 * 86_400,
        questions=(QuestionDraft("rating", "How are the tyres?"),
                   QuestionDraft("nps", "Would you recommend us?"),
                   QuestionDraft("text", "Anything else?")))).survey
    for number, member_id in enumerate(members):
        surveys.answer(member_id, survey.id, {"q0": str(2 + number % 3), "q1": "7",
                                              "q2": "Grippier tyres"})
    ideas = cocreation_service(consent)
    challenge = ideas.open_challenge(brand_id, club.id, title="Repairs",
                                     description="How should repairs work?")
    idea = ideas.post(members[0], challenge.id, "A loan bike while yours is repaired.")
    ideas.vote(members[1], idea.id)
    return survey.id, idea.id


def test_members_who_answered_or_voted_see_the_brands_we_did(
        alice: SignedIn, bob: SignedIn, sign_in, api: BrandApi, shop: Brand,
        consent: Consent):
    carol = sign_in("carol@example.org")
    survey_id, idea_id = _community_with_survey_and_idea(
        consent, shop.oauth.brand_id, [alice.id, bob.id])
    posted = shop.post("/wedid", {"subject_kind": "survey", "subject": survey_id,
                                  "said": "Tyres slip in winter.",
                                  "did": "Winter tyres fitted free in November.",
                                  "changed_on": "2027-01-20"})
    assert posted.status_code == 201, posted.get_data(as_text=True)
    release = posted.get_json()["post"]["release"]
    assert [q["prompt"] for q in release["questions"]] == [
        "How are the tyres?", "Would you recommend us?"]          # no text question
    assert release["epsilon"] == 1.0
    idea_post = shop.post("/wedid", {"subject_kind": "idea", "subject": idea_id,
                                     "said": "Lend a bike during repairs.",
                                     "did": "Loan bikes at every shop.",
                                     "changed_on": "2027-02-01"})
    assert idea_post.status_code == 201
    assert idea_post.get_json()["post"]["release"]["votes"] == 1
    assert idea_post.get_json()["post"]["release"]["epsilon"] == 0.0

    alices = alice.client.get("/member/results").get_data(as_text=True)
    shown = text_of(alices)
    assert "Winter tyres fitted free in November." in shown and "Winter riding" in shown
    assert "How are the tyres?" in shown and "Loan bikes at every shop." in shown
    assert alices.count("<svg") == 2                         # one chart per question
    bobs = text_of(bob.client.get("/member/results").get_data(as_text=True))
    assert "Winter tyres" in bobs and "Loan bikes" in bobs         # answered, and voted
    carols = text_of(carol.client.get("/member/results").get_data(as_text=True))
    assert "Winter tyres" not in carols and "Loan bikes" not in carols


def test_another_brands_survey_or_idea_cannot_be_posted_about(
        alice: SignedIn, bob: SignedIn, api: BrandApi, shop: Brand, consent: Consent,
        brand_client: FlaskClient):
    other = make_brand(api, brand_client, "Fresh Grocer")
    survey_id, idea_id = _community_with_survey_and_idea(
        consent, shop.oauth.brand_id, [alice.id, bob.id])
    for kind, subject in (("survey", survey_id), ("idea", idea_id)):
        response = other.post("/wedid", {"subject_kind": kind, "subject": subject,
                                         "said": "a", "did": "b", "changed_on": "2027-01-01"})
        assert response.status_code == 400 and response.mimetype == PROBLEM
        assert "subject" in response.get_json()["errors"]


def test_a_low_survey_answer_can_be_a_care_case(alice: SignedIn, bob: SignedIn, api: BrandApi,
                                                shop: Brand, consent: Consent):
    survey_id, _ = _community_with_survey_and_idea(consent, shop.oauth.brand_id,
                                                   [alice.id, bob.id])
    care = alice.client.get("/member/care").get_data(as_text=True)
    assert f"/member/care/ask-survey/{survey_id}" in care        # alice rated the tyres 2
    assert f"/member/care/ask-survey/{survey_id}" not in bob.client.get(
        "/member/care").get_data(as_text=True)                   # bob's answers are not low
    assert bob.auth.post(f"/member/care/ask-survey/{survey_id}",
                         {"contact_field": ""}).status_code == 422
    page = text_of(alice.client.get(f"/member/care/ask-survey/{survey_id}").get_data(
        as_text=True))
    assert "How are the tyres?: 2 of 5" in page and "Grippier tyres" in page
    response = alice.auth.post(f"/member/care/ask-survey/{survey_id}", {"contact_field": ""})
    assert response.status_code == 302
    assert 'about the survey "Winter riding"' in text_of(
        alice.client.get("/member/care").get_data(as_text=True))

    [case] = shop.get("/care/cases").get_json()["cases"]
    assert case["source"] == "survey"
    read = shop.get(f"/care/cases/{case['id']}").get_json()["case"]
    assert read["entry"] is None and read["survey"]["title"] == "Winter riding"
    assert [(a["prompt"], a["value"], a["text"]) for a in read["survey"]["answers"]] == [
        ("How are the tyres?", 2, None), ("Would you recommend us?", 7, None),
        ("Anything else?", None, "Grippier tyres")]
    assert EventTag.SURVEY_ANSWER_RELEASED in _tags(consent)
    assert shop.post(f"/care/cases/{case['id']}/close", {}).status_code == 200
    assert shop.get(f"/care/cases/{case['id']}").get_json()["case"]["survey"] is None
