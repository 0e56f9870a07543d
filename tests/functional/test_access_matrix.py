"""Who may do what: every route of the app against every role, as one table.

Roles: ``anonymous`` (no session), ``owner`` (member A, acting on A's own feedback entry, grant,
receipt and agreements) and ``other`` (member B, acting on A's). The table must name every route
of ``app.url_map``: a new route fails :func:`test_the_table_covers_every_route` until its row is
added here.

The CSRF table below is built from the same rows: every unsafe route of the page blueprints
must refuse a request without the session's token.

The world (A and B signed in, A's records) is built once per module in a template store; every
test runs on a fresh copy of it, so a destructive request (an erasure, a sign-out, a withdrawal)
never leaks into the next test.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from community.storage import (
    attribute_request_service,
    cocreation_service,
    community_service,
    membership_service,
    survey_service,
)
from community.surveys import QuestionDraft, SurveyDraft
from consent.context import Consent, open_consent
from consent.tiles import TileDirectory, tiles_of
from intents.model import IntentDraft
from intents.storage import intent_service
from tests.conftest import GOOD_PASSWORD, TEST_HASHING, AuthActions, csrf_from, initialise_home
from vault.brands import Brand
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from web.security import FORM_BLUEPRINTS

from .conftest import TEST_HOST_COOKIE, SignedIn
from .pages import assert_sane, error_message, location_path, snapshot
from .test_consent_pages import share

ROLES = ("anonymous", "owner", "other")
MEMBERS = {"alice": "alice@example.org", "bob": "bob@example.org"}    # the owner, the other

ENTRY_ID = "<entry_id>"
ENTRY = "/member/feedback/" + ENTRY_ID
WEBHOOK_ID = "<endpoint_id>"
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
CONSENT_TABLES = ("member_terms", "agreements", "grants", "receipts", "member_brand_terms",
                  "terms_receipts")


@dataclass(frozen=True)
class Context:
    brand: Brand
    entry_id: int
    grant_id: str = ""          # A's grant to ``brand``
    receipt_id: str = ""        # its receipt
    agreement_id: str = ""      # A's agreement with ``brand`` (agreed)
    counter_offer_id: str = ""  # A's agreement with another brand, countered: A may answer it
    community_id: str = ""      # a community of ``brand`` A is in (B is not)
    challenge_id: str = ""      # a challenge there
    idea_id: str = ""           # A's idea in it
    survey_id: str = ""         # a survey put to A (a member of ``brand``'s community), answered
    request_id: str = ""        # an attribute request of that community
    tile: str = ""              # a tile of the published log
    intent_id: str = ""         # A's open intent (bicycles)
    offer_id: str = ""          # an open offer on it from ``shop``
    shop_id: str = ""           # a brand registered for bicycles


Form = Callable[[Context], dict[str, Any]]


def no_form(_: Context) -> dict[str, Any]:
    return {}


def feedback_form(context: Context) -> dict[str, Any]:
    return {"brand_id": context.brand.id, "touchpoint": "support", "rating": "1",
            "comment": "changed", "occurred_on": "2027-01-12"}


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    anonymous: int
    member: int
    other: int | None = None            # member B on A's entry; the same as ``member`` if None
    form: Form = no_form
    csrf: bool = field(default=False)   # an unsafe route of a page blueprint
    agreement: str = "agreement_id"     # which of A's agreements the route acts on

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"

    def expected(self, role: str) -> int:
        if role == "anonymous":
            return self.anonymous
        if role == "other" and self.other is not None:
            return self.other
        return self.member

    def path(self, context: Context) -> str:
        return (self.rule.replace(ENTRY_ID, str(context.entry_id))
                .replace("<grant_id>", context.grant_id)
                .replace("<receipt_id>", context.receipt_id)
                .replace("<agreement_id>", getattr(context, self.agreement))
                .replace("<choice>", "accept")
                .replace("<brand_id>", context.brand.id)
                .replace("<case_id>", "care_" + "0" * 24)
                .replace("<post_id>", "wedid_" + "0" * 24)
                .replace("<community_id>", context.community_id)
                .replace("<challenge_id>", context.challenge_id)
                .replace("<idea_id>", context.idea_id)
                .replace("<survey_id>", context.survey_id)
                .replace("<request_id>", context.request_id)
                .replace("<path:path>", context.tile)
                .replace("<uid>", "00000000-0000-4000-8000-000000000000")
                .replace("<restriction_id>", "0")
                .replace("<dsr_id>", "dsr_" + "0" * 24)
                .replace("<report_id>", "spr_" + "0" * 24)
                .replace("<client_id>", "vrm_client_unknown")
                .replace("<intent_id>", context.intent_id)
                .replace("<offer_id>", context.offer_id)
                .replace(MOVE, "pause")
                .replace(WEBHOOK_ID, "whk_" + "0" * 24))


def intent_form() -> dict[str, Any]:
    """A good intent as its form sends it, its dates from the matrix's frozen clock."""
    today = dt.datetime.fromtimestamp(FrozenClock().now, dt.UTC).date()
    return {"category": "bicycles", "description": "A cargo bike", "budget_min": "900",
            "budget_max": "2000", "currency": "EUR",
            "window_from": (today + dt.timedelta(days=1)).isoformat(),
            "window_until": (today + dt.timedelta(days=30)).isoformat(),
            "reveal_fields": "contact_email"}


