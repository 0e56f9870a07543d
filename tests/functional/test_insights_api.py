"""The insights API end to end: brand tokens with ``insights:read``, answers with their privacy
figures, suppression, sensitive attributes refused, the budget across two app instances, the
ledger, and the Vega-Lite form."""

from __future__ import annotations

from typing import Any

import opendp.prelude as dp
import pytest
import vl_convert
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.insights.releases import NPS_SCORES, mean_range
from community.storage import survey_service
from community.surveys import QuestionDraft, SurveyDraft
from consent.context import Consent
from consent.events import EventTag
from tests.apps import opened_app
from tests.brand_api_support import bearer
from tests.insights_support import (
    PURPOSE,
    Community,
    answer,
    joiner,
    make_community,
    open_club,
    publish,
)
from vault.home import Vault

TOUCHPOINTS = "/api/v1/insights/touchpoints"
PROFILE = "/api/v1/insights/profile"


@pytest.fixture
def community(vault: Vault, consent: Consent) -> Community:
    return make_community(vault, consent)


@pytest.fixture
def headers(community: Community) -> dict[str, str]:
    return bearer(community.api.brand_token(community.client, "insights:read"))


def ask(client: FlaskClient, path: str, headers: dict[str, str], **query: Any) -> Any:
    return client.get(path, query_string={"purpose": PURPOSE, **query}, headers=headers)


def near(value: float, truth: float, scale: float, cells: int = 1) -> bool:
    """Whether a noisy ``value`` is within what ``cells`` draws of the noise may move it at
    confidence 1 - 1e-9 (the library's own accuracy figure): a check that fails by chance
    once in a billion runs, never a 95% interval (which would fail one run in twenty)."""
    return abs(value - truth) <= cells * dp.discrete_laplacian_scale_to_accuracy(scale, 1e-9)


def ledger_tags(consent: Consent) -> list[str]:
    return [consent.ledger.entry(seq).tag.value for seq in range(consent.ledger.size)]


def last_entry(consent: Consent) -> Any:
    return consent.ledger.entry(consent.ledger.size - 1)


def test_nps_per_touchpoint_with_its_privacy_figures(client: FlaskClient, community: Community,
                                                     headers: dict[str, str],
                                                     consent: Consent) -> None:
    for n in range(80):             # 60 promoters, 20 detractors: NPS 50
        community.member(entries=[("delivery", 5, 10 if n < 60 else 2)])
    answer = ask(client, TOUCHPOINTS, headers, touchpoints="delivery", epsilon="1")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    privacy = body["privacy"]
    assert privacy["epsilon"] == 1.0 and privacy["delta"] == 0.0
    # One class and the touchpoint's own member count per member (the count that decides
    # suppression, with its own noise): two cells.
    assert privacy["contributions"] == 2 and privacy["noise_scale"] == pytest.approx(2.0)
    assert privacy["unit"] == "member" and privacy["accuracy"] > 0
    [group] = body["groups"]
    assert group["touchpoint"] == "delivery" and not group["suppressed"]
    assert group["value"]["low"] <= group["value"]["value"] <= group["value"]["high"]
    # Each of 3 cells (detractors 20, passives 0, promoters 60) moves by at most `far`.
    far = dp.discrete_laplacian_scale_to_accuracy(2.0, 1e-9)
    low, high = mean_range(NPS_SCORES, [max(0.0, c - far) for c in (20, 0, 60)],
                           [c + far for c in (20, 0, 60)])
    assert low <= group["value"]["value"] <= high
    assert body["budget"]["epsilon_spent"] == 1.0
    entry = last_entry(consent)
    assert entry.tag is EventTag.INSIGHTS_QUERY
    assert entry.details == {"kind": "touchpoints:nps", "epsilon": 1.0, "suppressed": False}
    assert entry.actor == "brand:" + community.brand_id


def test_a_cohort_below_the_minimum_gives_nothing_usable(client: FlaskClient,
                                                         community: Community,
                                                         headers: dict[str, str],
                                                         consent: Consent) -> None:
    for _ in range(3):
        community.member(entries=[("support", 1, 0)])
    # One touchpoint at epsilon 1: the noise on 3 members' count is far from reaching 50.
    body = ask(client, TOUCHPOINTS, headers, measure="rating", touchpoints="support",
               epsilon="1").get_json()
    [group] = body["groups"]
    assert group == {"touchpoint": "support", "by": None, "suppressed": True,
                     "respondents": None, "value": None, "counts": None}
    assert last_entry(consent).details["suppressed"] is True


