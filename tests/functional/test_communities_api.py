"""The brand API's communities and co-creation: a brand opens, reads and closes its own
communities and challenges, reads ideas under community pseudonyms and marks them taken up;
bad input is problem+json naming each member; another brand's are unknown; a community's size
is a differentially private count paid from the brand's budget once a period and kept."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.api.insights import budget_settings
from brand_gateway.clients import OAuthClient
from brand_gateway.insights.audience import AUDIENCE_EPSILON
from brand_gateway.insights.budget import PrivacyBudget
from brand_gateway.storage import privacy_budget
from community.storage import cocreation_service, membership_service
from consent.context import Consent
from consent.events import EventTag
from consent.model import GrantStatus
from tests.brand_api_support import BrandApi, bearer
from tests.conftest import GOOD_PASSWORD
from vault.clock import FrozenClock
from vault.home import Vault

from .pages import assert_sane

SCOPE = "communities:write"
RESEARCH = "dpv:ResearchAndDevelopment"
DEEP = "[" * 1000 + "]" * 1000
CLUB = {"name": "Repair club", "description": "Help us shape our repair service.",
        "purposes": [RESEARCH]}


@pytest.fixture
def token(api: BrandApi, velo: OAuthClient) -> dict[str, str]:
    return renewed(api, velo)


def renewed(api: BrandApi, client: OAuthClient) -> dict[str, str]:
    """A new token (the test's clock went past the first one's life)."""
    return bearer(api.brand_token(client, SCOPE))


def opened(client: FlaskClient, token: dict[str, str], body: dict | None = None) -> dict:
    response = client.post("/api/v1/communities", json=body or CLUB, headers=token)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["community"]


def brand_budget(app: Flask, consent: Consent, clock: FrozenClock) -> PrivacyBudget:
    """The brands' budgets as the app is configured, in the test's data store."""
    with app.app_context():
        settings = budget_settings()
    return privacy_budget(database=consent.vault.data, clock=clock, settings=settings)


def members(vault: Vault, consent: Consent, community_id: str, count: int, *,
            prefix: str = "m") -> list[str]:
    joined = []
    for number in range(count):
        member_id = vault.members.register(f"{prefix}{number}@example.org", GOOD_PASSWORD)
        membership_service(consent).join(member_id, community_id, individual=True)
        joined.append(member_id)
    return joined


def test_open_list_read_close(brand_client: FlaskClient, token, consent: Consent,
                              velo: OAuthClient) -> None:
    community = opened(brand_client, token)
    assert community["purposes"] == [RESEARCH] and community["closed_at"] is None
    assert community["members_at_least"] is None and community["members_measured"]
    assert community["invitation_url"].endswith("/communities/" + community["id"])
    listed = brand_client.get("/api/v1/communities", headers=token).get_json()
    assert [c["id"] for c in listed["communities"]] == [community["id"]]
    one = brand_client.get(f"/api/v1/communities/{community['id']}", headers=token)
    assert one.get_json()["community"]["members_measured"]
    assert one.get_json()["community"] == listed["communities"][0]
    closed = brand_client.post(f"/api/v1/communities/{community['id']}/close", headers=token)
    assert closed.status_code == 200 and closed.get_json()["community"]["closed_at"]
    again = brand_client.post(f"/api/v1/communities/{community['id']}/close", headers=token)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert consent.ledger.latest_by("brand:" + velo.brand_id, EventTag.COMMUNITY_CLOSED)


def test_the_invitation_url_is_a_public_page(brand_client: FlaskClient, token) -> None:
    community = opened(brand_client, token)
    path = community["invitation_url"].split("://", 1)[1].split("/", 1)[1]
    page = brand_client.get("/" + path)
    assert page.status_code == 200 and "Repair club" in page.get_data(as_text=True)


@pytest.mark.parametrize(("body", "members_named"), [
    ({}, {"name", "description", "purposes"}),
    ({**CLUB, "purposes": ["dpv:Marketing"]}, {"purposes.0"}),     # the item, by its index
    ({**CLUB, "purposes": []}, {"purposes"}),
    ({**CLUB, "name": ""}, {"name"}),
    ({**CLUB, "name": "x" * 81}, {"name"}),
    ({**CLUB, "name": 7}, {"name"}),
    ({**CLUB, "members": ["someone"]}, {"members"}),
    ({**CLUB, "name": "   "}, {"name"}),
    # A name is one line, and no C1 control (U+009B is a terminal's CSI) in any text.
    ({**CLUB, "name": "Repair\nclub"}, {"name"}),
    ({**CLUB, "name": "Repair\u009b2Jclub"}, {"name"}),
    ({**CLUB, "description": "Fix\u0085things"}, {"description"}),
])
def test_bad_bodies_are_problems_naming_each_member(brand_client: FlaskClient, token,
                                                    body: dict, members_named: set) -> None:
    response = brand_client.post("/api/v1/communities", json=body, headers=token)
    assert_sane(response)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == members_named


@pytest.mark.parametrize("path", ["/api/v1/communities",
                                  "/api/v1/communities/com_" + "1" * 24 + "/challenges"])
def test_deep_and_foreign_bodies(brand_client: FlaskClient, token, path: str) -> None:
    deep = brand_client.post(path, data=DEEP, headers=token, content_type="application/json")
    assert_sane(deep)
    assert deep.status_code == 400 and "levels deep" in deep.get_json()["errors"]["body"][0]
    plain = brand_client.post(path, data="name=x", headers=token,
                              content_type="application/x-www-form-urlencoded")
    assert plain.status_code == 415
    listed = brand_client.post(path, json=[1, 2], headers=token)
    assert listed.status_code == 400


def test_another_brands_community_is_unknown(brand_client: FlaskClient, token, api: BrandApi
                                             ) -> None:
    community = opened(brand_client, token)
    grocer = bearer(api.brand_token(api.brand("Green Grocer"), SCOPE))
    for method, path in (("GET", f"/api/v1/communities/{community['id']}"),
                         ("POST", f"/api/v1/communities/{community['id']}/close"),
                         ("GET", f"/api/v1/communities/{community['id']}/challenges"),
                         ("GET", "/api/v1/communities/not-an-id"),
                         ("GET", "/api/v1/challenges/chl_" + "0" * 24),
                         ("POST", "/api/v1/ideas/idea_" + "0" * 24 + "/take-up")):
        response = brand_client.open(path, method=method, headers=grocer)
        assert response.status_code == 404, (method, path)
        assert response.mimetype == "application/problem+json"
    assert brand_client.get("/api/v1/communities", headers=grocer).get_json() == {
        "communities": []}


def test_the_size_is_one_noisy_count_a_period_paid_for_once_and_kept(
        app: Flask, brand_client: FlaskClient, token, vault: Vault, consent: Consent,
        velo: OAuthClient, clock: FrozenClock, api: BrandApi) -> None:
    # 150 members at a minimum cohort of 50: the noise (discrete Laplace, scale 4 at epsilon
    # 0.25) takes a count below the threshold of 53 (ReleaseSettings.threshold at scale 4) only
    # at -98 or less, P(Z <= -98) = e^(-98/4) / (1 + e^(-1/4)) < 1.4e-11 a count; the two
    # counts fail to be told with probability below 3e-11. Nothing else here is random.
    app.config["VRMVAULT_MINIMUM_COHORT"] = 50
    community = opened(brand_client, token)
    assert (community["members_at_least"], community["members_measured"]) == (None, True)
    path = f"/api/v1/communities/{community['id']}"
    budget = brand_budget(app, consent, clock)
    assert budget.state(velo.brand_id).spent == 0                  # opening measures nothing
    joined = members(vault, consent, community["id"], 150)
    told = brand_client.get(path, headers=token).get_json()["community"]
    assert told["members_measured"] and told["members_at_least"] % 10 == 0
    assert told["members_at_least"] >= 50
    assert budget.state(velo.brand_id).spent == AUDIENCE_EPSILON
    # One leaving, one joining: read alone and in the list, the figure of the period.
    membership_service(consent).leave(joined[0], community["id"])
    members(vault, consent, community["id"], 1, prefix="late")
    for _ in range(2):
        assert brand_client.get(path, headers=token).get_json()["community"] == told
        assert brand_client.get("/api/v1/communities", headers=token).get_json()[
            "communities"] == [told]
    assert budget.state(velo.brand_id).spent == AUDIENCE_EPSILON    # reads are free
    clock.advance(budget.settings.period_seconds)                  # the next period: anew
    again = brand_client.get(path, headers=renewed(api, velo)).get_json()["community"]
    assert again["members_measured"] and again["members_at_least"] >= 50
    assert budget.state(velo.brand_id).spent == AUDIENCE_EPSILON


def test_with_the_budget_spent_the_size_is_not_told(
        app: Flask, brand_client: FlaskClient, token, vault: Vault, consent: Consent,
        velo: OAuthClient, clock: FrozenClock, api: BrandApi) -> None:
    community = opened(brand_client, token)
    members(vault, consent, community["id"], 3)
    budget = brand_budget(app, consent, clock)
    budget.spend(velo.brand_id, budget.settings.epsilon_per_period)
    path = f"/api/v1/communities/{community['id']}"
    for read in (path, "/api/v1/communities"):
        answer = brand_client.get(read, headers=token).get_json()
        (told,) = answer["communities"] if "communities" in answer else [answer["community"]]
        assert (told["members_at_least"], told["members_measured"]) == (None, False)
    clock.advance(budget.settings.period_seconds)                  # renewed: measured
    assert brand_client.get(path, headers=renewed(api, velo)).get_json()["community"][
        "members_measured"]
    assert budget.state(velo.brand_id).spent == AUDIENCE_EPSILON


def test_a_closed_community_keeps_its_last_figure(
        app: Flask, brand_client: FlaskClient, token, vault: Vault, consent: Consent,
        velo: OAuthClient, clock: FrozenClock, api: BrandApi) -> None:
    community = opened(brand_client, token)
    joined = members(vault, consent, community["id"], 3)
    path = f"/api/v1/communities/{community['id']}"
    told = brand_client.get(path, headers=token).get_json()["community"]
    closed = brand_client.post(path + "/close", headers=token).get_json()["community"]
    membership_service(consent).leave(joined[0], community["id"])
    budget = brand_budget(app, consent, clock)
    clock.advance(budget.settings.period_seconds)
    kept = brand_client.get(path, headers=renewed(api, velo)).get_json()["community"]
    assert kept == closed and kept["members_measured"]
    assert kept["members_at_least"] == told["members_at_least"]
    assert budget.state(velo.brand_id).spent == 0         # of the new period: never measured
    token = renewed(api, velo)
    never = opened(brand_client, token)
    unread = brand_client.post(f"/api/v1/communities/{never['id']}/close", headers=token)
    assert unread.get_json()["community"]["members_measured"] is False


def test_a_new_community_and_challenge_are_located_at_their_own_paths(
        brand_client: FlaskClient, token) -> None:
    """RFC 9110 sec. 15.3.2: a 201 without Location says the new resource is the target URI
    (the list); each answer names the new one's own path, and the OpenAPI document says so."""
    response = brand_client.post("/api/v1/communities", json=CLUB, headers=token)
    assert response.status_code == 201
    community = response.get_json()["community"]
    assert response.headers["Location"] == f"/api/v1/communities/{community['id']}"
    assert brand_client.get(response.headers["Location"], headers=token
                            ).get_json()["community"]["id"] == community["id"]
    response = brand_client.post(f"/api/v1/communities/{community['id']}/challenges",
                                 json={"title": "Repairs?", "description": "Tell us."},
                                 headers=token)
    assert response.status_code == 201
    challenge = response.get_json()["challenge"]
    assert response.headers["Location"] == f"/api/v1/challenges/{challenge['id']}"
    assert brand_client.get(response.headers["Location"], headers=token
                            ).get_json()["challenge"]["id"] == challenge["id"]
    paths = brand_client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/communities", "/communities/{community_id}/challenges"):
        assert "Location" in paths[path]["post"]["responses"]["201"]["headers"], path