def post(rule: str, anonymous: int, member: int, *, other: int | None = None,
         form: Form = no_form, agreement: str = "agreement_id") -> Route:
    return Route(rule, "POST", anonymous, member, other, form, csrf=True, agreement=agreement)


ROUTES: tuple[Route, ...] = (
    # brand gateway OAuth: machine endpoints, no session or CSRF; a member's
    # session is no client authentication
    Route("/oauth/token", "POST", 401, 401,
          form=lambda c: {"grant_type": "client_credentials", "scope": "webhooks:manage"}),
    Route("/oauth/revoke", "POST", 401, 401, form=lambda c: {"token": "x"}),
    Route("/oauth/introspect", "POST", 401, 401, form=lambda c: {"token": "x"}),
    Route("/.well-known/oauth-authorization-server", "GET", 200, 200),
    # the authorization endpoint (a page): without a valid client and redirect URI it shows
    # an error page and never redirects, whoever asks
    Route("/oauth/authorize", "GET", 400, 400),
    post("/oauth/authorize", 400, 400),
    # brand API: bearer tokens only, a member's session is no authorization
    Route("/api/v1/member", "GET", 401, 401),
    Route("/api/v1/member/profile", "GET", 401, 401),
    Route("/api/v1/member/feedback", "GET", 401, 401),
    Route("/api/v1/openapi.json", "GET", 200, 200),
    Route("/api/v1/member/receipts", "GET", 401, 401),
    Route("/api/v1/webhooks", "GET", 401, 401),
    Route("/api/v1/webhooks", "POST", 401, 401),
    Route("/api/v1/webhooks/" + WEBHOOK_ID, "GET", 401, 401),
    Route("/api/v1/webhooks/" + WEBHOOK_ID, "DELETE", 401, 401),
    Route("/api/v1/agreements", "GET", 401, 401),
    Route("/api/v1/insights/touchpoints", "GET", 401, 401),
    Route("/api/v1/insights/profile", "GET", 401, 401),
    Route("/api/v1/insights/surveys/<survey_id>", "GET", 401, 401),
    Route("/api/v1/agreements/<agreement_id>", "GET", 401, 401),
    Route("/api/v1/wedid", "GET", 401, 401),
    Route("/api/v1/wedid", "POST", 401, 401),
    Route("/api/v1/wedid/<post_id>/withdraw", "POST", 401, 401),
    Route("/api/v1/care/cases", "GET", 401, 401),
    Route("/api/v1/care/cases/<case_id>", "GET", 401, 401),
    Route("/api/v1/care/cases/<case_id>/answer", "POST", 401, 401),
    Route("/api/v1/care/cases/<case_id>/close", "POST", 401, 401),
    Route("/api/v1/requests", "GET", 401, 401),
    Route("/api/v1/requests/<uid>", "GET", 401, 401),
    Route("/api/v1/requests/<uid>/events", "POST", 401, 401),
    Route("/api/v1/agreements/<agreement_id>/answer", "POST", 401, 401,
          form=lambda c: {"answer": "accept"}),
    Route("/api/v1/intents", "GET", 401, 401),
    Route("/api/v1/intents/<intent_id>", "GET", 401, 401),
    Route("/api/v1/intents/<intent_id>/offers", "POST", 401, 401),
    Route("/api/v1/offers", "GET", 401, 401),
    Route("/api/v1/offers/<offer_id>", "GET", 401, 401),
    Route("/api/v1/offers/<offer_id>/withdraw", "POST", 401, 401),
    Route("/api/v1/offers/<offer_id>/profile", "GET", 401, 401),
    Route("/api/v1/communities", "GET", 401, 401),
    Route("/api/v1/communities", "POST", 401, 401),
    Route("/api/v1/communities/<community_id>", "GET", 401, 401),
    Route("/api/v1/communities/<community_id>/close", "POST", 401, 401),
    Route("/api/v1/communities/<community_id>/challenges", "GET", 401, 401),
    Route("/api/v1/communities/<community_id>/challenges", "POST", 401, 401),
    Route("/api/v1/challenges/<challenge_id>", "GET", 401, 401),
    Route("/api/v1/challenges/<challenge_id>/close", "POST", 401, 401),
    Route("/api/v1/challenges/<challenge_id>/ideas", "GET", 401, 401),
    Route("/api/v1/ideas/<idea_id>/take-up", "POST", 401, 401),
    Route("/api/v1/surveys", "GET", 401, 401),
    Route("/api/v1/surveys", "POST", 401, 401),
    Route("/api/v1/surveys/<survey_id>", "GET", 401, 401),
    Route("/api/v1/surveys/<survey_id>/answers", "GET", 401, 401),
    Route("/api/v1/feedback-requests", "POST", 401, 401),
    Route("/api/v1/attribute-requests", "GET", 401, 401),
    Route("/api/v1/attribute-requests", "POST", 401, 401),
    Route("/", "GET", 200, 302),
    Route("/account-deleted", "GET", 302, 302),     # shown only right after a deletion
    Route("/signup", "GET", 200, 200),
    post("/signup", 200, 200,
         form=lambda c: {"email": "carol@example.org", "password": GOOD_PASSWORD}),
    Route("/signup/verify", "GET", 410, 410),
    post("/signup/verify", 410, 410, form=lambda c: {"token": "not-a-live-token"}),
    Route("/password/forgot", "GET", 200, 200),
    post("/password/forgot", 200, 200, form=lambda c: {"email": "alice@example.org"}),
    Route("/password/reset", "GET", 410, 410),
    post("/password/reset", 410, 410,
         form=lambda c: {"token": "not-a-live-token", "password": GOOD_PASSWORD}),
    Route("/login", "GET", 200, 200),
    post("/login", 302, 302,
         form=lambda c: {"email": "alice@example.org", "password": GOOD_PASSWORD}),
    Route("/login/code", "GET", 302, 302),
    post("/login/code", 302, 302, form=lambda c: {"code": "123456"}),
    post("/logout", 302, 302),
    Route("/member/", "GET", 302, 200),
    Route("/member/profile", "GET", 302, 200),
    post("/member/profile", 302, 302, form=lambda c: {"given_name": "Changed"}),
    Route("/member/feedback", "GET", 302, 200),
    post("/member/feedback", 302, 302, form=feedback_form),
    Route(ENTRY + "/edit", "GET", 302, 200, other=404),
    post(ENTRY + "/edit", 302, 302, other=404, form=feedback_form),
    post(ENTRY + "/delete", 302, 302, other=404),
    Route("/member/security", "GET", 302, 200),
    post("/member/sessions/end-all", 302, 302),
    post("/member/totp/start", 302, 302),
    post("/member/totp/confirm", 302, 302, form=lambda c: {"code": "123456"}),
    post("/member/totp/disable", 302, 422),
    post("/member/totp/recovery-codes", 302, 422),
    post("/member/export", 302, 200),
    Route("/member/delete", "GET", 302, 200),
    # Closing the loop: A's entry is no low score (422 for A, 404 for B, nothing written);
    # no case has this id (404 for both).
    Route("/member/care", "GET", 302, 200),
    # My rights: no kind chosen is a 422; no restriction has the id 0.
    Route("/member/requests", "GET", 302, 200),
    post("/member/requests", 302, 422),
    post("/member/requests/restrictions/<restriction_id>/lift", 302, 404),
    Route("/member/results", "GET", 302, 200),
    Route("/member/care/ask/" + ENTRY_ID, "GET", 302, 200, other=404),
    post("/member/care/ask/" + ENTRY_ID, 302, 422, other=404),
    post("/member/care/<case_id>/close", 302, 404),
    # A answered the survey with no low score (422 to ask, nothing written); B: 404.
    Route("/member/care/ask-survey/<survey_id>", "GET", 302, 200, other=404),
    post("/member/care/ask-survey/<survey_id>", 302, 422, other=404),
    post("/member/delete", 302, 303,
         form=lambda c: {"confirm": "on", "password": GOOD_PASSWORD}),
    # consents
    Route("/member/terms", "GET", 302, 200),
    post("/member/terms", 302, 302,
         form=lambda c: {"agreement": "SD-BASE-A", "purposes": ["dpv:ServiceOptimisation"],
                         "max_days": "30"}),
    Route("/member/consents", "GET", 302, 200),
    post(GRANT + "/withdraw", 302, 302, other=404),
    Route(GRANT + "/narrow", "GET", 302, 200, other=404),
    post(GRANT + "/narrow", 302, 302, other=404, form=lambda c: {"fields": ["given_name"]}),
    Route("/member/receipts/<receipt_id>", "GET", 302, 200, other=404),
    Route("/member/receipts/<receipt_id>/entry", "GET", 302, 200, other=404),
    Route("/member/access", "GET", 302, 200),
    Route(AGREEMENT, "GET", 302, 200, other=404),
    post(AGREEMENT + "/<choice>", 302, 302, other=404, agreement="counter_offer_id"),
    # A's agreement is answered already: A is told so (a flash), B finds nothing
    post(AGREEMENT + "/withdraw", 302, 302, other=404),
    # a brand with no client to answer: refused next to the list of brands (the page, 422)
    post("/member/agreements", 302, 422, form=lambda c: {"brand_id": c.brand.id}),
    post("/member/terms/brands/<brand_id>/remove", 302, 302, other=404),
    # insight communities: a community's page is the brand's, open to every member (it shows
    # only their own membership); challenges and ideas to its members, ideas' edits to authors
    Route("/communities/<community_id>", "GET", 200, 302),     # the invitation: signed in, on
    Route("/member/communities", "GET", 302, 200),
    Route(COMMUNITY, "GET", 302, 200),
    post(COMMUNITY + "/join", 302, 409, other=422),     # A is in; B's terms refuse totals
    post(COMMUNITY + "/leave", 302, 302, other=404),
    Route(CHALLENGE, "GET", 302, 200, other=404),
    post(CHALLENGE + "/ideas", 302, 302, other=404, form=lambda c: {"text": "Another idea"}),
    Route(IDEA + "/edit", "GET", 302, 200, other=404),
    post(IDEA + "/edit", 302, 302, other=404, form=lambda c: {"text": "Changed idea"}),
    post(IDEA + "/withdraw", 302, 302, other=404),
    post(IDEA + "/vote", 302, 302, other=404),          # A: never one's own (a flash)
    post(IDEA + "/unvote", 302, 302, other=404),
    # what A's community asks: put to A, as missing as any to B
    Route("/member/asked/", "GET", 302, 200),
    Route(SURVEY, "GET", 302, 200, other=404),
    post(SURVEY, 302, 302, other=404, form=lambda c: {"q0": "2"}),
    post(SURVEY + "/skip", 302, 302, other=404),
    post(SURVEY + "/withdraw", 302, 302, other=404),
    Route(ATTRIBUTE, "GET", 302, 200, other=404),
    post(ATTRIBUTE, 302, 302, other=404, form=lambda c: {"household_size": "3", "count": "no"}),
    post(ATTRIBUTE + "/decline", 302, 302, other=404),
    # intents: A's own, as missing as any to B; blocking is each member's own list
    Route("/member/intents", "GET", 302, 200),
    post("/member/intents", 302, 302, form=lambda c: intent_form()),
    Route(INTENT, "GET", 302, 200, other=404),
    Route(INTENT + "/edit", "GET", 302, 200, other=404),
    post(INTENT + "/edit", 302, 302, other=404, form=lambda c: intent_form()),
    post(INTENT + "/" + MOVE, 302, 302, other=404),
    post(OFFER + "/accept", 302, 302, other=404, form=lambda c: {"fields": "contact_email"}),
    post(OFFER + "/decline", 302, 302, other=404),
    post(OFFER + "/report", 302, 302, other=404, form=lambda c: {"reason": "Spam"}),
    Route(OFFER + "/signed.jws", "GET", 302, 200, other=404),
    post("/member/intents/blocks", 302, 302, form=lambda c: {"brand": c.shop_id}),
    post("/member/intents/blocks/<brand_id>/remove", 302, 302),
    Route("/.well-known/jwks.json", "GET", 200, 200),
    Route("/.well-known/gpc.json", "GET", 200, 200),
    Route("/favicon.ico", "GET", 200, 200),
    # the public log: the same for everyone, signed in or not
    Route("/log/checkpoint", "GET", 200, 200),
    Route("/log/key", "GET", 200, 200),
    Route("/log/tile/<path:path>", "GET", 200, 200),
    # the console: officers' and administrators' pages (neither A nor B has a role; every
    # console route against every role: test_console_matrix.py)
    Route("/console/", "GET", 302, 403),
    Route("/console/webhooks", "GET", 302, 403),
    Route("/console/reveals", "GET", 302, 403),
    post("/console/reveal", 302, 403),
    Route("/console/brands/", "GET", 302, 403),
    post("/console/brands/", 302, 403),
    post("/console/brands/<client_id>/rotate-secret", 302, 403),
    post("/console/brands/<client_id>/disable", 302, 403),
    Route("/console/reports/", "GET", 302, 403),
    Route("/console/reports/records-of-processing", "GET", 302, 403),
    Route("/console/reports/exposure/<brand_id>", "GET", 302, 403),
    post("/console/reports/exposure/<brand_id>/reveal", 302, 403),
    Route("/console/ledger/", "GET", 302, 403),
    post("/console/ledger/verify", 302, 403),
    post("/console/ledger/export", 302, 403, form=lambda c: {"format": "csv"}),
    Route("/console/requests", "GET", 302, 403),
    Route("/console/requests/<dsr_id>", "GET", 302, 403),
    post("/console/requests/<dsr_id>/extend", 302, 403),
    post("/console/requests/<dsr_id>/reveal", 302, 403),
    Route("/console/intents/reports", "GET", 302, 403),
    post("/console/intents/reports/<report_id>/decide", 302, 403,
         form=lambda c: {"outcome": "upheld"}),
)


