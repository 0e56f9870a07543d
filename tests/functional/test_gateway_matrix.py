"""The authorization matrix: every route of the app against every role, brands included.

Roles:

- ``anonymous``: no session, no credentials.
- ``member_a``: A's session cookie. A owns the feedback entry, grants, receipt and agreements
  the paths name, and the profile the brands read.
- ``member_b``: B's session cookie, on A's resources.
- ``officer``: a compliance officer's session (a member with the ``compliance`` role), on A's
  resources: officers see the console, never another member's pages.
- ``brand_grant``: Velo, holding A's live delegated access token.
- ``brand_no_grant``: Grocer, which has no grant from A: its own client credentials token
  (``webhooks:manage agreements:write surveys:write insights:read requests:write
  intents:read offers:write``), a
  brand-level token; the officer's access request was forwarded to it.
- ``brand_expired``: Expiring Co, holding a delegated token of A's one-day grant, a day later
  (the frozen clock moved past the grant's end; the token itself would live three days).
- ``brand_withdrawn``: Leaving Co, holding a delegated token of a grant A has withdrawn.
- ``brand_disabled``: Gone Co, whose client the operator disabled (``ClientRegistry.disable``):
  its tokens and its HTTP Basic credentials both fail.

A brand sends its bearer token on every request, except to the OAuth endpoints, where it
authenticates with HTTP Basic (client_secret_basic) and revokes or introspects its own token.
On pages a brand is a browser like any anonymous one: a bearer token is no session.

The table names every route of ``app.url_map`` (a new route fails
:func:`test_the_table_covers_every_route` until it has a row) and the exact status per role.
Whatever the table says, :func:`test_the_table_denies_what_it_must` holds it to the policy: no
5xx, and no 2xx for a role that must be denied (anonymous or brands on member pages, anyone but
an officer on the console, anyone but the grant's brand on member data).

The world (three signed-in members, five brands, grants and tokens) is built once per module
in a template store; every test runs on a fresh copy of it, so a destructive request (an
erasure, a sign-out, a revocation) never leaks into the next test.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import shutil
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from brand_gateway.clients import OAuthClient
from brand_gateway.dsr import dsr_service
from brand_gateway.intents_wiring import intent_service
from brand_gateway.observers import grant_observer
from brand_gateway.storage import webhook_registry
from community.storage import (
    attribute_request_service,
    care_service,
    cocreation_service,
    community_service,
    membership_service,
    survey_service,
    wedid_service,
)
from community.surveys import QuestionDraft, SurveyDraft
from compliance.deadlines import HolidayCalendar
from consent.context import Consent, open_consent
from consent.grants import DAY
from consent.tiles import TileDirectory, tiles_of
from intents.model import IntentDraft
from tests.brand_api_support import BrandApi, bearer
from tests.conftest import GOOD_PASSWORD, TEST_HASHING, csrf_from, initialise_home, turn_on_totp
from vault.clock import FrozenClock
from vault.home import VaultHome
from vault.members import COMPLIANCE
from web.security import FORM_BLUEPRINTS

from .conftest import TEST_HOST_COOKIE
from .pages import assert_sane, error_message, location_path
from .test_consent_pages import share

MEMBERS = ("member_a", "member_b", "officer")
BRANDS = ("brand_grant", "brand_no_grant", "brand_expired", "brand_withdrawn",
          "brand_disabled")
ROLES = ("anonymous", *MEMBERS, *BRANDS)

ENTRY_ID = "<entry_id>"
ENDPOINT_ID = "<endpoint_id>"
ENTRY = "/member/feedback/" + ENTRY_ID
GRANT = "/member/consents/<grant_id>"
AGREEMENT = "/member/agreements/<agreement_id>"
COMMUNITY = "/member/communities/<community_id>"
CHALLENGE = "/member/challenges/<challenge_id>"
IDEA = "/member/ideas/<idea_id>"
SURVEY = "/member/asked/surveys/<survey_id>"
ATTRIBUTE = "/member/asked/attributes/<request_id>"
INTENT = "/member/intents/<intent_id>"
OFFER = "/member/intents/offers/<offer_id>"
MOVE = "<any(pause, resume, withdraw):move>"
CLOSES = "2027-02-01T00:00:00+00:00"          # a week after the frozen clock's start
PERSONALISATION = "dpv:Personalisation"
ALICE_PROFILE = {"given_name": "Alice", "family_name": "Liddell", "city": "Leiden",
                 "phone": "+31 71 555 0100"}
ALICE_COMMENT = "Alice's private entry"
LOOPBACK_HOOK = "http://127.0.0.1:9/hooks"


# -- the world --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Brand:
    client_id: str
    secret: str
    token: str                  # what the role presents as a bearer token

    @property
    def basic(self) -> dict[str, str]:
        pair = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


@dataclass(frozen=True)
class World:
    root: Path
    cookies: Mapping[str, str]          # member role -> session cookie
    brands: Mapping[str, Brand]         # brand role -> credentials
    member_a: str
    velo_brand_id: str
    entry_id: int
    grant_id: str
    receipt_id: str
    agreement_id: str
    counter_offer_id: str
    endpoint_id: str                    # Grocer's webhook endpoint
    grocer_offer_id: str                # B's offer to Grocer, waiting for Grocer's answer
    community_id: str                   # Velo's community A is in (B is not)
    challenge_id: str                   # a challenge there
    idea_id: str                        # A's idea in it
    grocer_community_id: str            # Grocer's community, with a challenge and an idea
    grocer_challenge_id: str
    grocer_idea_id: str
    survey_id: str                      # Velo's survey in its community, answered by A
    request_id: str                     # Velo's attribute request to that community
    grocer_survey_id: str               # Grocer's survey in Grocer's community
    case_id: str = ""                   # the officer's care case with Grocer
    post_id: str = ""                   # Grocer's "we did"
    tile: str = ""                      # a tile of the published log
    dsr_uid: str = ""                   # Grocer's task of the officer's access request
    dsr_id: str = ""                    # that request
    intent: str = ""                    # Erin's open intent, under Grocer's pseudonym
    offer_id: str = ""                  # Grocer's open offer on it
    accepted_offer_id: str = ""         # Grocer's offer on Erin's other intent, accepted
    report_id: str = ""                 # Erin's open spam report on an offer of Grocer's
    member_intent: str = ""             # A's own open intent (groceries), by A's id for it
    member_offer: str = ""              # Grocer's open offer on it
    valid_until: str = ""               # an offer's validity, a week ahead of the clock

    def secrets(self, role: str) -> tuple[str, ...]:
        """What of A the role may never see (A's feedback about Velo is granted to Velo)."""
        granted = {ALICE_COMMENT} if role == "brand_grant" else set()
        return tuple(secret for secret in (
            self.member_a, "alice@example.org", ALICE_PROFILE["family_name"],
            ALICE_PROFILE["phone"], ALICE_COMMENT) if secret not in granted)


def _client(api: BrandApi, name: str, *categories: str) -> tuple[OAuthClient, str]:
    return api.clients.create(name, ["https://brand.example/oauth/callback"], list(categories))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    home = initialise_home(VaultHome(tmp_path_factory.mktemp("matrix") / "var"))
    clock = FrozenClock()            # each test's own frozen clock starts at the same moment
    with home.open(clock=clock, hashing=TEST_HASHING) as vault:
        ids = {role: vault.members.register(email, GOOD_PASSWORD) for role, email in (
            ("member_a", "alice@example.org"), ("member_b", "bob@example.org"),
            ("officer", "olive@example.org"))}
        turn_on_totp(vault, ids["officer"])          # an officer needs a second factor
        vault.members.set_role(ids["officer"], COMPLIANCE)
        # Signed in as the sign-in page signs in (tests/functional/test_auth.py tests that):
        # a session row for the member, its token in the cookie.
        cookies = {role: vault.sessions.create(member_id=member_id, data={}, device="Test")
                   for role, member_id in ids.items()}
        alice = ids["member_a"]
        vault.profile.update(alice, ALICE_PROFILE)
        consent = open_consent(vault, home,
                               observers=[grant_observer(vault.data, vault.master)])
        try:
            api = BrandApi(vault, consent)
            velo, velo_secret = _client(api, "Velo Bikes")
            grant, receipt, agreement = share(consent, alice, vault.brands.get(velo.brand_id),
                                              fields=frozenset({"given_name", "city",
                                                                "feedback"}))
            velo_token = api.token_for(alice, velo, [grant]).token
            consent.terms.accept_for_brand(alice, velo.brand_id, agreement="SD-BASE-ATP",
                                           max_days=400)  # beyond A's terms, for Velo
            entry_id = vault.feedback.add(alice, {
                "brand_id": velo.brand_id, "touchpoint": "purchase", "rating": 4,
                "comment": ALICE_COMMENT, "occurred_on": "2027-01-10"})

            grocer, grocer_secret = _client(api, "Green Grocer", "groceries")
            offer = consent.agreements.proffer(alice, grocer.brand_id)
            consent.agreements.brand_counters(offer.id, grocer.brand_id, "SD-BASE-A")
            grocer_token = api.brand_token(
                grocer, "webhooks:manage agreements:write communities:write surveys:write"
                " insights:read requests:write intents:read offers:write")
            grocer_offer = consent.agreements.proffer(ids["member_b"], grocer.brand_id)
            # Closing the loop with Grocer: the officer's care case, and a "we did".
            low = vault.feedback.add(ids["officer"], {
                "brand_id": grocer.brand_id, "touchpoint": "delivery", "rating": 1})
            case = care_service(consent=consent, accepts_term=lambda b, t: True).ask(
                ids["officer"], entry_id=low)
            post = wedid_service(consent=consent).post(grocer.brand_id, {
                "subject_kind": "touchpoint", "subject": "delivery", "said": "Late",
                "did": "Earlier vans", "changed_on": "2027-01-01"}, release=lambda b, k, r: None)
            endpoint = webhook_registry(database=vault.data, clock=clock).add(
                grocer.client_id, LOOPBACK_HOOK)
            # The officer's access request, forwarded to Grocer (which holds the case).
            dsr = dsr_service(consent, callback_base="http://localhost",
                              calendar=HolidayCalendar()).file(
                ids["officer"], kind="access", brands=[grocer.brand_id])

            expiring, expiring_secret = _client(api, "Expiring Co")
            expiring_token = api.member_token(alice, expiring, {PERSONALISATION: ["city"]},
                                              days=1, lifetime=3 * DAY)

            leaving, leaving_secret = _client(api, "Leaving Co")
            leaving_token = api.member_token(alice, leaving, {PERSONALISATION: ["city"]})
            consent.grants.withdraw(alice, leaving_token.grant.id)

            # Insight communities: A in Velo's, with an idea; Dora in Grocer's, with an idea.
            cocreation = cocreation_service(consent)
            club = community_service(consent).open(
                velo.brand_id, name="Repair club", description="Shape repairs.",
                purposes=["dpv:ResearchAndDevelopment"]).id
            membership_service(consent).join(alice, club)
            challenge = cocreation.open_challenge(velo.brand_id, club, title="How?",
                                                  description="Tell us.").id
            idea = cocreation.post(alice, challenge, "Alice's idea").id
            panel = community_service(consent).open(
                grocer.brand_id, name="Grocer panel", description="Shape the shop.",
                purposes=["dpv:ServiceOptimisation"]).id
            dora = vault.members.register("dora@example.org", GOOD_PASSWORD)
            membership_service(consent).join(dora, panel, individual=True)
            question = cocreation.open_challenge(grocer.brand_id, panel, title="What next?",
                                                 description="Tell us.").id
            suggestion = cocreation.post(dora, question, "Dora's idea").id
            survey_id, request_id = _asks(consent, velo.brand_id, club, alice)
            grocer_survey, _ = _asks(consent, grocer.brand_id, panel)

            intents = _intents(consent, grocer.brand_id,
                               vault.members.register("erin@example.org", GOOD_PASSWORD),
                               alice)

            gone, gone_secret = _client(api, "Gone Co")
            gone_token = api.member_token(alice, gone, {PERSONALISATION: ["city"]})
            api.clients.disable(gone.client_id)
            checkpoint = consent.ledger.checkpoint()
            TileDirectory.of_home(home.root).publish(consent.ledger.tree, checkpoint)
            tile = next(tiles_of(checkpoint.tree_size)).path.removeprefix("tile/")
        finally:
            consent.close()
    return World(
        root=home.root, cookies=cookies,
        brands={"brand_grant": Brand(velo.client_id, velo_secret, velo_token),
                "brand_no_grant": Brand(grocer.client_id, grocer_secret, grocer_token),
                "brand_expired": Brand(expiring.client_id, expiring_secret,
                                       expiring_token.token),
                "brand_withdrawn": Brand(leaving.client_id, leaving_secret,
                                         leaving_token.token),
                "brand_disabled": Brand(gone.client_id, gone_secret, gone_token.token)},
        member_a=alice, velo_brand_id=velo.brand_id, entry_id=entry_id, grant_id=grant.id,
        receipt_id=receipt.id, agreement_id=agreement.id, counter_offer_id=offer.id,
        endpoint_id=endpoint.public_id, grocer_offer_id=grocer_offer.id, community_id=club,
        challenge_id=challenge, idea_id=idea, grocer_community_id=panel,
        grocer_challenge_id=question, grocer_idea_id=suggestion, survey_id=survey_id,
        request_id=request_id, grocer_survey_id=grocer_survey, case_id=case.id, post_id=post.id,
        tile=tile, dsr_uid=dsr.tasks[0].uid, dsr_id=dsr.id, **intents)


def _intents(consent: Consent, brand_id: str, erin: str, alice: str) -> dict[str, str]:
    """Erin's three intents: one with Grocer's offer Erin accepted (revealing given_name), one
    with Grocer's offer Erin reported as spam, one with Grocer's open offer: Grocer's pseudonym
    of the open one, the offers' ids and the report's (none of A's: Grocer holds no grant of
    A's); and A's own intent with Grocer's open offer on it, for A's pages."""
    service = intent_service(consent)
    today = dt.datetime.fromtimestamp(consent.vault.clock(), dt.UTC).date()
    now = int(consent.vault.clock())

    def cast(member_id: str) -> str:
        service.cast(member_id, IntentDraft(
            category="groceries", description="A weekly box of organic vegetables.",
            budget_min="20", budget_max="40", currency="EUR",
            window_from=today + dt.timedelta(days=1), window_until=today + dt.timedelta(days=60),
            country="NL", region=None, city=None, reveal_fields=("given_name",),
            expires_on=None))
        return service.list_for_brand(brand_id, category=None, currency=None,
                                      budget_min=None, budget_max=None, window_from=None,
                                      window_until=None, region=None, cursor=None,
                                      limit=1).items[0].pseudonym

    def offer(pseudonym: str) -> str:
        return service.make_offer(brand_id, pseudonym, price="30.00", currency="EUR",
                                  terms="Every Friday.", message="",
                                  valid_until=now + 7 * DAY).id

    accepted = offer(cast(erin))
    service.accept(erin, accepted, fields=["given_name"])
    report = service.report_spam(erin, offer(cast(erin)), reason="Not what I asked for.")
    member_offer = offer(cast(alice))
    [member_intent] = service.for_member(alice)
    intent = cast(erin)
    week = dt.datetime.fromtimestamp(now + 7 * DAY, dt.UTC)
    return {"intent": intent, "offer_id": offer(intent), "accepted_offer_id": accepted,
            "report_id": report.id, "member_intent": member_intent.id,
            "member_offer": member_offer,
            "valid_until": week.isoformat().replace("+00:00", "Z")}


def _asks(consent: Consent, brand_id: str, community_id: str, member_id: str | None = None
          ) -> tuple[str, str]:
    """The brand's survey in its community (answered by ``member_id``, if given) and an
    attribute request there: their ids."""
    closes = int(consent.vault.clock()) + 7 * DAY
    surveys = survey_service(consent=consent)
    survey = surveys.publish(brand_id, SurveyDraft(
        community_id=community_id, title="Winter", closes_at=closes,
        questions=(QuestionDraft("rating", "Tyres?"),))).survey
    if member_id is not None:
        surveys.answer(member_id, survey.id, {"q0": "4"})
    request = attribute_request_service(consent=consent).ask(
        brand_id, community_id=community_id, attribute="household_size",
        reason="Family bikes.", closes_at=closes)
    return survey.id, request.id


@pytest.fixture
def vault_home(world: World, tmp_path: Path) -> VaultHome:
    """A fresh copy of the template store for each test (the app and vault fixtures use it)."""
    shutil.copytree(world.root, tmp_path / "var")
    return VaultHome(tmp_path / "var")


@pytest.fixture
def matrix_app(app: Flask) -> Flask:
    # Brands may register a loopback endpoint here: the request must reach the authorization
    # decision, not stop at the destination check.
    app.config["VRMVAULT_WEBHOOK_ALLOW_LOOPBACK"] = True
    return app


# -- the table --------------------------------------------------------------------------------
Form = Callable[[World, str], dict[str, Any]]


def no_form(_: World, __: str) -> dict[str, Any]:
    return {}


def feedback_form(world: World, _: str) -> dict[str, Any]:
    return {"brand_id": world.velo_brand_id, "touchpoint": "support", "rating": "1",
            "comment": "changed", "occurred_on": "2027-01-12"}


def own_token(world: World, role: str) -> dict[str, Any]:
    """The token the role revokes or introspects: its own, if it is a brand."""
    return {"token": world.brands[role].token if role in world.brands else "x"}


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    expect: Mapping[str, int]
    form: Form = no_form
    json: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None
    query: str = ""             # a query string the route needs, after its path

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"

    def path(self, world: World) -> str:
        path = self._path(world)
        return path + "?" + self.query if self.query else path

    def _path(self, world: World) -> str:
        mine = self.rule.startswith("/member/intents/")      # A's own, by A's ids
        return (self.rule.replace(ENTRY_ID, str(world.entry_id))
                .replace(ENDPOINT_ID, world.endpoint_id)
                .replace("<grant_id>", world.grant_id)
                .replace("<receipt_id>", world.receipt_id)
                .replace("<agreement_id>", world.counter_offer_id
                         if self.rule.endswith("<choice>") else world.grocer_offer_id
                         if self.rule.startswith("/api/") else world.agreement_id)
                .replace("<choice>", "accept")
                .replace("<brand_id>", world.velo_brand_id)
                .replace("<case_id>", world.case_id if self.rule.startswith("/api/")
                         else "care_" + "0" * 24)        # no member's case: a 404 for all
                .replace("<post_id>", world.post_id)
                .replace("<community_id>", world.grocer_community_id
                         if self.rule.startswith("/api/") else world.community_id)
                .replace("<challenge_id>", world.grocer_challenge_id
                         if self.rule.startswith("/api/") else world.challenge_id)
                .replace("<idea_id>", world.grocer_idea_id
                         if self.rule.startswith("/api/") else world.idea_id)
                .replace("<survey_id>", world.grocer_survey_id if self.rule.startswith("/api/")
                         else world.survey_id)
                .replace("<request_id>", world.request_id)
                .replace("<path:path>", world.tile)
                .replace("<uid>", world.dsr_uid)
                .replace("<restriction_id>", "0")
                .replace("<dsr_id>", world.dsr_id)
                .replace("<intent_id>", world.member_intent if mine else world.intent)
                .replace("<offer_id>", world.member_offer if mine
                         else world.accepted_offer_id if self.rule.endswith("/profile")
                         else world.offer_id)
                .replace(MOVE, "pause")
                .replace("<report_id>", world.report_id))


def intent_form() -> dict[str, Any]:
    """A good intent as its form sends it, its dates from the frozen clock's start."""
    today = dt.datetime.fromtimestamp(FrozenClock().now, dt.UTC).date()
    return {"category": "groceries", "description": "Fresh bread, twice a week",
            "budget_min": "5", "budget_max": "15", "currency": "EUR",
            "window_from": (today + dt.timedelta(days=1)).isoformat(),
            "window_until": (today + dt.timedelta(days=30)).isoformat(),
            "reveal_fields": "given_name"}


def page(rule: str, method: str, anonymous: int, member: int, *, other: int | None = None,
         staff: int | None = None, form: Form = no_form) -> Route:
    """A page: brands are anonymous browsers; B and the officer are ``other`` on A's records
    (the same as ``member`` on their own); ``staff``, what the officer gets where a member
    holding a role is refused."""
    other = member if other is None else other
    return Route(rule, method, {"anonymous": anonymous, "member_a": member, "member_b": other,
                                "officer": other if staff is None else staff,
                                **dict.fromkeys(BRANDS, anonymous)}, form)


def everyone(rule: str, method: str, status: int, *, form: Form = no_form) -> Route:
    return Route(rule, method, dict.fromkeys(ROLES, status), form)


def oauth(rule: str, *, form: Form) -> Route:
    """A token endpoint: brands authenticate with HTTP Basic; a session is no client
    authentication, a disabled client's secret no longer works."""
    return Route(rule, "POST", {**dict.fromkeys(ROLES, 200), "anonymous": 401,
                                **dict.fromkeys(MEMBERS, 401), "brand_disabled": 401}, form)


def api(rule: str, method: str = "GET", *, grant: int, no_grant: int,
        json: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None,
        query: str = "") -> Route:
    """The brand API: no bearer token is 401 (sessions do not count); a token of an ended,
    withdrawn or disabled authorization is 401."""
    return Route(rule, method, {**dict.fromkeys(ROLES, 401), "brand_grant": grant,
                                "brand_no_grant": no_grant}, json=json, query=query)


def console(rule: str, method: str = "GET", *, officer: int = 200, form: Form = no_form
            ) -> Route:
    """A console page: officers only (an administrator's pages: ``officer=403``; every console
    route against every role, administrators included: test_console_matrix.py)."""
    return Route(rule, method, {**dict.fromkeys(ROLES, 302), "member_a": 403, "member_b": 403,
                                "officer": officer}, form)


ROUTES: tuple[Route, ...] = (
    # the OAuth server (brand gateway)
    oauth("/oauth/token", form=lambda w, r: {"grant_type": "client_credentials",
                                             "scope": "webhooks:manage"}),
    oauth("/oauth/revoke", form=own_token),
    oauth("/oauth/introspect", form=own_token),
    everyone("/.well-known/oauth-authorization-server", "GET", 200),
    # without a registered client and redirect URI: an error page, never a redirect
    everyone("/oauth/authorize", "GET", 400),
    everyone("/oauth/authorize", "POST", 400),
    # the brand API: member data needs A's live delegated token, brand-level work a
    # client credentials token with the scope
    api("/api/v1/member", grant=200, no_grant=403),
    api("/api/v1/member/profile", grant=200, no_grant=403),
    api("/api/v1/member/feedback", grant=200, no_grant=403),
    api("/api/v1/member/receipts", grant=200, no_grant=403),
    api("/api/v1/webhooks", grant=403, no_grant=200),
    api("/api/v1/webhooks", "POST", grant=403, no_grant=201,
        json={"url": "http://127.0.0.1:10/hooks"}),
    api("/api/v1/webhooks/" + ENDPOINT_ID, grant=403, no_grant=200),
    api("/api/v1/webhooks/" + ENDPOINT_ID, "DELETE", grant=403, no_grant=204),
    # IEEE 7012 agreements: a client credentials token with agreements:write, on the brand's
    # own offers (B's offer to Grocer)
    api("/api/v1/agreements", grant=403, no_grant=200),
    api("/api/v1/agreements/<agreement_id>", grant=403, no_grant=200),
    api("/api/v1/agreements/<agreement_id>/answer", "POST", grant=403, no_grant=200,
        json={"answer": "accept"}),
    # insight communities: a client credentials token with communities:write, on the brand's
    # own community (Grocer's)
    api("/api/v1/communities", grant=403, no_grant=200),
    api("/api/v1/communities", "POST", grant=403, no_grant=201,
        json={"name": "Panel", "description": "For ideas.",
              "purposes": ["dpv:ResearchAndDevelopment"]}),
    api("/api/v1/communities/<community_id>", grant=403, no_grant=200),
    api("/api/v1/communities/<community_id>/close", "POST", grant=403, no_grant=200),
    api("/api/v1/communities/<community_id>/challenges", grant=403, no_grant=200),
    api("/api/v1/communities/<community_id>/challenges", "POST", grant=403, no_grant=201,
        json={"title": "How?", "description": "Tell us."}),
    api("/api/v1/challenges/<challenge_id>", grant=403, no_grant=200),
    api("/api/v1/challenges/<challenge_id>/close", "POST", grant=403, no_grant=200),
    api("/api/v1/challenges/<challenge_id>/ideas", grant=403, no_grant=200),
    api("/api/v1/ideas/<idea_id>/take-up", "POST", grant=403, no_grant=200),
    # surveys: a client credentials token with surveys:write, on the brand's own community
    # and surveys (Grocer's)
    api("/api/v1/surveys", grant=403, no_grant=200),
    api("/api/v1/surveys", "POST", grant=403, no_grant=201, json=lambda w: {
        "community_id": w.grocer_community_id, "title": "Fresh?", "closes_at": CLOSES,
        "questions": [{"kind": "nps", "prompt": "Recommend us?"}]}),
    api("/api/v1/surveys/<survey_id>", grant=403, no_grant=200),
    api("/api/v1/surveys/<survey_id>/answers", grant=403, no_grant=200),
    api("/api/v1/feedback-requests", "POST", grant=403, no_grant=201, json=lambda w: {
        "community_id": w.grocer_community_id, "touchpoint": "delivery",
        "prompt": "How was delivery?", "closes_at": CLOSES}),
    api("/api/v1/attribute-requests", grant=403, no_grant=200),
    api("/api/v1/attribute-requests", "POST", grant=403, no_grant=201, json=lambda w: {
        "community_id": w.grocer_community_id, "attribute": "household_size",
        "reason": "Box sizes.", "closes_at": CLOSES}),
    # insights: a client credentials token with insights:read; a member's token is refused
    api("/api/v1/insights/touchpoints", grant=403, no_grant=200,
        query="purpose=dpv:ServiceOptimisation"),
    api("/api/v1/insights/profile", grant=403, no_grant=200,
        query="purpose=dpv:ServiceOptimisation&attribute=life_stage"),
    api("/api/v1/insights/surveys/<survey_id>", grant=403, no_grant=200,
        query="purpose=dpv:ResearchAndDevelopment"),
    # closing the loop: a client credentials token with communities:write, on the brand's own
    # posts and cases (the officer's case with Grocer, Grocer's post)
    api("/api/v1/wedid", grant=403, no_grant=200),
    api("/api/v1/wedid", "POST", grant=403, no_grant=201, json={
        "subject_kind": "touchpoint", "subject": "delivery", "said": "a", "did": "b",
        "changed_on": "2027-01-01"}),
    api("/api/v1/wedid/<post_id>/withdraw", "POST", grant=403, no_grant=200, json={}),
    api("/api/v1/care/cases", grant=403, no_grant=200),
    api("/api/v1/care/cases/<case_id>", grant=403, no_grant=200),
    api("/api/v1/care/cases/<case_id>/answer", "POST", grant=403, no_grant=200,
        json={"message": "We will call you."}),
    api("/api/v1/care/cases/<case_id>/close", "POST", grant=403, no_grant=200, json={}),
    # data subject requests: a client credentials token with requests:write, on the brand's
    # own request (Grocer's task of the officer's access request)
    api("/api/v1/requests", grant=403, no_grant=200),
    api("/api/v1/requests/<uid>", grant=403, no_grant=200),
    api("/api/v1/requests/<uid>/events", "POST", grant=403, no_grant=200,
        json={"status": "in_progress"}),
    # intent casting: intents:read and offers:write, on Grocer's pseudonym of Erin's intent,
    # its open offer there and its offer Erin accepted
    api("/api/v1/intents", grant=403, no_grant=200),
    api("/api/v1/intents/<intent_id>", grant=403, no_grant=200),
    api("/api/v1/intents/<intent_id>/offers", "POST", grant=403, no_grant=201,
        json=lambda w: {"price": "25.00", "currency": "EUR", "terms": "Every Monday.",
                        "valid_until": w.valid_until}),
    api("/api/v1/offers", grant=403, no_grant=200),
    api("/api/v1/offers/<offer_id>", grant=403, no_grant=200),
    api("/api/v1/offers/<offer_id>/withdraw", "POST", grant=403, no_grant=200),
    api("/api/v1/offers/<offer_id>/profile", grant=403, no_grant=200),
    everyone("/api/v1/openapi.json", "GET", 200),
    # sign-up and sign-in
    Route("/", "GET", {**dict.fromkeys(ROLES, 200), **dict.fromkeys(MEMBERS, 302)}),
    everyone("/signup", "GET", 200),
    everyone("/signup", "POST", 200,
             form=lambda w, r: {"email": "carol@example.org", "password": GOOD_PASSWORD}),
    everyone("/signup/verify", "GET", 410),
    everyone("/signup/verify", "POST", 410, form=lambda w, r: {"token": "not-a-live-token"}),
    everyone("/password/forgot", "GET", 200),
    everyone("/password/forgot", "POST", 200, form=lambda w, r: {"email": "alice@example.org"}),
    everyone("/password/reset", "GET", 410),
    everyone("/password/reset", "POST", 410,
             form=lambda w, r: {"token": "not-a-live-token", "password": GOOD_PASSWORD}),
    everyone("/login", "GET", 200),
    everyone("/login", "POST", 302,
             form=lambda w, r: {"email": "alice@example.org", "password": GOOD_PASSWORD}),
    everyone("/login/code", "GET", 302),
    everyone("/login/code", "POST", 302, form=lambda w, r: {"code": "123456"}),
    everyone("/logout", "POST", 302),
    everyone("/account-deleted", "GET", 302),      # shown once, to the browser that deleted
    # the member's own pages
    page("/member/", "GET", 302, 200),
    page("/member/profile", "GET", 302, 200),
    page("/member/profile", "POST", 302, 302, form=lambda w, r: {"given_name": "Changed"}),
    page("/member/feedback", "GET", 302, 200),
    page("/member/feedback", "POST", 302, 302, form=feedback_form),
    page(ENTRY + "/edit", "GET", 302, 200, other=404),
    page(ENTRY + "/edit", "POST", 302, 302, other=404, form=feedback_form),
    page(ENTRY + "/delete", "POST", 302, 302, other=404),
    page("/member/security", "GET", 302, 200),
    page("/member/sessions/end-all", "POST", 302, 302),
    page("/member/totp/start", "POST", 302, 302),
    page("/member/totp/confirm", "POST", 302, 302, form=lambda w, r: {"code": "123456"}),
    page("/member/totp/disable", "POST", 302, 422),
    page("/member/totp/recovery-codes", "POST", 302, 422),
    page("/member/export", "POST", 302, 200),
    page("/member/delete", "GET", 302, 200),
    # Staff cannot delete their account while they hold their role (their reveals would go).
    page("/member/delete", "POST", 302, 303, staff=409,
         form=lambda w, r: {"confirm": "on", "password": GOOD_PASSWORD}),
    page("/member/terms", "GET", 302, 200),
    page("/member/terms", "POST", 302, 302,
         form=lambda w, r: {"agreement": "SD-BASE-A", "purposes": ["dpv:ServiceOptimisation"],
                            "max_days": "30"}),
    page("/member/consents", "GET", 302, 200),
    page(GRANT + "/withdraw", "POST", 302, 302, other=404),
    page(GRANT + "/narrow", "GET", 302, 200, other=404),
    page(GRANT + "/narrow", "POST", 302, 302, other=404,
         form=lambda w, r: {"fields": ["given_name"]}),
    page("/member/receipts/<receipt_id>", "GET", 302, 200, other=404),
    page("/member/receipts/<receipt_id>/entry", "GET", 302, 200, other=404),
    page("/member/access", "GET", 302, 200),
    page("/member/care", "GET", 302, 200),
    # My rights: no kind chosen is a 422 (nothing filed); no restriction has the id 0.
    page("/member/requests", "GET", 302, 200),
    page("/member/requests", "POST", 302, 422),
    page("/member/requests/restrictions/<restriction_id>/lift", "POST", 302, 404),
    page("/member/results", "GET", 302, 200),
    page("/member/care/ask/" + ENTRY_ID, "GET", 302, 200, other=404),
    page("/member/care/ask/" + ENTRY_ID, "POST", 302, 422, other=404),
    page("/member/care/<case_id>/close", "POST", 302, 404),
    # A survey of Velo's A answered (3 of 5: no low score): A 422 to ask, others 404.
    page("/member/care/ask-survey/<survey_id>", "GET", 302, 200, other=404),
    page("/member/care/ask-survey/<survey_id>", "POST", 302, 422, other=404),
    page(AGREEMENT, "GET", 302, 200, other=404),
    page(AGREEMENT + "/<choice>", "POST", 302, 302, other=404),
    page(AGREEMENT + "/withdraw", "POST", 302, 302, other=404),
    # A has agreed terms with Velo or has an offer waiting: refused next to the list (409)
    page("/member/agreements", "POST", 302, 409, other=302,
         form=lambda w, r: {"brand_id": w.velo_brand_id}),
    page("/member/terms/brands/<brand_id>/remove", "POST", 302, 302, other=404),
    # insight communities: a community's page is the brand's, open to every member (it shows
    # only their own membership); challenges and ideas to its members (A), edits to authors
    Route("/communities/<community_id>", "GET", {**dict.fromkeys(ROLES, 200),
                                                 **dict.fromkeys(MEMBERS, 302)}),
    page("/member/communities", "GET", 302, 200),
    page(COMMUNITY, "GET", 302, 200),
    page(COMMUNITY + "/join", "POST", 302, 409, other=422),   # B's terms refuse totals
    page(COMMUNITY + "/leave", "POST", 302, 302, other=404),
    page(CHALLENGE, "GET", 302, 200, other=404),
    page(CHALLENGE + "/ideas", "POST", 302, 302, other=404,
         form=lambda w, r: {"text": "Another idea"}),
    page(IDEA + "/edit", "GET", 302, 200, other=404),
    page(IDEA + "/edit", "POST", 302, 302, other=404, form=lambda w, r: {"text": "Changed"}),
    page(IDEA + "/withdraw", "POST", 302, 302, other=404),
    page(IDEA + "/vote", "POST", 302, 302, other=404),      # A: never one's own (a flash)
    page(IDEA + "/unvote", "POST", 302, 302, other=404),
    # what Velo's community asks A: put to A, as missing as any to B
    page("/member/asked/", "GET", 302, 200),
    page(SURVEY, "GET", 302, 200, other=404),
    page(SURVEY, "POST", 302, 302, other=404, form=lambda w, r: {"q0": "2"}),
    page(SURVEY + "/skip", "POST", 302, 302, other=404),
    page(SURVEY + "/withdraw", "POST", 302, 302, other=404),
    page(ATTRIBUTE, "GET", 302, 200, other=404),
    page(ATTRIBUTE, "POST", 302, 302, other=404,
         form=lambda w, r: {"household_size": "3", "count": "no"}),
    page(ATTRIBUTE + "/decline", "POST", 302, 302, other=404),
    # intent casting: A's own intents and the offers on them, as missing as any to B
    page("/member/intents", "GET", 302, 200),
    page("/member/intents", "POST", 302, 302, form=lambda w, r: intent_form()),
    page(INTENT, "GET", 302, 200, other=404),
    page(INTENT + "/edit", "GET", 302, 200, other=404),
    page(INTENT + "/edit", "POST", 302, 302, other=404, form=lambda w, r: intent_form()),
    page(INTENT + "/" + MOVE, "POST", 302, 302, other=404),
    page(OFFER + "/accept", "POST", 302, 302, other=404,
         form=lambda w, r: {"fields": "given_name"}),
    page(OFFER + "/decline", "POST", 302, 302, other=404),
    page(OFFER + "/report", "POST", 302, 302, other=404, form=lambda w, r: {"reason": "Spam"}),
    page(OFFER + "/signed.jws", "GET", 302, 200, other=404),
    page("/member/intents/blocks", "POST", 302, 302,
         form=lambda w, r: {"brand": w.velo_brand_id}),
    page("/member/intents/blocks/<brand_id>/remove", "POST", 302, 302),
    everyone("/.well-known/jwks.json", "GET", 200),
    everyone("/.well-known/gpc.json", "GET", 200),
    everyone("/favicon.ico", "GET", 200),
    # the public log: the same for every role
    everyone("/log/checkpoint", "GET", 200),
    everyone("/log/key", "GET", 200),
    everyone("/log/tile/<path:path>", "GET", 200),
    # the compliance console
    console("/console/"),
    console("/console/webhooks"),
    console("/console/reveals"),
    console("/console/ledger/"),
    console("/console/ledger/verify", "POST"),
    console("/console/ledger/export", "POST", form=lambda w, r: {"format": "csv"}),
    console("/console/reports/"),
    console("/console/reports/records-of-processing"),
    console("/console/reports/exposure/<brand_id>"),
    console("/console/reports/exposure/<brand_id>/reveal", "POST", officer=422),
    console("/console/reveal", "POST", officer=422),        # an empty form: refused by field
    # brand management: administrators only (none here)
    console("/console/brands/", officer=403),
    console("/console/brands/", "POST", officer=403),
    console("/console/brands/<client_id>/rotate-secret", "POST", officer=403),
    console("/console/brands/<client_id>/disable", "POST", officer=403),
    console("/console/requests"),
    console("/console/requests/<dsr_id>"),
    console("/console/requests/<dsr_id>/reveal", "POST", officer=422),     # an empty reason
    console("/console/requests/<dsr_id>/extend", "POST", officer=303,
            form=lambda w, r: {"reason": "Two brands must search their archives."}),
    console("/console/intents/reports"),
    console("/console/intents/reports/<report_id>/decide", "POST", officer=303,
            form=lambda w, r: {"outcome": "upheld"}),
)


def app_routes(app: Flask) -> set[tuple[str, str]]:
    return {(rule.rule, method) for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"
            for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}}


