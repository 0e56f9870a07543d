"""schemathesis against the OpenAPI document the app serves: no 5xx, no response outside it.

The schema is loaded from the app itself (``/api/v1/openapi.json`` through its WSGI interface,
no server), and every operation in it is called with generated inputs, valid and invalid, by
each kind of caller: a brand holding a member's live delegated token, a brand with its own
client credentials token (brand-level work), and a caller without any token. Every response
must pass the checks below: not a server error, a documented status code, a documented content
type and headers, a body that validates against the documented schema, and (for inputs that
break the schema) a 4xx.

Deterministic: a fixed number of examples per operation, ``derandomize`` (the seed comes from
the test itself) and no example database, so two runs send the same requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python._constants.orchestrator import build_constants_pool
from schemathesis.python._constants.pool import ConstantsPool
from schemathesis.python._constants.registry import default_registry
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import brand_gateway.api.webhooks
from brand_gateway.api.schemas import openapi_document
from brand_gateway.dsr import dsr_service
from brand_gateway.intents_wiring import intent_service
from brand_gateway.storage import pairwise_pseudonyms, webhook_registry
from brand_gateway.webhooks import endpoints as webhook_endpoints
from community.storage import (
    care_service,
    cocreation_service,
    community_service,
    membership_service,
    survey_service,
    wedid_service,
)
from community.surveys import QuestionDraft, SurveyDraft
from compliance.deadlines import HolidayCalendar
from consent.context import Consent
from intents.model import IntentDraft
from tests.brand_api_support import CALLBACK, BrandApi, bearer
from vault.home import Vault

OPENAPI = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
# 50 generated requests per operation and token holder on SQLCipher; 20 on PostgreSQL, where
# the same derandomized inputs are drawn again (generating them is most of this file's time)
# and what differs is the store behind the answers, which the explicit cases reach with real
# ids. A caller without a token reaches nothing but the refusal, whichever the store: 10 and 5
# show that no input of it gets further.
EXAMPLES = {"sqlcipher": 50, "postgresql": 20}
TOKENLESS_EXAMPLES = {"sqlcipher": 10, "postgresql": 5}
SETTINGS = settings(
    max_examples=EXAMPLES["sqlcipher"], derandomize=True, database=None, deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def public_address(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
    """A stand-in resolver: every host is public, and no lookup leaves the machine."""
    return [(2, 1, 6, "", ("93.184.215.14", port))]


@pytest.fixture
def api_app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    # The frozen clock never starts a new minute: without this, the rate limit would answer
    # most generated requests with a (documented) 429 and hide what lies behind it.
    app.config["VRMVAULT_API_RATE_LIMIT"] = 1_000_000
    real = webhook_endpoints.destination_problem

    def destination_problem(url: str, *, allow_loopback: bool,
                            resolve: Callable[..., Any] = public_address) -> str | None:
        return real(url, allow_loopback=allow_loopback, resolve=resolve)

    monkeypatch.setattr(brand_gateway.api.webhooks, "destination_problem", destination_problem)
    return app


_CONSTANTS: list[ConstantsPool] = []


def _reuse_constants(schema: Any, app: Flask) -> None:
    """Give ``schema`` the literals schemathesis gathered from the app's source for the first
    schema of this process (its generated values draw on them): gathering them parses every
    module behind the app's views again, a third of a second for each test, and each test's
    app runs the same code. Kept in the slot where schemathesis caches them per app; were that
    slot renamed, each schema would gather them again, as before."""
    if not hasattr(schema, "_constants_pool_cache"):
        return
    if not _CONSTANTS:
        _CONSTANTS.append(build_constants_pool(schema))
    schema._constants_pool_cache = (app, default_registry().version, _CONSTANTS[0])


@pytest.fixture
def api_schema(api_app: Flask) -> Any:
    schema = schemathesis.openapi.from_wsgi(OPENAPI, api_app)
    _reuse_constants(schema, api_app)
    # A body the schema refuses may also be larger than the API takes at all: its 413 (a
    # documented answer) is a rejection too, whichever limit the body broke first; so are a
    # query too long for any request (414) and header fields too large (431).
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413", "414", "431"]
    return schema


@pytest.fixture
def api(vault: Vault, consent: Consent) -> BrandApi:
    return BrandApi(vault, consent)


@pytest.fixture
def member_headers(api: BrandApi, vault: Vault) -> dict[str, str]:
    """A member-delegated token over one purpose, with profile values and a feedback entry
    behind it, so the success responses carry data of every shape."""
    member_id = vault.members.register("alice@example.org", "correct horse battery staple")
    velo = api.brand("Velo Bikes")
    vault.profile.update(member_id, {
        "given_name": "Alice", "family_name": "Liddell", "city": "Leiden",
        "interests": ["cycling"], "household_size": 2, "date_of_birth": "1990-05-04",
        "contact_email": "alice.contact@example.org"})
    vault.feedback.add(member_id, {"brand_id": velo.brand_id, "touchpoint": "purchase",
                                   "rating": 4, "nps": 9, "comment": "Quick checkout.",
                                   "occurred_on": "2027-01-10"})
    issued = api.member_token(member_id, velo, {"dpv:Personalisation": [
        "category:identity", "category:contact", "interests", "household_size", "feedback"]})
    return issued.headers


@pytest.fixture
def brand_headers(api: BrandApi, vault: Vault) -> dict[str, str]:
    """A client credentials token that may manage the brand's webhooks, answer members'
    offers and query insights; the brand has one endpoint already (:func:`grocer_endpoint`)."""
    grocer, _ = api.clients.create("Green Grocer", [CALLBACK], ["groceries"])
    webhook_registry(database=vault.data, clock=vault.clock).add(grocer.client_id,
                                                                "https://grocer.example/hooks")
    return bearer(api.brand_token(
        grocer, "webhooks:manage agreements:write communities:write surveys:write"
        " insights:read requests:write intents:read offers:write"))


@pytest.fixture
def grocer_endpoint(vault: Vault, brand_headers: dict[str, str]) -> str:
    """The id of the endpoint :func:`brand_headers` registered for Grocer."""
    (endpoint,) = webhook_registry(database=vault.data, clock=vault.clock).list()
    return endpoint.public_id


@pytest.fixture
def grocer_intents(vault: Vault, consent: Consent, brand_headers: dict[str, str]
                   ) -> dict[str, str]:
    """Two members' intents in Grocer's category: Grocer's offer on one, accepted (revealing
    an e-mail address), its open offer on the other. Grocer's pseudonym of the open intent and
    the offers' ids."""
    grocer = next(b for b in vault.brands.all() if b.name == "Green Grocer")
    service = intent_service(consent)
    today = dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()
    now = int(vault.clock())

    def cast(email: str) -> tuple[str, str]:
        member_id = vault.members.register(email, "correct horse battery staple")
        vault.profile.update(member_id, {"contact_email": "fern.contact@example.org"})
        BrandApi(vault, consent).accept_everything(member_id)
        service.cast(member_id, IntentDraft(
            category="groceries", description="Organic vegetables, weekly.",
            budget_min="20", budget_max="40.50", currency="EUR",
            window_from=today + dt.timedelta(days=1), window_until=today + dt.timedelta(days=60),
            country="NL", region="NL-ZH", city="Delft",
            reveal_fields=("contact_email", "given_name"), expires_on=None))
        listed = service.list_for_brand(grocer.id, category=None, currency=None,
                                        budget_min=None, budget_max=None, window_from=None,
                                        window_until=None, region=None, cursor=None, limit=1)
        return member_id, listed.items[0].pseudonym

    def offer(pseudonym: str) -> str:
        return service.make_offer(grocer.id, pseudonym, price="30.00", currency="EUR",
                                  terms="Every Friday.", message="Fresh.",
                                  valid_until=now + 7 * 86_400).id

    fern, first = cast("fern@example.org")
    accepted = offer(first)
    service.accept(fern, accepted, fields=["contact_email"])
    _, intent = cast("gil@example.org")
    return {"intent_id": intent, "offer_id": offer(intent), "accepted": accepted}