def app_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules() if rule.endpoint != "static"
        for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}
    }


def test_the_table_covers_every_route(app):
    table = {(route.rule, route.method) for route in ROUTES}
    assert len(table) == len(ROUTES), "a route is listed twice"
    assert table == app_routes(app)


def test_the_csrf_table_covers_every_unsafe_page_route(app):
    unsafe = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in FORM_BLUEPRINTS
        for method in rule.methods or () if method in {"POST", "PUT", "PATCH", "DELETE"}
    }
    assert {(r.rule, r.method) for r in ROUTES if r.csrf} == unsafe


# -- the matrix -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """The world every test of this module starts from: a prepared home, copied per test."""

    root: Path
    cookies: Mapping[str, str]      # member -> session cookie
    ids: Mapping[str, str]          # member -> member id
    context: Context


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A and B signed in; A's feedback entry, and through the consent services: A's terms, an
    agreement with ``brand``, a grant to it with its receipt, and a counter-offer from another
    brand. Built once, in a template store."""
    home = initialise_home(VaultHome(tmp_path_factory.mktemp("access") / "var"))
    clock = FrozenClock()            # each test's own frozen clock starts at the same moment
    with home.open(clock=clock, hashing=TEST_HASHING) as vault:
        ids = {name: vault.members.register(email, GOOD_PASSWORD)
               for name, email in MEMBERS.items()}
        # Signed in as the sign-in page signs in (tests/functional/test_auth.py tests that):
        # a session row for the member, its token in the cookie.
        cookies = {name: vault.sessions.create(member_id=member_id, data={}, device="Test")
                   for name, member_id in ids.items()}
        alice = ids["alice"]
        brand = vault.brands.add("Velo Bikes", ("bikes",))
        consent = open_consent(vault, home)
        try:
            grant, receipt, agreement = share(consent, alice, brand)
            consent.terms.accept_for_brand(alice, brand.id, agreement="SD-BASE-ATP",
                                           max_days=400)      # beyond A's terms, for this brand
            other_brand = vault.brands.add("Fresh Grocer")
            offer = consent.agreements.proffer(alice, other_brand.id)
            consent.agreements.brand_counters(offer.id, other_brand.id, "SD-BASE-A")
            club = community_service(consent).open(
                brand.id, name="Repair club", description="Shape repairs.",
                purposes=["dpv:ResearchAndDevelopment"]).id
            membership_service(consent).join(alice, club)
            cocreation = cocreation_service(consent)
            challenge = cocreation.open_challenge(brand.id, club, title="How?",
                                                  description="Tell us.").id
            idea = cocreation.post(alice, challenge, "Alice's idea").id
            survey_id, request_id = ask_alice(consent, alice, brand, club)
            intent_id, offer_id, shop_id = alice_casts(consent, alice)
            checkpoint = consent.ledger.checkpoint()
            TileDirectory.of_home(home.root).publish(consent.ledger.tree, checkpoint)
            tile = next(tiles_of(checkpoint.tree_size)).path.removeprefix("tile/")
        finally:
            consent.close()
        entry_id = vault.feedback.add(alice, {
            "brand_id": brand.id, "touchpoint": "purchase", "rating": 4, "nps": 8,
            "comment": "Alice's entry", "occurred_on": "2027-01-10"})
    return Template(home.root, cookies, ids, Context(
        brand, entry_id, grant.id, receipt.id, agreement.id, offer.id, club, challenge, idea,
        survey_id, request_id, tile, intent_id, offer_id, shop_id))


def ask_alice(consent: Consent, alice: str, brand: Brand, club: str) -> tuple[str, str]:
    """``brand`` asks its community (A is in it): a survey A answered, an attribute request."""
    closes = int(consent.vault.clock()) + 7 * 86_400
    surveys = survey_service(consent=consent)
    survey = surveys.publish(brand.id, SurveyDraft(
        community_id=club, title="Winter", closes_at=closes,
        questions=(QuestionDraft("rating", "Tyres?"),))).survey
    surveys.answer(alice, survey.id, {"q0": "4"})
    request = attribute_request_service(consent=consent).ask(
        brand.id, community_id=club, attribute="household_size", reason="Family bikes.",
        closes_at=closes)
    return survey.id, request.id


def alice_casts(consent: Consent, alice: str) -> tuple[str, str, str]:
    """A's open intent for a bicycle, an open offer on it from a bicycle shop."""
    shop = consent.vault.brands.add("Spoke Shop", ("bicycles",))
    intents = intent_service(consent)
    form = intent_form()
    intent = intents.cast(alice, IntentDraft(
        category="bicycles", description="A cargo bike", budget_min="900", budget_max="2000",
        currency="EUR", window_from=form["window_from"], window_until=form["window_until"],
        reveal_fields=("contact_email",)))
    [listed] = intents.list_for_brand(shop.id).items
    offer = intents.make_offer(shop.id, listed.pseudonym, price="1500", currency="EUR",
                               terms="Ready in a week", message="",
                               valid_until=int(consent.vault.clock()) + 7 * 86_400)
    return intent.id, offer.id, shop.id