@pytest.mark.parametrize(("query", "named"), [
    ({"attribute": "religion"}, "sensitive"),
    ({"attribute": "health_conditions"}, "sensitive"),
    ({"attribute": "interests", "by": "gender"}, "only these attributes"),
    ({"attribute": "life_stage", "by": "dietary_requirements"}, "sensitive"),
    ({"attribute": "given_name"}, "only these attributes"),
    ({"attribute": "life_stage", "by": "interests"}, "several"),
])
def test_sensitive_and_unknown_attributes_are_refused(client: FlaskClient,
                                                      headers: dict[str, str],
                                                      query: dict[str, str], named: str,
                                                      consent: Consent) -> None:
    before = consent.ledger.size
    answer = ask(client, PROFILE, headers, **query)
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    messages = " ".join(m for ms in answer.get_json()["errors"].values() for m in ms)
    assert named in messages
    assert consent.ledger.size == before      # nothing spent, nothing recorded


def test_touchpoints_refuse_a_sensitive_breakdown(client: FlaskClient,
                                                  headers: dict[str, str]) -> None:
    answer = ask(client, TOUCHPOINTS, headers, by="religion")
    assert answer.status_code == 400
    assert "sensitive" in answer.get_json()["errors"]["by"][0]


def test_a_distribution_broken_down_counts_members_who_allow_both(
        client: FlaskClient, community: Community, headers: dict[str, str]) -> None:
    for n in range(70):
        community.member(fields=("category:motivations", "country"), profile={
            "life_stage": "family" if n % 2 else "student",
            "country": "NL", "price_sensitivity": "high"})
    for _ in range(70):     # they do not allow the country: not in the breakdown
        community.member(fields=("category:motivations",), profile={
            "life_stage": "retired", "country": "NL"})
    body = ask(client, PROFILE, headers, attribute="life_stage", by="region",
               epsilon="1").get_json()
    groups = {g["by"]: g for g in body["groups"]}
    assert set(groups) == {"northern-europe", "western-europe", "southern-europe",
                           "eastern-europe", "north-america", "elsewhere"}
    western = groups["western-europe"]
    assert not western["suppressed"]
    counts = {c["category"]: c for c in western["counts"]}
    scale = body["privacy"]["noise_scale"]
    assert near(counts["retired"]["value"], 0, scale)
    assert near(counts["family"]["value"], 35, scale)
    assert groups["north-america"]["suppressed"]
    assert body["privacy"]["contributions"] == 2          # a category and the group's count


