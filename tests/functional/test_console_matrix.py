"""Who may do what in the console: every console route against every role, as one table.

Roles: ``anonymous`` (no session); ``member`` (signed in with a password only); ``member_totp``
(two-step sign-in on, no role); ``officer`` (the ``compliance`` role) and ``administrator``,
each signed in with password and code; ``officer_no_totp`` and ``administrator_no_totp``: the
role without a second factor, which ``vrmvault officer grant`` refuses but a store made before
that rule (or edited by hand) may hold. Each route names the one role that may use it and what
that role gets; every other role is refused: the anonymous visitor sent to sign in, everyone
else a 403 page, and nothing written (the store's rows, the ledger). The table must name every
route under ``/console``: a new one fails :func:`test_the_table_covers_every_console_route`
until its row is added here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.clients import OAuthClient
from brand_gateway.dsr import dsr_service
from brand_gateway.intents_wiring import intent_service
from compliance.deadlines import HolidayCalendar
from consent.context import Consent
from intents.model import IntentDraft
from tests.brand_api_support import BrandApi
from tests.conftest import csrf_from
from vault.home import Vault
from vault.members import ADMINISTRATOR, COMPLIANCE

from .conftest import SignedIn, SignIn
from .pages import assert_sane, error_message, location_path, snapshot

OFFICER = "officer"
ADMIN = "administrator"
ROLES = ("anonymous", "member", "member_totp", OFFICER, ADMIN, "officer_no_totp",
         "administrator_no_totp")
SIGNED_OUT = 302      # to the sign-in page
FORBIDDEN = 403


@dataclass(frozen=True)
class World:
    brand: OAuthClient          # a registered client the brand pages act on
    case: str                   # an exposure case ``principal`` is in
    principal: str              # a member's ledger pseudonym
    member_email: str
    request_id: str = ""        # the member's access request, forwarded to the brand
    report_id: str = ""         # the member's open spam report on an offer of another brand


Form = Callable[[World], dict[str, Any]]


def no_form(_: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ConsoleRoute:
    rule: str
    method: str
    allowed: str                # the one role that may use it
    status: int                 # what that role gets
    form: Form = no_form

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"

    def expected(self, role: str) -> int:
        if role == "anonymous":
            return SIGNED_OUT
        return self.status if role == self.allowed else FORBIDDEN

    def path(self, world: World) -> str:
        return (self.rule.replace("<client_id>", world.brand.client_id)
                .replace("<brand_id>", world.brand.brand_id)
                .replace("<dsr_id>", world.request_id)
                .replace("<report_id>", world.report_id))


def new_brand(_: World) -> dict[str, Any]:
    return {"name": "Fresh Grocer", "redirect_uris": "https://grocer.example/callback",
            "categories": "groceries", "scopes": ["webhooks:manage"], "accepts": ["SD-BASE"]}


def reveal_form(world: World) -> dict[str, Any]:
    return {"case": world.case, "principal": world.principal,
            "reason": "The brand's breach notice names this member.", "next": "/console/"}


CONSOLE_ROUTES: tuple[ConsoleRoute, ...] = (
    # the officers' console
    ConsoleRoute("/console/", "GET", OFFICER, 200),
    ConsoleRoute("/console/webhooks", "GET", OFFICER, 200),
    ConsoleRoute("/console/reveals", "GET", OFFICER, 200),
    ConsoleRoute("/console/reveal", "POST", OFFICER, 302, reveal_form),
    ConsoleRoute("/console/ledger/", "GET", OFFICER, 200),
    ConsoleRoute("/console/ledger/verify", "POST", OFFICER, 200),
    ConsoleRoute("/console/ledger/export", "POST", OFFICER, 200, lambda _: {"format": "csv"}),
    ConsoleRoute("/console/reports/", "GET", OFFICER, 200),
    ConsoleRoute("/console/reports/records-of-processing", "GET", OFFICER, 200),
    ConsoleRoute("/console/reports/exposure/<brand_id>", "GET", OFFICER, 200),
    ConsoleRoute("/console/reports/exposure/<brand_id>/reveal", "POST", OFFICER, 303,
                 lambda w: {"principal": w.principal,
                            "reason": "The brand's breach notice names this member."}),
    # data subject requests
    ConsoleRoute("/console/requests", "GET", OFFICER, 200),
    ConsoleRoute("/console/requests/<dsr_id>", "GET", OFFICER, 200),
    ConsoleRoute("/console/requests/<dsr_id>/extend", "POST", OFFICER, 303,
                 lambda w: {"reason": "Two brands must search their archives."}),
    ConsoleRoute("/console/requests/<dsr_id>/reveal", "POST", OFFICER, 303,
                 lambda w: {"reason": "The member asked us to confirm by phone."}),
    # spam reports on intent offers
    ConsoleRoute("/console/intents/reports", "GET", OFFICER, 200),
    ConsoleRoute("/console/intents/reports/<report_id>/decide", "POST", OFFICER, 303,
                 lambda w: {"outcome": "upheld"}),
    # brand management, for administrators
    ConsoleRoute("/console/brands/", "GET", ADMIN, 200),
    ConsoleRoute("/console/brands/", "POST", ADMIN, 201, new_brand),
    ConsoleRoute("/console/brands/<client_id>/rotate-secret", "POST", ADMIN, 200),
    ConsoleRoute("/console/brands/<client_id>/disable", "POST", ADMIN, 302),
)


def test_the_table_covers_every_console_route(app: Flask) -> None:
    table = {(route.rule, route.method) for route in CONSOLE_ROUTES}
    assert len(table) == len(CONSOLE_ROUTES), "a route is listed twice"
    console = {(rule.rule, method) for rule in app.url_map.iter_rules()
               if rule.rule.startswith("/console")
               for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}}
    assert table == console


@pytest.fixture
def world(api: BrandApi, consent: Consent, velo: OAuthClient, vault: Vault) -> World:
    mia = vault.members.register("mia@example.org", "correct horse battery staple")
    api.grant(mia, velo, "dpv:ServiceProvision", ["city"])
    filed = dsr_service(consent, callback_base="http://localhost",
                        calendar=HolidayCalendar()).file(mia, kind="access")
    return World(velo, f"exposure:{velo.brand_id}", consent.principal(mia), "mia@example.org",
                 filed.id, spam_report(consent, mia))


def spam_report(consent: Consent, member_id: str) -> str:
    """``member_id``'s intent, an offer on it from a brand of its category, and the member's
    report of that offer: the report's id."""
    intents = intent_service(consent)
    brand_id = consent.vault.brands.add("Spam Cycles", ("bicycles",)).id
    today = dt.datetime.fromtimestamp(consent.vault.clock(), dt.UTC).date()
    intents.cast(member_id, IntentDraft(
        category="bicycles", description="A cargo bike.", budget_min="1500",
        budget_max="3000", currency="EUR", window_from=today + dt.timedelta(days=1),
        window_until=today + dt.timedelta(days=30)))
    offer = intents.make_offer(brand_id, intents.list_for_brand(brand_id).items[0].pseudonym,
                               price="2000", currency="EUR", terms="Buy now.", message="",
                               valid_until=int(consent.vault.clock()) + 86_400)
    return intents.report_spam(member_id, offer.id, reason="Not what I asked for.").id