def test_challenges_ideas_votes_and_taking_up(brand_client: FlaskClient, token, vault: Vault,
                                              consent: Consent, velo: OAuthClient,
                                              api: BrandApi) -> None:
    community = opened(brand_client, token)
    alice, bob = members(vault, consent, community["id"], 2)
    response = brand_client.post(f"/api/v1/communities/{community['id']}/challenges",
                                 json={"title": "How should our repair service work?",
                                       "description": "Tell us."}, headers=token)
    assert response.status_code == 201
    challenge = response.get_json()["challenge"]
    bad = brand_client.post(f"/api/v1/communities/{community['id']}/challenges",
                            json={"title": ""}, headers=token)
    assert bad.status_code == 400 and set(bad.get_json()["errors"]) == {"title", "description"}
    two_lines = brand_client.post(f"/api/v1/communities/{community['id']}/challenges",
                                  json={"title": "How should\nit work?",
                                        "description": "Tell us,\nin your words."},
                                  headers=token)
    assert two_lines.status_code == 400                     # a title is one line; a text not
    assert set(two_lines.get_json()["errors"]) == {"title"}
    cocreation = cocreation_service(consent)
    idea = cocreation.post(alice, challenge["id"], "Loan bikes during repairs.")
    cocreation.vote(bob, idea.id)
    cocreation.post(bob, challenge["id"], "Withdrawn soon.")
    cocreation.withdraw(bob, cocreation.ideas(bob, challenge["id"])[1].id)
    ideas = brand_client.get(f"/api/v1/challenges/{challenge['id']}/ideas",
                             headers=token).get_json()["ideas"]
    assert [(i["text"], i["votes"]) for i in ideas] == [("Loan bikes during repairs.", 1)]
    assert ideas[0]["author"].startswith("m-")
    assert ideas[0]["author"] != api.subject(alice, velo)
    entry = consent.ledger.latest_by("brand:" + velo.brand_id,
                                     EventTag.COMMUNITY_IDEA_RELEASED)
    assert entry is not None and "Loan" not in str(entry.details)
    taken = brand_client.post(f"/api/v1/ideas/{idea.id}/take-up", headers=token)
    assert taken.status_code == 200 and taken.get_json()["idea"]["taken_up_at"]
    assert brand_client.post(f"/api/v1/ideas/{idea.id}/take-up",
                             headers=token).status_code == 409
    closed = brand_client.post(f"/api/v1/challenges/{challenge['id']}/close", headers=token)
    assert closed.status_code == 200
    listed = brand_client.get(f"/api/v1/communities/{community['id']}/challenges",
                              headers=token).get_json()["challenges"]
    assert [c["closed_at"] is not None for c in listed] == [True]
    assert brand_client.get(f"/api/v1/challenges/{challenge['id']}",
                            headers=token).status_code == 200