@pytest.fixture
def grocer_loop(api: BrandApi, vault: Vault, consent: Consent,
                brand_headers: dict[str, str]) -> dict[str, str]:
    """A care case a member opened with Green Grocer after a low score, and Grocer's "we
    did" (made with the brand's token): real ids for the path parameters."""
    member_id = vault.members.register("dave@example.org", "correct horse battery staple")
    grocer = next(b for b in vault.brands.all() if b.name == "Green Grocer")
    vault.profile.update(member_id, {"phone": "+44 20 7946 0000"})
    entry = vault.feedback.add(member_id, {"brand_id": grocer.id, "touchpoint": "delivery",
                                           "rating": 1, "nps": 3, "comment": "Late."})
    case = care_service(consent=consent, accepts_term=lambda b, t: True).ask(
        member_id, entry_id=entry, contact_field="phone")
    post = wedid_service(consent=consent).post(grocer.id, {
        "subject_kind": "touchpoint", "subject": "delivery", "said": "Late deliveries",
        "did": "More vans", "changed_on": "2027-01-01"}, release=lambda b, k, r: None)
    return {"case_id": case.id, "post_id": post.id}


@pytest.fixture
def grocer_request(api: BrandApi, vault: Vault, consent: Consent,
                   brand_headers: dict[str, str]) -> str:
    """A member's access request forwarded to Green Grocer (which holds their data): the uid
    of Grocer's task."""
    member_id = vault.members.register("erin@example.org", "correct horse battery staple")
    brand_id = next(b.id for b in vault.brands.all() if b.name == "Green Grocer")
    pairwise_pseudonyms(database=vault.data, master=vault.master).pairwise_id(member_id,
                                                                               brand_id)
    filed = dsr_service(consent, callback_base="http://localhost",
                        calendar=HolidayCalendar()).file(member_id, kind="access")
    return filed.tasks[0].uid