@pytest.fixture
def vault_home(template: Template, tmp_path: Path) -> VaultHome:
    """A fresh copy of the template store for each test (the app and vault fixtures use it)."""
    shutil.copytree(template.root, tmp_path / "var")
    return VaultHome(tmp_path / "var")


def signed_in(template: Template, name: str, client: FlaskClient) -> SignedIn:
    client.set_cookie(TEST_HOST_COOKIE, template.cookies[name])
    # A page with a form, as after signing in: the session holds its CSRF token before the
    # test takes its "nothing changed" snapshots.
    assert client.get("/member/").status_code == 200
    return SignedIn(template.ids[name], MEMBERS[name], client, AuthActions(client))


@pytest.fixture
def alice(template: Template, client: FlaskClient) -> SignedIn:
    return signed_in(template, "alice", client)


@pytest.fixture
def bob(template: Template, app: Flask) -> SignedIn:
    return signed_in(template, "bob", app.test_client())


@pytest.fixture
def world(template: Template, vault_home: VaultHome) -> Context:
    """The template's records, in this test's copy of the store."""
    return template.context


def consent_rows(vault: Vault) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the consent tables, for "nothing changed" checks."""
    return {table: [tuple(r) for r in vault.data.all(f"SELECT * FROM {table} ORDER BY 1")]
            for table in CONSENT_TABLES}


def alices_consents(vault: Vault, alice: SignedIn) -> dict[str, list[tuple[Any, ...]]]:
    return {table: [tuple(r) for r in vault.data.all(
        f"SELECT * FROM {table} WHERE member_id = ? ORDER BY 1", (alice.id,))]
        for table in CONSENT_TABLES}


def client_for(role: str, app: Flask, alice: SignedIn, bob: SignedIn) -> FlaskClient:
    return {"anonymous": app.test_client(), "owner": alice.client, "other": bob.client}[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_access(app, vault, alice, bob, world, route, role):
    client = client_for(role, app, alice, bob)
    alices_entry = vault.feedback.get(alice.id, world.entry_id)
    alices_before = alices_consents(vault, alice)
    before = snapshot(vault, sessions=False)
    consents_before = consent_rows(vault)

    if route.method == "GET":
        response = client.get(route.path(world))
    else:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.open(route.path(world), method=route.method,
                               data={**route.form(world), "csrf_token": token})

    assert_sane(response)
    assert response.status_code == route.expected(role), error_message(
        response.get_data(as_text=True))
    if role == "anonymous" and route.rule.startswith("/member/"):
        assert location_path(response) == "/login"
        assert snapshot(vault, sessions=False) == before, "an anonymous request changed data"
        assert consent_rows(vault) == consents_before, "an anonymous request changed consents"
    if role == "other":
        # Whatever B does, A's entry, grant, receipts and agreements stay as they were.
        assert vault.feedback.get(alice.id, world.entry_id) == alices_entry
        assert alices_consents(vault, alice) == alices_before
    if response.status_code == 404:
        for secret in (world.grant_id, world.receipt_id, world.agreement_id):
            assert secret not in response.get_data(as_text=True)


def test_anonymous_never_gets_a_member_page(app, world):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for route in ROUTES:
        if not route.rule.startswith("/member/"):
            continue
        response = client.open(route.path(world), method=route.method,
                               data={**route.form(world), "csrf_token": token}
                               if route.method == "POST" else None)
        assert not 200 <= response.status_code < 300, route.id
        assert location_path(response) == "/login", route.id


def test_a_signed_out_member_is_anonymous_again(alice, world):
    token = alice.cookie
    alice.auth.logout()
    alice.client.set_cookie(TEST_HOST_COOKIE, token)
    for route in ROUTES:
        if route.rule.startswith("/member/") and route.method == "GET":
            response = alice.client.get(route.path(world))
            assert location_path(response) == "/login", route.id


# -- CSRF -------------------------------------------------------------------------------------

CSRF_ROUTES = [route for route in ROUTES if route.csrf]


def wrong_tokens(other: AuthActions) -> dict[str, dict[str, Any]]:
    return {
        "no token": {},
        "empty token": {"csrf_token": ""},
        "made-up token": {"csrf_token": "x" * 43},
        "another session's token": {"csrf_token": other.csrf("/login")},
        "two tokens": {"csrf_token": ["x" * 43, "y" * 43]},
    }


@pytest.mark.parametrize("route", CSRF_ROUTES, ids=lambda r: r.id)
def test_unsafe_routes_refuse_a_missing_or_wrong_csrf_token(app, vault, alice, bob, world,
                                                            route):
    tokens = wrong_tokens(AuthActions(app.test_client()))
    before = snapshot(vault)
    consents_before = consent_rows(vault)
    cookie = alice.cookie

    for case, token in tokens.items():
        response = alice.client.post(route.path(world), data={**route.form(world), **token})
        assert_sane(response)
        assert response.status_code == 400, case
        assert response.mimetype == "text/html", case
        message = error_message(response.get_data(as_text=True))
        assert "did not come from this site" in message, case
        assert snapshot(vault) == before, f"{case} changed the store"
        assert consent_rows(vault) == consents_before, f"{case} changed consents"

    assert alice.cookie == cookie
    assert alice.is_signed_in()


@pytest.mark.parametrize("route", CSRF_ROUTES, ids=lambda r: r.id)
def test_anonymous_unsafe_requests_without_a_session_are_refused(app, vault, world, route):
    before = snapshot(vault)
    consents_before = consent_rows(vault)
    response = app.test_client().post(route.path(world), data={**route.form(world),
                                                               "csrf_token": "x" * 43})
    assert response.status_code == 400
    assert snapshot(vault) == before
    assert consent_rows(vault) == consents_before


def test_the_token_in_the_query_string_does_not_count(alice, vault):
    token = csrf_from(alice.client.get("/member/").get_data(as_text=True))
    response = alice.client.post(f"/member/profile?csrf_token={token}",
                                 data={"given_name": "Mallory"})
    assert response.status_code == 400
    assert vault.profile.get(alice.id) == {}


def test_the_token_survives_sign_in_only_as_a_new_one(app, alice):
    # The token of the signed-out visitor does not carry over into the member's session.
    client = app.test_client()
    actions = AuthActions(client)
    old = actions.csrf("/login")
    actions.login()
    response = client.post("/member/profile", data={"given_name": "X", "csrf_token": old})
    assert response.status_code == 400