def test_closing_releases_the_members_grants(brand_client: FlaskClient, token, vault: Vault,
                                             consent: Consent) -> None:
    community = opened(brand_client, token)
    [alice] = members(vault, consent, community["id"], 1)
    brand_client.post(f"/api/v1/communities/{community['id']}/close", headers=token)
    assert {g.status for g in consent.grants.for_member(alice)} == {GrantStatus.RELEASED}


def test_a_member_token_or_another_scope_is_refused(brand_client: FlaskClient, api: BrandApi,
                                                    velo: OAuthClient) -> None:
    webhooks = bearer(api.brand_token(velo, "webhooks:manage"))
    response = brand_client.get("/api/v1/communities", headers=webhooks)
    assert response.status_code == 403
    assert brand_client.get("/api/v1/communities").status_code == 401


def test_a_join_makes_no_agreement_the_brand_can_see(brand_client: FlaskClient, token,
                                                     api: BrandApi, velo: OAuthClient,
                                                     vault: Vault, consent: Consent) -> None:
    # Joining for totals only agrees the member's term with the brand (its standing policy
    # answering); listing that agreement would name the brand's pairwise subject of a member
    # who is in its community, and when they joined.
    community = opened(brand_client, token)
    member_id = vault.members.register("joiner@example.org", GOOD_PASSWORD)
    consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                         aggregate_allowed=True)
    membership_service(consent).join(member_id, community["id"], individual=False)
    [joined] = consent.agreements.for_member(member_id)
    assert joined.status.value == "agreed"
    agreements = bearer(api.brand_token(velo, "agreements:write"))
    listed = brand_client.get("/api/v1/agreements", headers=agreements)
    assert listed.status_code == 200 and listed.get_json()["agreements"] == []
    for response in (
            brand_client.get(f"/api/v1/agreements/{joined.id}", headers=agreements),
            brand_client.post(f"/api/v1/agreements/{joined.id}/answer",
                              json={"answer": "reject"}, headers=agreements)):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    assert consent.agreements.get(joined.id) == joined           # untouched
    # What the member offers the brand themselves is the brand's to see and answer.
    offered = consent.agreements.proffer(member_id, velo.brand_id, term="SD-BASE-A-DP")
    listed = brand_client.get("/api/v1/agreements", headers=agreements).get_json()
    assert [a["id"] for a in listed["agreements"]] == [offered.id]