def test_the_table_covers_every_route(matrix_app: Flask) -> None:
    table = [(route.rule, route.method) for route in ROUTES]
    assert len(set(table)) == len(table), "a route is listed twice"
    assert set(table) == app_routes(matrix_app)
    assert all(set(route.expect) == set(ROLES) for route in ROUTES)


def allowed(status: int) -> bool:
    return 200 <= status < 300


# Open to all: documents, and the pages one signs up or in with (each decides for itself).
PUBLIC = frozenset({"/", "/signup", "/signup/verify", "/password/forgot", "/password/reset",
                    "/login", "/login/code", "/logout", "/oauth/authorize",
                    "/api/v1/openapi.json", "/.well-known/oauth-authorization-server",
                    "/.well-known/jwks.json", "/.well-known/gpc.json", "/favicon.ico",
                    "/communities/<community_id>", "/log/checkpoint", "/log/key",
                    "/log/tile/<path:path>"})
# A brand's community page: any member may read it (and join); it shows their own membership.
OPEN_TO_MEMBERS = frozenset({COMMUNITY})


def test_the_table_denies_what_it_must() -> None:
    for route in ROUTES:
        assert all(status < 500 for status in route.expect.values()), route.id
        granted = {role for role, status in route.expect.items() if allowed(status)}
        if route.rule in PUBLIC:
            continue
        if route.rule.startswith("/member/"):
            # a session of one's own; A's records (an id in the path) for A only
            assert granted <= ({"member_a"} if "<" in route.rule and route.rule not in
                               OPEN_TO_MEMBERS else set(MEMBERS)), route.id
        elif route.rule.startswith("/console/brands/"):
            assert granted == set(), route.id        # administrators only: none here
        elif route.rule.startswith("/console/"):
            assert granted <= {"officer"}, route.id
            assert granted or route.method == "POST", route.id     # a form refused, or a redirect
        elif route.rule.startswith("/api/v1/member"):
            assert granted <= {"brand_grant"}, route.id      # A's live grant only
        elif route.rule.startswith("/api/"):
            assert granted <= {"brand_no_grant"}, route.id   # brand-level: client credentials
        elif route.rule.startswith("/oauth/"):
            assert granted <= set(BRANDS) - {"brand_disabled"}, route.id
        elif route.rule == "/account-deleted":
            # Only the browser whose session just deleted its account, once: no role here.
            assert granted == set(), route.id
        else:
            pytest.fail(f"{route.id}: say above which roles may ever have it")