@pytest.fixture
def grocer_offer(api: BrandApi, vault: Vault, consent: Consent,
                 brand_headers: dict[str, str]) -> str:
    """A member's offer waiting for Green Grocer's answer (made with the brand's token)."""
    member_id = vault.members.register("bob@example.org", "correct horse battery staple")
    grocer = next(b for b in vault.brands.all() if b.name == "Green Grocer")
    return consent.agreements.proffer(member_id, grocer.id).id


@pytest.fixture
def grocer_community(vault: Vault, consent: Consent,
                     brand_headers: dict[str, str]) -> dict[str, str]:
    """Green Grocer's community with a challenge and a member's idea (ids of each)."""
    grocer = next(b for b in vault.brands.all() if b.name == "Green Grocer")
    community = community_service(consent).open(
        grocer.id, name="Grocer panel", description="Shape the shop.",
        purposes=["dpv:ServiceOptimisation"]).id
    member_id = vault.members.register("carol@example.org", "correct horse battery staple")
    membership_service(consent).join(member_id, community, individual=True)
    cocreation = cocreation_service(consent)
    challenge = cocreation.open_challenge(grocer.id, community, title="What next?",
                                          description="Tell us.").id
    idea = cocreation.post(member_id, challenge, "Longer opening hours.").id
    return {"community_id": community, "challenge_id": challenge, "idea_id": idea}


@pytest.fixture
def grocer_survey(vault: Vault, consent: Consent, request: pytest.FixtureRequest
                  ) -> tuple[str, str]:
    """Grocer's survey in its community, answered by its member (who granted individual
    use): (the community's id, the survey's id)."""
    club = request.getfixturevalue("grocer_community")["community_id"]
    grocer = next(b for b in vault.brands.all() if b.name == "Green Grocer")
    carol = vault.members.find("carol@example.org")
    assert carol is not None
    surveys = survey_service(consent=consent)
    survey = surveys.publish(grocer.id, SurveyDraft(
        community_id=club, title="Taste", closes_at=int(vault.clock()) + 7 * 86_400,
        questions=(QuestionDraft("multiple", "What?", ("Fruit", "Bread")),
                   QuestionDraft("text", "Why?")))).survey
    surveys.answer(carol, survey.id, {"q0": ["1"], "q1": "Crusty."})
    return club, survey.id