def without_second_factor(vault: Vault, signed_in: SignedIn) -> SignedIn:
    # As a store made before the rule holds it: the role, and two-step sign-in off.
    vault.data.execute("UPDATE members SET totp_sealed = NULL WHERE id = ?", (signed_in.id,))
    return signed_in


@pytest.fixture
def client_for(request: pytest.FixtureRequest, app: Flask, vault: Vault, sign_in: SignIn,
               sign_in_with_totp: SignIn) -> Callable[[str], FlaskClient]:
    def make(role: str) -> FlaskClient:
        if role == "anonymous":
            return app.test_client()
        if role == "member":
            return sign_in("mel@example.org").client
        if role == "member_totp":
            return sign_in_with_totp("tom@example.org").client
        staff: SignedIn = request.getfixturevalue(OFFICER if role.startswith(OFFICER)
                                                  else ADMIN)
        if role.endswith("_no_totp"):
            without_second_factor(vault, staff)
        return staff.client

    return make


def ledger_size(consent: Consent) -> int:
    return consent.ledger.size


def intent_rows(vault: Vault) -> list[tuple[Any, ...]]:
    """The spam reports and offers, as a refused request must leave them."""
    return [tuple(r) for table in ("intent_spam_reports", "intent_offers")
            for r in vault.data.all(f"SELECT * FROM {table} ORDER BY 1")]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", CONSOLE_ROUTES, ids=lambda r: r.id)
def test_console_access(client_for, vault: Vault, consent: Consent, world: World,
                        route: ConsoleRoute, role: str) -> None:
    client = client_for(role)
    before, entries = snapshot(vault, sessions=False), ledger_size(consent)
    clients_before = [tuple(r) for r in vault.data.all("SELECT * FROM oauth_clients")]
    intents_before = intent_rows(vault)
    if route.method == "GET":
        response = client.get(route.path(world))
    else:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.open(route.path(world), method=route.method,
                               data={**route.form(world), "csrf_token": token})

    assert_sane(response)
    body = response.get_data(as_text=True)
    assert response.status_code == route.expected(role), error_message(body)
    assert world.member_email not in body            # no page shows an address unasked
    if role != route.allowed:
        if role == "anonymous":
            assert location_path(response) == "/login"
        assert snapshot(vault, sessions=False) == before, "a refused request changed data"
        assert [tuple(r) for r in vault.data.all("SELECT * FROM oauth_clients")] == \
            clients_before, "a refused request changed a client"
        assert vault.data.one("SELECT count(*) FROM identity_reveals")[0] == 0
        assert intent_rows(vault) == intents_before, "a refused request decided a report"
        assert ledger_size(consent) == entries, "a refused request wrote to the ledger"


@pytest.mark.parametrize("role", [COMPLIANCE, ADMINISTRATOR])
def test_a_role_revoked_closes_its_pages_on_the_next_request(
        request: pytest.FixtureRequest, vault: Vault, world: World, role: str) -> None:
    staff: SignedIn = request.getfixturevalue(OFFICER if role == COMPLIANCE else ADMIN)
    path = "/console/" if role == COMPLIANCE else "/console/brands/"
    assert staff.client.get(path).status_code == 200
    vault.members.set_role(staff.id, "member")
    assert staff.client.get(path).status_code == FORBIDDEN