# -- the matrix -------------------------------------------------------------------------------
def headers_for(role: str, world: World, route: Route) -> dict[str, str]:
    brand = world.brands.get(role)
    if brand is None:
        return {}
    return brand.basic if route.rule.startswith("/oauth/") else bearer(brand.token)


def client_for(role: str, app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    if role in world.cookies:
        client.set_cookie(TEST_HOST_COOKIE, world.cookies[role])
    return client


def send(client: FlaskClient, route: Route, world: World, role: str):
    headers = headers_for(role, world, route)
    path = route.path(world)
    if route.method == "GET":
        return client.get(path, headers=headers)
    if route.json is not None:
        body = route.json(world) if callable(route.json) else route.json
        return client.open(path, method=route.method, json=body, headers=headers)
    data = route.form(world, role)
    blueprint = client.application.url_map.bind("localhost").match(
        path, method=route.method)[0].split(".")[0]
    if blueprint in FORM_BLUEPRINTS:
        # Every role passes the CSRF check (test_access_matrix.py tests it): what is tested
        # here is who may, not whether the form came from this site.
        data["csrf_token"] = csrf_from(client.get("/login").get_data(as_text=True))
    return client.open(path, method=route.method, data=data, headers=headers)


def visible_text(response: TestResponse) -> str:
    """The body as text; a download (the export) as the text of the files in it."""
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace")
                             for name in archive.namelist())
    if response.mimetype == "application/octet-stream":      # a tile of the log: hashes
        return response.get_data().decode("latin-1")
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_access(matrix_app: Flask, world: World, clock: FrozenClock, route: Route,
                role: str) -> None:
    if role == "brand_expired":
        clock.advance(DAY + 1)                   # past the end of the one-day grant
    client = client_for(role, matrix_app, world)

    response = send(client, route, world, role)

    assert_sane(response)                        # no 5xx, no stack trace
    body = visible_text(response)
    expected = route.expect[role]
    assert response.status_code == expected, (
        f"{role}: {response.status_code}, expected {expected}: "
        f"{error_message(body) or body[:300]}")
    if role != "member_a":
        for secret in world.secrets(role):
            assert secret not in body, f"{role} saw {secret!r}"
    if response.status_code == 302 and route.rule.startswith(("/member/", "/console/")) \
            and role not in MEMBERS:
        assert location_path(response) == "/login"


