"""Surveys end to end over HTTP: a brand publishes through /api/v1 with a client credentials
token (``surveys:write``), members answer on their Asked page, the brand reads individual
answers only of members who granted individual use; bad input is problem+json or a page with
the messages next to the fields, never a 500."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.insights.audience import AUDIENCE_EPSILON
from brand_gateway.storage import privacy_budget
from consent.context import Consent
from consent.events import EventTag
from consent.model import Mode
from tests.brand_api_support import CALLBACK, BrandApi, bearer
from tests.unit.community.survey_support import COMMUNITY_FIELDS, Community
from tests.unit.consent.conftest import Sharing
from tests.unit.consent.test_terms import ledger_entries
from vault.clock import FrozenClock
from vault.home import Vault

from .conftest import SignedIn
from .pages import field_errors, flashes, location_path
from .test_export_everything import download

PROBLEM = "application/problem+json"


class SurveyBrand:
    """The brand's side: a client credentials token from /oauth/token and its calls."""

    def __init__(self, client: FlaskClient, api: BrandApi, scope: str = "surveys:write",
                 name: str = "Velo Bikes") -> None:
        self.client = client
        self.oauth, secret = api.clients.create(name, [CALLBACK])
        pair = base64.b64encode(f"{self.oauth.client_id}:{secret}".encode()).decode()
        response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                      "scope": scope},
                               headers={"Authorization": "Basic " + pair})
        assert response.status_code == 200, response.get_data(as_text=True)
        self.headers = bearer(response.get_json()["access_token"])

    def get(self, path: str) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post("/api/v1" + path, headers=self.headers, json=body)


@pytest.fixture
def brand(brand_client: FlaskClient, api: BrandApi) -> SurveyBrand:
    return SurveyBrand(brand_client, api)


@pytest.fixture
def app(app: Flask) -> Flask:
    app.config["VRMVAULT_MINIMUM_COHORT"] = 2
    return app


@pytest.fixture
def community(consent: Consent, brand: SurveyBrand) -> Community:
    return Community(consent, Sharing(consent), brand_id=brand.oauth.brand_id, minimum_cohort=2)


def closes(clock: FrozenClock, days: int = 7) -> str:
    return dt.datetime.fromtimestamp(clock() + days * 86_400, dt.UTC).isoformat()


def survey_body(community: Community, clock: FrozenClock, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "community_id": community.id, "title": "Riding in winter", "touchpoint": "usage",
        "closes_at": closes(clock),
        "questions": [{"kind": "rating", "prompt": "How do you rate our winter tyres?"},
                      {"kind": "single", "prompt": "How often do you ride?",
                       "choices": ["Daily", "Weekly", "Rarely"]},
                      {"kind": "multiple", "prompt": "What for?",
                       "choices": ["Commuting", "Sport", "Leisure"]},
                      {"kind": "text", "prompt": "Anything else?"}]}
    return body | changes


def test_publish_list_and_read(brand: SurveyBrand, community: Community, clock: FrozenClock,
                               consent: Consent) -> None:
    for _ in range(3):
        community.join()
    response = brand.post("/surveys", survey_body(community, clock))
    assert response.status_code == 201, response.get_data(as_text=True)
    survey = response.get_json()["survey"]
    assert survey["id"].startswith("srv_") and survey["kind"] == "survey"
    audience = survey["audience"]
    assert audience["measured"] and audience["minimum"] == 2
    assert [q["kind"] for q in survey["questions"]] == ["rating", "single", "multiple", "text"]
    listed = brand.get("/surveys").get_json()
    assert [s["id"] for s in listed["surveys"]] == [survey["id"]]
    assert listed["next_offset"] is None
    assert brand.get(f"/surveys/{survey['id']}").get_json()["survey"]["audience"] == audience
    assert [e.tag for e in ledger_entries(consent)][-2:] == [EventTag.SURVEY_PUBLISHED,
                                                            EventTag.SURVEY_DELIVERED]


