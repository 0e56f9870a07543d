"""Nothing one brand receives is an identifier another brand also receives (DESIGN.md sec. 3).

The risk guarded: receipts at ``GET /api/v1/member/receipts`` carrying the member's global
``member:<hash>`` in ``piiPrincipalId``, ``dpv:hasDataSubject`` or ``dpv:isIndicatedBy``, the
same for every brand, so that two brands could join their data on it.

The test runs the whole life of a member with two brands over the real endpoints (authorize,
token, refresh, introspection, the brand API, receipts, the agreement record, webhooks of a
withdrawal and of the erasure) and collects every string each brand got, with every
identifier-like token inside them (runs of 8 or more letters, digits, ``-`` or ``_``) and every
claim of every JWT. What the two brands share must be public vocabulary: what brand A also
shares with brand B *about another member* (purpose codes, field names, the issuer, the
controller's details, the DPV and Kantara text, times of a frozen clock). Anything shared about
this member and not about the other is an identifier that links them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.storage import client_registry, webhook_registry
from consent.context import Consent
from tests.conftest import GOOD_PASSWORD, AuthActions
from vault.clock import FrozenClock
from vault.home import Vault
from web.vaults import get_consent

from .test_authorization_code_flow import (
    DETAILS,
    TERMS,
    Brand,
    Endpoints,
    approve,
    authorization_request,
)

_TOKENS = re.compile(r"[A-Za-z0-9_-]{8,}")
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
HOOK = "https://93.184.216.34/hooks/"          # an IP literal: no DNS needed


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value (keys too), and the claims of every JWT among them."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value
        if _JWT.match(value):
            head, payload, _ = value.split(".")
            for part in (head, payload):
                # An opaque token may merely look like a JWT: then it holds nothing more.
                with contextlib.suppress(ValueError):
                    yield from strings(json.loads(_b64(part)))
    elif value is not None:
        yield str(value)


def identifiers(received: list[Any]) -> set[str]:
    found: set[str] = set()
    for document in received:
        for text in strings(document):
            if len(text) >= 8:
                found.add(text)
            found.update(_TOKENS.findall(text))
    return found


class BrandSide:
    """One brand's client and everything it received."""

    def __init__(self, registry: ClientRegistry, name: str, callback: str) -> None:
        client, secret = registry.create(name, [callback], ["bicycles"], accepts=["SD-BASE"])
        self.brand = Brand(client.client_id, secret, name)
        self.callback = callback
        self.received: list[Any] = []


def run_member_life(app: Flask, vault: Vault, member_client: FlaskClient,
                    brand_client: FlaskClient, email: str, brands: list[BrandSide]) -> None:
    """One member, start to end, with each brand; what each brand got goes in its list."""
    member_id = vault.members.register(email, GOOD_PASSWORD)
    auth = AuthActions(member_client)
    assert auth.login(email).status_code == 302
    with app.app_context():
        get_consent().terms.update(member_id, **TERMS)
    tokens = Endpoints(brand_client)
    for side in brands:
        asked = authorization_request(side.brand, redirect_uri=side.callback, details=DETAILS)
        redirect = approve(member_client, asked.url)
        location = redirect.headers["Location"]
        assert location.startswith(side.callback)
        params = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", location))
        side.received.append(location)
        body = tokens.exchange(side.brand, params["code"], asked.verifier,
                               redirect_uri=side.callback).get_json()
        side.received.append(body)
        refreshed = tokens.refresh(side.brand, body["refresh_token"]).get_json()
        side.received.append(refreshed)
        access = refreshed["access_token"]
        side.received.append(tokens.introspect(side.brand, access))
        for path in ("/api/v1/member", "/api/v1/member/profile", "/api/v1/member/feedback",
                     "/api/v1/member/receipts"):
            response = brand_client.get(path, headers={"Authorization": f"Bearer {access}"})
            assert response.status_code == 200, (path, response.get_data(as_text=True))
            side.received.append(response.get_json())
    with app.app_context():
        consent = get_consent()
        for side in brands:
            client = client_registry(database=vault.data, clock=vault.clock,
                                     hasher=ClientSecretHasher.from_master(vault.master)
                                     ).get(side.brand.client_id)
            agreement = consent.agreements.in_force(member_id, client.brand_id)
            assert agreement is not None and agreement.record
            side.received += [agreement.record, agreement.signature]
            # A withdrawal: receipts and a consent.withdrawn webhook.
            for grant in consent.grants.for_member(member_id):
                if grant.brand_id == client.brand_id and grant.live_at(vault.clock()):
                    consent.grants.withdraw(member_id, grant.id)
    # The erasure: member.erased to every brand that knew the member.
    response = auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"},
                         form_page="/member/delete")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def outbox_of(vault: Vault, side: BrandSide) -> list[Any]:
    rows = vault.data.all("SELECT event_id, payload FROM webhook_outbox WHERE client_id = ?",
                          (side.brand.client_id,))
    return [[row["event_id"], json.loads(row["payload"])] for row in rows]


@pytest.fixture
def registry(vault: Vault, clock: FrozenClock) -> ClientRegistry:
    return client_registry(database=vault.data, clock=clock,
                           hasher=ClientSecretHasher.from_master(vault.master))


def test_two_brands_share_no_identifier_of_the_member(app: Flask, vault: Vault,
                                                      consent: Consent,
                                                      registry: ClientRegistry) -> None:
    velo = BrandSide(registry, "Velo", "https://velo.example/cb")
    grocer = BrandSide(registry, "Fresh Grocer", "https://grocer.example/cb")
    hooks = webhook_registry(database=vault.data, clock=vault.clock)
    for side in (velo, grocer):
        hooks.add(side.brand.client_id, HOOK + side.brand.name.replace(" ", "-"))

    # Alice with both brands, then Bob with both (same brands, same frozen clock).
    run_member_life(app, vault, app.test_client(), app.test_client(), "alice@example.org",
                    [velo, grocer])
    alice = {id(velo): velo.received + outbox_of(vault, velo),
             id(grocer): grocer.received + outbox_of(vault, grocer)}
    seen = {id(side): len(outbox_of(vault, side)) for side in (velo, grocer)}
    velo.received, grocer.received = [], []
    run_member_life(app, vault, app.test_client(), app.test_client(), "bob@example.org",
                    [velo, grocer])
    bob_grocer = grocer.received + outbox_of(vault, grocer)[seen[id(grocer)]:]

    velo_alice = identifiers(alice[id(velo)])
    grocer_alice = identifiers(alice[id(grocer)])
    # Public vocabulary: what Velo got about Alice that Fresh Grocer got about Bob too.
    public = velo_alice & identifiers(bob_grocer)
    linking = (velo_alice & grocer_alice) - public
    assert linking == set()

    # The test sees what it must: each brand got its subject, receipts and webhooks.
    kinds = {text for text in strings(alice[id(velo)]) if text in
             ("consent.withdrawn", "member.erased", "dpv:hasDataSubject", "piiPrincipalId")}
    assert kinds == {"consent.withdrawn", "member.erased", "dpv:hasDataSubject",
                     "piiPrincipalId"}
    # And the vault's own principal of a member never reaches a brand.
    assert not any(text.startswith("member:") for text in velo_alice | grocer_alice)