def test_the_budget_refuses_with_what_is_left_and_when_it_renews(
        app: Flask, client: FlaskClient, headers: dict[str, str], consent: Consent) -> None:
    app.config["VRMVAULT_INSIGHTS_BUDGET"] = 1.0
    assert ask(client, TOUCHPOINTS, headers, epsilon="0.6").status_code == 200
    refused = ask(client, TOUCHPOINTS, headers, epsilon="0.6")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["epsilon_remaining"] == pytest.approx(0.4)
    assert problem["renews_at"].endswith("Z")
    assert "0.4 is left" in problem["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    assert ledger_tags(consent)[-1] == EventTag.INSIGHTS_BUDGET_EXHAUSTED
    assert ask(client, TOUCHPOINTS, headers, epsilon="0.4").status_code == 200


def test_repeated_queries_stop_at_the_budget_across_two_workers(
        app: Flask, headers: dict[str, str]) -> None:
    """Two app instances over one store, as two workers: they share one budget."""
    config = {**app.config, "VRMVAULT_INSIGHTS_BUDGET": 2.0}
    with opened_app(config) as first, opened_app(config) as second:
        answers = [ask(worker.test_client(), TOUCHPOINTS, headers, epsilon="0.5").status_code
                   for worker in (first, second, first, second, first, second)]
    assert answers == [200, 200, 200, 200, 429, 429]


@pytest.mark.parametrize("epsilon", ["0.5", "0.2000001", "0", "0.009", "-1", "11"])
def test_an_epsilon_past_the_vault_s_maximum_is_refused(app: Flask, client: FlaskClient,
                                                        headers: dict[str, str],
                                                        epsilon: str) -> None:
    # Below or above the range, one message: the true range.
    app.config["VRMVAULT_INSIGHTS_MAX_EPSILON"] = 0.2
    answer = ask(client, TOUCHPOINTS, headers, epsilon=epsilon)
    assert answer.status_code == 400
    assert answer.get_json()["errors"]["epsilon"] == ["Epsilon is from 0.01 to 0.2 per query."]
    assert ask(client, TOUCHPOINTS, headers).get_json()["privacy"]["epsilon"] == 0.2


@pytest.mark.parametrize("epsilon", ["\u0661", ".5", "1_0", " 0.5", "0x1", "NaN", "Infinity"])
def test_an_epsilon_not_written_as_a_json_number_is_refused(
        client: FlaskClient, headers: dict[str, str], consent: Consent, epsilon: str) -> None:
    """float() reads '١' (an Arabic-Indic one) and '1_0' too: a query was answered, and
    paid for, on a number the OpenAPI document does not admit."""
    before = consent.ledger.size
    answer = ask(client, TOUCHPOINTS, headers, epsilon=epsilon)
    assert answer.status_code == 400
    assert answer.get_json()["errors"]["epsilon"] == ["Not a valid number."]
    assert consent.ledger.size == before


def test_the_vega_lite_form_compiles(app: Flask, client: FlaskClient, community: Community,
                                     headers: dict[str, str]) -> None:
    # At epsilon 8 the noise scale is about half a member: 60 members stay above a cohort of 20
    # and an empty touchpoint below it with a chance of failing far under 1e-9 (at epsilon 1,
    # an empty touchpoint's noisy count reached 10 in about one run of ten).
    app.config["VRMVAULT_MINIMUM_COHORT"] = 20
    app.config["VRMVAULT_INSIGHTS_MAX_EPSILON"] = 8.0
    for n in range(60):
        community.member(entries=[("delivery", 4, 9), ("support", 2, n % 11)])
    spec = ask(client, TOUCHPOINTS, headers, format="vega-lite", epsilon="8",
               touchpoints="delivery,support,returns").get_json()
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert [v["touchpoint"] for v in spec["data"]["values"]] == ["delivery", "support"]
    assert "returns" in spec["description"]          # suppressed, and said so
    assert "epsilon 8" in spec["title"]["subtitle"]
    vega = vl_convert.vegalite_to_vega(spec)         # Vega-Lite's own compiler accepts it
    assert vega["$schema"].startswith("https://vega.github.io/schema/vega/v")


def test_survey_results_per_question_never_text(app: Flask, client: FlaskClient,
                                                community: Community, headers: dict[str, str],
                                                consent: Consent) -> None:
    app.config["VRMVAULT_MINIMUM_COHORT"] = 10       # 60 members: far from it, whatever noise
    app.config["VRMVAULT_INSIGHTS_MAX_EPSILON"] = 8.0
    club = open_club(community)
    survey_id = publish(community, club)
    for n in range(60):
        answer(community, joiner(community, club), survey_id, q0="4", q1="10" if n % 2 else "0",
               q2="1", q3=["0", "2"], q4="My own words.")
    answer_ = client.get(f"/api/v1/insights/surveys/{survey_id}",
                         query_string={"purpose": PURPOSE, "epsilon": "8"}, headers=headers)
    assert answer_.status_code == 200, answer_.get_json()
    body = answer_.get_json()
    assert "My own words" not in answer_.get_data(as_text=True)
    assert [q["kind"] for q in body["questions"]] == ["rating", "nps", "single", "multiple"]
    assert body["epsilon"] == pytest.approx(8.0)
    assert all(q["privacy"]["epsilon"] == pytest.approx(2.0) for q in body["questions"])
    rating, nps, single, multiple = (q["groups"][0] for q in body["questions"])
    scales = [q["privacy"]["noise_scale"] for q in body["questions"]]
    far = dp.discrete_laplacian_scale_to_accuracy(scales[0], 1e-9)
    low, high = mean_range((1, 2, 3, 4, 5), [0, 0, 0, 60 - far, 0], [far, far, far, 60 + far,
                                                                     far])
    assert low <= rating["value"]["value"] <= high
    far = dp.discrete_laplacian_scale_to_accuracy(scales[1], 1e-9)
    low, high = mean_range(NPS_SCORES, [30 - far, 0, 30 - far], [30 + far, far, 30 + far])
    assert low <= nps["value"]["value"] <= high            # 30 detractors, 30 promoters
    assert nps["value"]["low"] <= nps["value"]["value"] <= nps["value"]["high"]
    assert [c["category"] for c in single["counts"]] == ["north", "south"]
    assert near(single["counts"][1]["value"], 60, scales[2])
    assert [c["category"] for c in multiple["counts"]] == ["brakes", "gears", "tyres"]
    assert near(multiple["counts"][2]["value"], 60, scales[3])
    assert near(multiple["counts"][1]["value"], 0, scales[3])
    # The multiple choice counts every choice a member may tick: 1 + 3 cells per member.
    assert body["questions"][3]["privacy"]["contributions"] == 4
    assert last_entry(consent).details == {"kind": "survey", "epsilon": 8.0,
                                           "suppressed": False}
    spec = client.get(f"/api/v1/insights/surveys/{survey_id}", headers=headers,
                      query_string={"purpose": PURPOSE, "format": "vega-lite"}).get_json()
    vl_convert.vegalite_to_vega(spec)


def test_another_brand_s_survey_is_unknown(client: FlaskClient, community: Community,
                                           vault: Vault, consent: Consent) -> None:
    survey_id = publish(community, open_club(community))
    grocer = make_community(vault, consent, "Green Grocer")
    headers = bearer(grocer.api.brand_token(grocer.client, "insights:read"))
    answer_ = client.get(f"/api/v1/insights/surveys/{survey_id}",
                         query_string={"purpose": PURPOSE}, headers=headers)
    assert answer_.status_code == 404
    assert answer_.mimetype == "application/problem+json"


def test_nps_per_touchpoint_from_survey_answers_tied_to_it(
        app: Flask, client: FlaskClient, community: Community, headers: dict[str, str],
        consent: Consent) -> None:
    # 40 members against a threshold of 14 at scale 1 (epsilon 4, 4 cells per member): far
    # from it, whatever the noise.
    app.config["VRMVAULT_MINIMUM_COHORT"] = 10
    app.config["VRMVAULT_INSIGHTS_MAX_EPSILON"] = 4.0
    club = open_club(community)
    ends = int(community.vault.clock()) + 7 * 86_400
    surveys = survey_service(consent=consent)
    tied = surveys.publish(community.brand_id, SurveyDraft(
        community_id=club, title="Delivery", closes_at=ends, touchpoint="delivery",
        questions=(QuestionDraft("nps", "Recommend our delivery?"),))).survey.id
    for n in range(40):
        member_id = joiner(community, club)
        surveys.answer(member_id, tied, {"q0": "10" if n < 30 else "0"})
        community.add(member_id, "delivery", 1, 0)      # the journal says otherwise
    asked = {"touchpoints": "delivery", "epsilon": "1"}
    answered = ask(client, TOUCHPOINTS, headers, source="surveys", **asked).get_json()
    journal = ask(client, TOUCHPOINTS, headers, **asked).get_json()
    # 30 promoters, 10 detractors in the answers: NPS 50; the journal's, where the same
    # members allow the journal as community members: -100.
    far = dp.discrete_laplacian_scale_to_accuracy(1.0, 1e-9)
    low, high = mean_range(NPS_SCORES, [max(0.0, 10 - far), 0, 30 - far],
                           [10 + far, far, 30 + far])
    assert low <= answered["groups"][0]["value"]["value"] <= high
    assert answered["query"]["source"] == "surveys"
    assert journal["groups"][0]["value"]["value"] < 0
    assert last_entry(consent).details["kind"] == "touchpoints:nps"


def test_nps_per_touchpoint_broken_down_by_age_band(app: Flask, client: FlaskClient,
                                                    community: Community,
                                                    headers: dict[str, str]) -> None:
    # 40 members against a threshold of 14 at scale 1 (epsilon 4, 4 cells per member): far
    # from it, whatever the noise.
    app.config["VRMVAULT_MINIMUM_COHORT"] = 10
    app.config["VRMVAULT_INSIGHTS_MAX_EPSILON"] = 4.0
    for n in range(40):                              # born 1990: 36 on the test clock (2027)
        community.member(fields=("feedback", "date_of_birth"),
                         profile={"date_of_birth": "1990-05-04"},
                         entries=[("delivery", 5, 10), ("support", 2, 3 if n % 2 else 10)])
    for _ in range(40):                              # no date of birth shared: not counted
        community.member(entries=[("delivery", 1, 0)],
                         profile={"date_of_birth": "1950-01-01"})
    body = ask(client, TOUCHPOINTS, headers, touchpoints="delivery,support", by="age_band",
               epsilon="4").get_json()
    assert body["privacy"]["contributions"] == 4        # per touchpoint named: value, count
    groups = {(g["touchpoint"], g["by"]): g for g in body["groups"]}
    assert len(groups) == 2 * 6
    delivery = groups[("delivery", "35-44")]
    assert not delivery["suppressed"]
    far = dp.discrete_laplacian_scale_to_accuracy(body["privacy"]["noise_scale"], 1e-9)
    low, _ = mean_range(NPS_SCORES, [0, 0, 40 - far], [far, far, 40 + far])
    assert delivery["value"]["value"] >= low                # all promoters
    assert groups[("delivery", "65-plus")]["suppressed"]    # their dates were never shared