def test_the_audience_is_a_noisy_count_paid_for_once_and_kept(
        app: Flask, brand: SurveyBrand, community: Community, clock: FrozenClock,
        consent: Consent) -> None:
    # 150 members at a minimum of 50 (discrete Laplace of scale 4: threshold 54). The noisy
    # count misses the threshold only if the noise is -97 or less, and leaves 50..250 only if
    # it is 100 or more away: each below exp(-24) (1e-10) by the noise's tail. A member leaving
    # changes nothing the brand reads again.
    app.config["VRMVAULT_MINIMUM_COHORT"] = 50
    members = [community.join() for _ in range(150)]
    budget = privacy_budget(database=consent.vault.data, clock=clock)
    survey = brand.post("/surveys", survey_body(community, clock)).get_json()["survey"]
    assert survey["audience"]["measured"]
    assert survey["audience"]["eligible"] in range(50, 251, 10)
    assert budget.state(brand.oauth.brand_id).spent == AUDIENCE_EPSILON
    community.membership.leave(members[0], community.id)
    for _ in range(3):
        again = brand.get(f"/surveys/{survey['id']}").get_json()["survey"]
        assert again["audience"] == survey["audience"]
    assert budget.state(brand.oauth.brand_id).spent == AUDIENCE_EPSILON    # reads are free


def test_with_the_budget_spent_a_survey_is_published_without_its_audience(
        brand: SurveyBrand, community: Community, clock: FrozenClock, consent: Consent) -> None:
    for _ in range(3):
        community.join()
    privacy_budget(database=consent.vault.data, clock=clock).spend(brand.oauth.brand_id, 10.0)
    response = brand.post("/surveys", survey_body(community, clock))
    assert response.status_code == 201
    assert response.get_json()["survey"]["audience"] == {
        "eligible": None, "minimum": 2, "measured": False,
        "text": "not told: the privacy budget of the period was spent"}