API_WRITES = tuple(r for r in ROUTES if r.rule.startswith("/api/") and r.method != "GET")


@pytest.mark.parametrize("body", ["not-json", "unexpected-member"])
@pytest.mark.parametrize("route", API_WRITES, ids=lambda r: r.id)
def test_every_api_write_refuses_a_body_it_does_not_take(matrix_app: Flask, world: World,
                                                          route: Route, body: str) -> None:
    """What a brand sends is checked, never ignored: text that is not JSON is a 415 and an
    object with a member the operation does not know is a 400, from the role the table lets
    through, on operations that take a body and on those that take none alike."""
    role = next(r for r in BRANDS if 200 <= route.expect[r] < 300)
    client = client_for(role, matrix_app, world)
    headers = headers_for(role, world, route)
    if body == "not-json":
        response = client.open(route.path(world), method=route.method, data="garbage {",
                               headers={**headers, "Content-Type": "text/plain"})
        expected = 415
    else:
        document = route.json(world) if callable(route.json) else dict(route.json or {})
        response = client.open(route.path(world), method=route.method,
                               json={**document, "surprise": 1}, headers=headers)
        expected = 400
    assert_sane(response)
    assert response.status_code == expected, (route.id, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("route", [r for r in API_WRITES if not r.json], ids=lambda r: r.id)
def test_an_api_write_that_takes_no_body_takes_none(matrix_app: Flask, world: World,
                                                    route: Route) -> None:
    """No body at all is what such an operation is sent (``{}`` as well: the table's row)."""
    role = next(r for r in BRANDS if 200 <= route.expect[r] < 300)
    response = client_for(role, matrix_app, world).open(
        route.path(world), method=route.method, headers=headers_for(role, world, route))
    assert response.status_code == route.expect[role], response.get_data(as_text=True)[:300]


def test_the_grant_brand_reads_exactly_what_was_granted(matrix_app: Flask,
                                                        world: World) -> None:
    response = matrix_app.test_client().get(
        "/api/v1/member/profile", headers=bearer(world.brands["brand_grant"].token),
        query_string={"fields": "given_name,family_name,city,phone"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["profile"] == {"given_name": "Alice", "city": "Leiden"}
    assert body["withheld"] == ["family_name", "phone"]


def test_an_officer_is_member_b_everywhere_but_the_console() -> None:
    # Officers get no view of other members: outside the console, the table gives them what
    # it gives any other member, or less (a refusal) where holding the role stops them.
    for route in ROUTES:
        if not route.rule.startswith("/console/"):
            officer, member_b = route.expect["officer"], route.expect["member_b"]
            assert officer == member_b or (officer >= 400 and member_b < 400), route.id
