"""Fixtures for the functional tests: signed-in members with their own browser-like clients.

``alice`` uses the shared ``client``/``auth`` fixtures; ``bob`` and anyone made with
``sign_in`` get a client of their own, on the same app, store and frozen clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.clients import OAuthClient
from consent.context import Consent
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD, AuthActions, next_totp_code, turn_on_totp
from vault.brands import Brand
from vault.clock import FrozenClock
from vault.home import Vault
from vault.members import ADMINISTRATOR, COMPLIANCE

from .pages import location_path

TEST_HOST_COOKIE = "vrmvault_session"   # the test client's default host is plain-HTTP localhost


@dataclass
class SignedIn:
    id: str
    email: str
    client: FlaskClient
    auth: AuthActions
    totp_secret: str | None = None      # when signed in with two steps (sign_in_with_totp)

    @property
    def cookie(self) -> str:
        cookie = self.client.get_cookie(TEST_HOST_COOKIE)
        assert cookie is not None, "the client holds no session cookie"
        return cookie.value

    def is_signed_in(self) -> bool:
        response = self.client.get("/member/")
        return response.status_code == 200

    def add_feedback(self, brand: Brand, **fields: str) -> int:
        """Add an entry through the journal page; the id of the new entry."""
        form = {"brand_id": brand.id, "touchpoint": "purchase", "rating": "4", "nps": "8",
                "comment": "Friendly shop, quick checkout.", "occurred_on": "2027-01-10"}
        form.update(fields)
        response = self.auth.post("/member/feedback", form)
        assert response.status_code == 302, response.get_data(as_text=True)
        page = self.client.get("/member/feedback").get_data(as_text=True)
        ids = [int(i) for i in re.findall(r"/member/feedback/(\d+)/edit", page)]
        assert ids, "the journal lists no entries"
        return max(ids)


SignIn = Callable[..., SignedIn]


@pytest.fixture
def sign_in(app: Flask, vault: Vault) -> SignIn:
    """Register a member in the store and sign them in on a fresh client."""

    def make(email: str, password: str = GOOD_PASSWORD, *, user_agent: str | None = None,
             client: FlaskClient | None = None) -> SignedIn:
        member_id = vault.members.register(email, password)
        client = client or app.test_client()
        if user_agent:
            client.environ_base["HTTP_USER_AGENT"] = user_agent
        actions = AuthActions(client)
        response = actions.login(email, password)
        assert response.status_code == 302 and location_path(response) == "/member/"
        return SignedIn(member_id, email, client, actions)

    return make


@pytest.fixture
def sign_in_with_totp(app: Flask, vault: Vault, clock: FrozenClock) -> SignIn:
    """Register a member with two-step sign-in on; sign them in with password and code."""

    def make(email: str, password: str = GOOD_PASSWORD) -> SignedIn:
        member_id = vault.members.register(email, password)
        secret, _ = turn_on_totp(vault, member_id)
        client = app.test_client()
        actions = AuthActions(client)
        response = actions.login(email, password)
        assert response.status_code == 302 and location_path(response) == "/login/code"
        response = actions.post("/login/code", {"code": next_totp_code(secret, clock.now)})
        assert response.status_code == 302 and location_path(response) == "/member/"
        return SignedIn(member_id, email, client, actions, secret)

    return make


@pytest.fixture
def officer(sign_in_with_totp: SignIn, vault: Vault) -> SignedIn:
    """A compliance officer (two-step sign-in on, as the role requires), signed in with
    password and code; ``totp_secret`` makes further codes."""
    olive = sign_in_with_totp("olive@example.org")
    vault.members.set_role(olive.id, COMPLIANCE)
    return olive


@pytest.fixture
def administrator(sign_in_with_totp: SignIn, vault: Vault) -> SignedIn:
    """An administrator (brand management in the console; two-step sign-in on, as the role
    requires), signed in with password and code."""
    adam = sign_in_with_totp("adam@example.org")
    vault.members.set_role(adam.id, ADMINISTRATOR)
    return adam


@pytest.fixture
def alice(sign_in: SignIn, client: FlaskClient) -> SignedIn:
    return sign_in("alice@example.org", client=client)


@pytest.fixture
def bob(sign_in: SignIn) -> SignedIn:
    return sign_in("bob@example.org")


# -- brands over the API (tests/brand_api_support.py) ----------------------------------------
@pytest.fixture
def api(vault: Vault, consent: Consent) -> BrandApi:
    return BrandApi(vault, consent)


@pytest.fixture
def brand_client(app: Flask) -> FlaskClient:
    """The brand's HTTP client: no cookies of any member."""
    return app.test_client()


@pytest.fixture
def velo(api: BrandApi) -> OAuthClient:
    return api.brand("Velo Bikes")


# -- both engines: every test that uses the vault home runs on SQLCipher and on PostgreSQL ------
@pytest.fixture(params=["sqlcipher", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