def _survey_cases(label: str, community_id: str, survey_id: str) -> list[dict[str, Any]]:
    """Valid requests for the survey operations, which random inputs never hit."""
    closes = "2027-02-01T00:00:00+00:00"
    body = {"POST /surveys": {"community_id": community_id, "title": "More", "closes_at": closes,
                              "criteria": [{"attribute": "country", "any_of": ["NL"]}],
                              "questions": [{"kind": "single", "prompt": "Which?",
                                             "choices": ["A", "B"]}]},
            "POST /feedback-requests": {"community_id": community_id, "touchpoint": "delivery",
                                        "prompt": "How was it?", "closes_at": closes},
            "POST /attribute-requests": {"community_id": community_id,
                                         "attribute": "household_size", "reason": "Sizes.",
                                         "closes_at": closes}}.get(label)
    if body is not None:
        return [{"body": body, "media_type": "application/json"}]
    if "{survey_id}" in label:
        return [{"path_parameters": {"survey_id": survey_id}}]
    return []


def _intent_cases(label: str, made: dict[str, str]) -> list[dict[str, Any]]:
    """Valid requests on Grocer's real intent and offers, which random strings never hit."""
    if label == "GET /intents":
        return [{"query": {"category": "groceries", "currency": "EUR", "budget_min": "10",
                           "budget_max": "50", "region": "NL", "limit": 1}}]
    if label == "GET /offers":
        return [{"query": {"status": "accepted", "limit": 5}}]
    if label == "POST /intents/{intent_id}/offers":
        return [{"path_parameters": {"intent_id": made["intent_id"]},
                 "body": {"price": "29.90", "currency": "EUR", "terms": "Every Tuesday.",
                          "valid_until": "2027-02-10T12:00:00Z"},
                 "media_type": "application/json"}]
    if "{intent_id}" in label:
        return [{"path_parameters": {"intent_id": made["intent_id"]}}]
    if label.endswith("/profile"):
        return [{"path_parameters": {"offer_id": made["accepted"]}}]
    cases = [{"path_parameters": {"offer_id": made["offer_id"]}}]
    if label == "GET /offers/{offer_id}":
        cases.append({"path_parameters": {"offer_id": made["accepted"]}})
    return cases


# One test per operation of the document and caller. The document is the one the app serves
# (built by brand_gateway/api/schemas.py; test_every_served_operation_is_tested keeps the two
# lists equal).
# schemathesis' own pytest loader (schemathesis.pytest.from_fixture) cannot be used: it sets
# the item's private ``_nodeid``, which pytest 9 no longer has (AttributeError), so each test
# drives Hypothesis itself with the operation's strategies.
OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, operations in openapi_document(server="http://localhost/api/v1",
                                             authorization_url="http://localhost/authorize",
                                             token_url="http://localhost/token")["paths"].items()
    for method in operations)
CALLERS = ("member token", "brand token", "no token")
# Valid requests that random inputs seldom hit (field names, a URL that may be registered, an
# endpoint that exists), sent first so the success answers are checked for every caller too.
EXPLICIT: dict[str, list[dict[str, Any]]] = {
    "GET /member/profile": [
        {"query": {"fields": "given_name,city,date_of_birth,interests,household_size,"
                             "contact_email,gender"}},
        {"query": {"purpose": "dpv:Personalisation"}}],
    "GET /member/feedback": [{"query": {"limit": 1, "offset": 0}}],
    "POST /webhooks": [{"body": {"url": "https://grocer.example/new-hooks"},
                        "media_type": "application/json"}],
    "GET /insights/touchpoints": [
        {"query": {"purpose": "dpv:ServiceOptimisation", "touchpoints": "purchase,delivery",
                   "by": "age_band", "epsilon": 1}},
        {"query": {"purpose": "dpv:ServiceOptimisation", "format": "vega-lite"}}],
    "GET /insights/profile": [
        {"query": {"purpose": "dpv:ServiceOptimisation", "attribute": "interests",
                   "by": "household_size"}},
        {"query": {"purpose": "dpv:ServiceOptimisation", "attribute": "age_band",
                   "format": "vega-lite"}}],
    "POST /wedid": [{"body": {"subject_kind": "touchpoint", "subject": "delivery",
                              "said": "Slow deliveries", "did": "Two more vans",
                              "changed_on": "2027-02-01"},
                     "media_type": "application/json"}],
    "POST /communities": [{"body": {"name": "Panel", "description": "For ideas.",
                                    "purposes": ["dpv:ResearchAndDevelopment"]},
                           "media_type": "application/json"}],
}
#: The request bodies the explicit cases of an operation on a real community send.
COMMUNITY_BODIES: dict[str, dict[str, Any]] = {
    "POST /communities/{community_id}/challenges": {"title": "How?", "description": "Tell."},
}