@pytest.mark.parametrize(("changes", "member"), [
    ({"questions": []}, "questions"),
    ({"questions": [{"kind": "slider", "prompt": "x"}]}, "questions.0.kind"),
    ({"criteria": [{"attribute": "religion", "any_of": ["x"]}]}, "criteria.0.attribute"),
    ({"criteria": [{"attribute": "household_size", "any_of": ["2"]}]}, "criteria.0"),
    ({"criteria": [{"attribute": "country", "any_of": ["ZZ"]}]}, "criteria.0"),
    ({"community_id": "com_nobody"}, "community_id"),
    # PostgreSQL refuses a NUL in any text value: refused before any store is asked.
    ({"community_id": "com_\u0000" + "0" * 23}, "body"),
    ({"title": "Winter\u0000riding"}, "body"),
    ({"closes_at": "2020-01-01T00:00:00+00:00"}, "closes_at"),
    ({"closes_at": "tomorrow"}, "closes_at"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_surveys_are_problem_json_naming_the_member(brand: SurveyBrand, community: Community,
                                                        clock: FrozenClock, changes, member
                                                        ) -> None:
    response = brand.post("/surveys", survey_body(community, clock, **changes))
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert member in response.get_json()["errors"], response.get_json()


def test_opens_at_and_closes_at_are_rfc_3339_date_times(
        brand: SurveyBrand, community: Community, clock: FrozenClock) -> None:
    """Documented as OpenAPI's date-time (RFC 3339): a week date or the basic format of a good
    moment, which Python's fromisoformat reads, is refused naming the member."""
    moment = dt.datetime.fromtimestamp(clock() + 7 * 86_400, dt.UTC)
    for written in (moment.strftime("%G-W%V-%uT%H:%M:%SZ"), moment.strftime("%Y%m%dT%H%M%SZ"),
                    moment.strftime("%Y-%m-%d %H:%M:%SZ")):
        for member in ("opens_at", "closes_at"):
            changes = {member: written} | ({"closes_at": closes(clock, 8)}
                                           if member == "opens_at" else {})
            response = brand.post("/surveys", survey_body(community, clock, **changes))
            assert response.status_code == 400 and response.mimetype == PROBLEM
            assert list(response.get_json()["errors"]) == [member], written
    assert brand.get("/surveys").get_json()["surveys"] == []


def test_another_brands_survey_is_not_found(brand: SurveyBrand, community: Community,
                                            clock: FrozenClock, brand_client: FlaskClient,
                                            api: BrandApi) -> None:
    survey = brand.post("/surveys", survey_body(community, clock)).get_json()["survey"]
    other = SurveyBrand(brand_client, api, name="Nosy Brand")
    for path in (f"/surveys/{survey['id']}", f"/surveys/{survey['id']}/answers",
                 "/surveys/srv_000000000000000000000000", "/surveys/nonsense"):
        response = other.get(path)
        assert response.status_code == 404 and response.mimetype == PROBLEM, path
    assert other.get("/surveys").get_json()["surveys"] == []


def test_a_token_without_the_scope_is_refused(brand_client: FlaskClient, api: BrandApi) -> None:
    webhooks_only = SurveyBrand(brand_client, api, scope="webhooks:manage", name="Hooks Only")
    response = webhooks_only.get("/surveys")
    assert response.status_code == 403 and "insufficient_scope" in response.headers[
        "WWW-Authenticate"]


# -- the member's page -------------------------------------------------------------------------
@pytest.fixture
def member(alice: SignedIn, community: Community) -> SignedIn:
    community.join(alice.id, mode=Mode.INDIVIDUAL)
    return alice


def test_a_member_answers_changes_and_withdraws_on_the_asked_page(
        member: SignedIn, brand: SurveyBrand, community: Community, clock: FrozenClock,
        vault: Vault) -> None:
    survey = brand.post("/surveys", survey_body(community, clock)).get_json()["survey"]
    page = member.client.get("/member/asked/").get_data(as_text=True)
    assert "Riding in winter" in page and 'href="/member/asked/"' in page
    form_page = member.client.get(f"/member/asked/surveys/{survey['id']}")
    assert form_page.status_code == 200
    response = member.auth.post(f"/member/asked/surveys/{survey['id']}",
                                {"q0": "4", "q1": "0", "q2": ["0", "2"], "q3": "Dim lights"})
    assert response.status_code == 302 and location_path(response) == "/member/asked/"
    page = member.client.get("/member/asked/").get_data(as_text=True)
    assert "Your answer is saved in your vault." in flashes(page)
    assert "Your answers (1)" in page
    answers = brand.get(f"/surveys/{survey['id']}/answers").get_json()
    (released,) = answers["answers"]
    assert released["answers"][3]["text"] == "Dim lights"
    assert released["answers"][2]["choices"] == [0, 2]
    assert member.id not in str(answers)
    access = member.client.get("/member/access").get_data(as_text=True)
    assert "Survey answers" in access and "Velo Bikes" in access
    response = member.auth.post(f"/member/asked/surveys/{survey['id']}", {"q0": "2"})
    assert response.status_code == 302
    (released,) = brand.get(f"/surveys/{survey['id']}/answers").get_json()["answers"]
    assert [a["value"] for a in released["answers"]] == [2]
    response = member.auth.post(f"/member/asked/surveys/{survey['id']}/withdraw", {})
    assert response.status_code == 302
    assert brand.get(f"/surveys/{survey['id']}/answers").get_json()["answers"] == []
    assert vault.data.one("SELECT count(*) FROM survey_answers")[0] == 0


def test_the_members_export_holds_their_answers(member: SignedIn, brand: SurveyBrand,
                                               community: Community, clock: FrozenClock) -> None:
    survey = brand.post("/surveys", survey_body(community, clock)).get_json()["survey"]
    member.auth.post(f"/member/asked/surveys/{survey['id']}",
                     {"q0": "4", "q1": "2", "q2": ["1", "2"], "q3": "Mine."})
    member.auth.post(f"/member/asked/surveys/{survey['id']}/skip", {})
    document, _ = download(member)
    (answered,) = document["survey_answers"]
    # Each answer with its question and the words of what was chosen: the export must be
    # readable on its own, after the survey has closed and gone.
    assert answered["survey"] == survey["id"] and answered["answers"] == [
        {"position": 0, "kind": "rating", "prompt": "How do you rate our winter tyres?",
         "value": 4, "choices": None, "chosen": None, "text": None},
        {"position": 1, "kind": "single", "prompt": "How often do you ride?",
         "value": 2, "choices": None, "chosen": ["Rarely"], "text": None},
        {"position": 2, "kind": "multiple", "prompt": "What for?",
         "value": None, "choices": [1, 2], "chosen": ["Sport", "Leisure"], "text": None},
        {"position": 3, "kind": "text", "prompt": "Anything else?",
         "value": None, "choices": None, "chosen": None, "text": "Mine."}]
    assert document["survey_skips"] == [survey["id"]]


def test_wrong_answers_show_next_to_the_questions(member: SignedIn, brand: SurveyBrand,
                                                  community: Community,
                                                  clock: FrozenClock) -> None:
    survey = brand.post("/surveys", survey_body(community, clock)).get_json()["survey"]
    response = member.auth.post(f"/member/asked/surveys/{survey['id']}", {"q0": "9"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "q0") == [
        "How do you rate our winter tyres? Choose a number from 1 to 5."]   # names its question


def test_text_of_aggregate_members_never_reaches_the_brand(
        bob: SignedIn, brand: SurveyBrand, community: Community, clock: FrozenClock) -> None:
    community.join(bob.id, mode=Mode.AGGREGATE)
    survey = brand.post("/surveys", survey_body(community, clock)).get_json()["survey"]
    bob.auth.post(f"/member/asked/surveys/{survey['id']}", {"q3": "secret of bob"})
    response = brand.get(f"/surveys/{survey['id']}/answers")
    assert response.status_code == 200 and response.get_json()["answers"] == []
    assert "secret of bob" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/surveys", "/feedback-requests"])
def test_a_new_survey_is_located_at_its_own_path(brand: SurveyBrand, community: Community,
                                                 clock: FrozenClock, path: str) -> None:
    """RFC 9110 sec. 15.3.2: a 201 without Location says the new resource is the target URI,
    the list; the answer names the survey's own path, and the OpenAPI document says so."""
    body = survey_body(community, clock) if path == "/surveys" else {
        "community_id": community.id, "touchpoint": "delivery", "prompt": "How was delivery?",
        "closes_at": closes(clock)}
    response = brand.post(path, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    survey = response.get_json()["survey"]
    assert response.headers["Location"] == f"/api/v1/surveys/{survey['id']}"
    read = brand.client.get(response.headers["Location"], headers=brand.headers)
    assert read.status_code == 200 and read.get_json()["survey"]["id"] == survey["id"]
    document = brand.client.get("/api/v1/openapi.json").get_json()
    assert "Location" in document["paths"][path]["post"]["responses"]["201"]["headers"]


def test_a_feedback_request_lands_in_the_journal(member: SignedIn, brand: SurveyBrand,
                                                 community: Community, clock: FrozenClock,
                                                 vault: Vault) -> None:
    response = brand.post("/feedback-requests", {
        "community_id": community.id, "touchpoint": "delivery", "prompt": "How was delivery?",
        "closes_at": closes(clock)})
    assert response.status_code == 201, response.get_data(as_text=True)
    survey = response.get_json()["survey"]
    assert survey["kind"] == "feedback_request" and survey["touchpoint"] == "delivery"
    member.auth.post(f"/member/asked/surveys/{survey['id']}", {"q0": "3"})
    (entry,) = vault.feedback.for_member(member.id)
    assert (entry.touchpoint, entry.rating) == ("delivery", 3)


def test_an_attribute_request_counts_only_if_the_member_says_so(
        bob: SignedIn, brand: SurveyBrand, community: Community, clock: FrozenClock,
        vault: Vault, consent: Consent) -> None:
    member = bob
    community.join(bob.id, fields=[f for f in COMMUNITY_FIELDS if f != "household_size"])
    response = brand.post("/attribute-requests", {
        "community_id": community.id, "attribute": "household_size",
        "reason": "To size our cargo bikes", "closes_at": closes(clock)})
    assert response.status_code == 201, response.get_data(as_text=True)
    request_id = response.get_json()["attribute_request"]["id"]
    assert brand.post("/attribute-requests", {
        "community_id": community.id, "attribute": "religion", "reason": "x",
        "closes_at": closes(clock)}).status_code == 400
    page = member.client.get("/member/asked/").get_data(as_text=True)
    assert "To size our cargo bikes" in page
    response = member.auth.post(f"/member/asked/attributes/{request_id}",
                                {"household_size": "lots", "count": "yes"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "household_size") == [
        "People in household: Enter a whole number from 1 to 20."]
    receipts = len(consent.grants.receipts(member.id))
    response = member.auth.post(f"/member/asked/attributes/{request_id}",
                                {"household_size": "4", "count": "yes"})
    assert response.status_code == 302
    assert vault.profile.get(member.id)["household_size"] == 4
    assert len(consent.grants.receipts(member.id)) > receipts
    listed = brand.get("/attribute-requests").get_json()["attribute_requests"]
    assert [r["id"] for r in listed] == [request_id]


def test_someone_outside_the_community_sees_nothing(bob: SignedIn, brand: SurveyBrand,
                                                    community: Community,
                                                    clock: FrozenClock) -> None:
    survey = brand.post("/surveys", survey_body(community, clock)).get_json()["survey"]
    assert "Riding in winter" not in bob.client.get("/member/asked/").get_data(as_text=True)
    assert bob.client.get(f"/member/asked/surveys/{survey['id']}").status_code == 404
    assert bob.auth.post(f"/member/asked/surveys/{survey['id']}",
                         {"q0": "3"}).status_code == 404


def test_the_app_has_the_routes(app: Flask) -> None:
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert {"/member/asked/", "/api/v1/surveys", "/api/v1/feedback-requests"} <= rules