def test_every_served_operation_is_tested(api_app: Flask) -> None:
    # Read from the served JSON: schemathesis leaves the schema's own URL out of its list.
    document = api_app.test_client().get(OPENAPI).get_json()
    assert sorted(f"{method.upper()} {path}" for path, operations in document["paths"].items()
                  for method in operations) == OPERATIONS


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("label", OPERATIONS)
def test_the_api_keeps_to_its_document(api_schema: Any, label: str, caller: str, engine: str,
                                       request: pytest.FixtureRequest) -> None:
    headers = {"member token": lambda: request.getfixturevalue("member_headers"),
               "brand token": lambda: request.getfixturevalue("brand_headers"),
               "no token": dict}[caller]()
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    explicit_cases = list(EXPLICIT.get(label, []))
    if "{agreement_id}" in label:
        # A real offer's id, which random strings never hit: the success answers are checked.
        offer = {"agreement_id": request.getfixturevalue("grocer_offer")}
        explicit_cases.append({"path_parameters": offer, **(
            {"body": {"answer": "counter", "term": "SD-BASE-A"},
             "media_type": "application/json"} if label.startswith("POST") else {})})
    ids = ("community_id", "challenge_id", "idea_id")
    if any("{" + name + "}" in label for name in ids):
        # Real ids of the brand's own, which random strings never hit.
        made = request.getfixturevalue("grocer_community")
        body = COMMUNITY_BODIES.get(label)
        explicit_cases.append({"path_parameters": {
            name: made[name] for name in ids if "{" + name + "}" in label}, **(
            {"body": body, "media_type": "application/json"} if body else {})})
    if any(name in label for name in ("/surveys", "/feedback-requests",
                                      "/attribute-requests")):
        explicit_cases += _survey_cases(label, *request.getfixturevalue("grocer_survey"))
    if label == "GET /insights/surveys/{survey_id}":
        # The survey's results as insights, with a breakdown and as Vega-Lite too.
        survey = {"survey_id": request.getfixturevalue("grocer_survey")[1]}
        purpose = "dpv:ResearchAndDevelopment"
        explicit_cases += [
            {"path_parameters": survey, "query": {"purpose": purpose}},
            {"path_parameters": survey, "query": {"purpose": purpose, "by": "life_stage",
                                                  "format": "vega-lite"}}]
    for name, body in (("{case_id}", {"message": "We will call you today."}),
                       ("{post_id}", {})):
        if name in label:
            # A real case's or post's id: the success answers are checked (the read first,
            # then the answer; the close and the withdrawal last, as they end it).
            ids = request.getfixturevalue("grocer_loop")
            explicit_cases.append({"path_parameters": {name[1:-1]: ids[name[1:-1]]}, **(
                {"body": {} if label.endswith(("close", "withdraw")) else body,
                 "media_type": "application/json"} if label.startswith("POST") else {})})
    if "{endpoint_id}" in label:
        # The brand's own endpoint, which random strings never hit: removed, 204.
        explicit_cases.append(
            {"path_parameters": {"endpoint_id": request.getfixturevalue("grocer_endpoint")}})
    if "{uid}" in label:
        # A real request's uid: the read, then a status event with a result document.
        uid = {"uid": request.getfixturevalue("grocer_request")}
        explicit_cases.append({"path_parameters": uid, **(
            {"body": {"status": "completed", "results": [{
                "name": "orders.json", "data": "eyJvcmRlcnMiOiAyfQ==",
                "headers": {"Content-Type": "application/json"}}]},
             "media_type": "application/json"} if label.startswith("POST") else {})})
    if "{intent_id}" in label or "{offer_id}" in label or label in ("GET /intents",
                                                                    "GET /offers"):
        explicit_cases += _intent_cases(label, request.getfixturevalue("grocer_intents"))
    for explicit in explicit_cases:
        operation.Case(**explicit).call_and_validate(headers=headers, checks=CHECKS)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(SETTINGS, max_examples=(TOKENLESS_EXAMPLES if caller == "no token"
                                      else EXAMPLES)[engine])
    @given(case=cases)
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
