"""Brand API test helpers: brands with OAuth clients, members' grants, and access tokens.

Member-delegated tokens are made the way the authorization code flow makes them, without HTTP:
the member's terms and an IEEE 7012 agreement with the brand, a grant through the consent
services (receipt and ledger entry included), a token family naming the grant and the
authorization details as approved, then a token in the store. Use it from a test module::

    api = BrandApi(vault, consent)
    velo = api.brand("Velo Bikes")
    issued = api.member_token(alice.id, velo, {"dpv:Personalisation": ["given_name", "city"]})
    client.get("/api/v1/member/profile", headers=issued.headers)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from brand_gateway.authorizations import Family
from brand_gateway.clients import ClientSecretHasher, OAuthClient
from brand_gateway.rar import MemberDataDetail
from brand_gateway.storage import (
    authorization_store,
    client_registry,
    pairwise_pseudonyms,
    token_store,
)
from brand_gateway.tokens import ACCESS_TOKEN_LIFETIME, new_access_token
from consent.context import Consent
from consent.grants import BrandRequest
from consent.model import Grant
from consent.vocabulary import FIELD_CATEGORY, PURPOSES
from vault.home import Vault

CALLBACK = "https://brand.example/oauth/callback"
ALL_PURPOSES = [p.code for p in PURPOSES]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class IssuedToken:
    """A member-delegated access token and what it was issued over."""

    token: str
    client: OAuthClient
    member_id: str
    grants: tuple[Grant, ...]
    family: Family

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    @property
    def grant(self) -> Grant:
        return self.grants[0]


class BrandApi:
    """Factories over one open vault and its consent services (the app's store and clock)."""

    def __init__(self, vault: Vault, consent: Consent) -> None:
        self.vault = vault
        self.consent = consent
        self.clock = vault.clock
        self.clients = client_registry(database=vault.data, clock=self.clock,
                                       hasher=ClientSecretHasher.from_master(vault.master))
        self.tokens = token_store(database=vault.data, clock=self.clock)
        self.authorizations = authorization_store(database=vault.data, clock=self.clock)

    # -- brands -----------------------------------------------------------------------------------
    def brand(self, name: str = "Velo Bikes") -> OAuthClient:
        client, _ = self.clients.create(name, [CALLBACK])
        return client

    def subject(self, member_id: str, client: OAuthClient) -> str:
        return pairwise_pseudonyms(database=self.vault.data, master=self.vault.master
                                   ).compute(member_id, client.brand_id)

    def brand_token(self, client: OAuthClient, scope: str = "webhooks:manage") -> str:
        """A brand-level (client credentials) token: no member behind it."""
        token = new_access_token()
        self.tokens.save(token, client_id=client.client_id, grant_type="client_credentials",
                         scope=scope, expires_in=ACCESS_TOKEN_LIFETIME)
        return token

    # -- members' consent -------------------------------------------------------------------------
    def accept_everything(self, member_id: str) -> None:
        """Terms accepting every purpose, unless the member has them already."""
        terms = self.consent.terms.get(member_id)
        if set(ALL_PURPOSES) <= set(terms.purposes) and terms.max_days >= 365:
            return
        self.consent.terms.update(member_id, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                                  max_days=365, aggregate_allowed=True)

    def agree(self, member_id: str, client: OAuthClient) -> None:
        if self.consent.agreements.in_force(member_id, client.brand_id) is None:
            offer = self.consent.agreements.proffer(member_id, client.brand_id)
            self.consent.agreements.brand_accepts(offer.id, client.brand_id)

    def grant(self, member_id: str, client: OAuthClient, purpose: str, fields: Iterable[str],
              *, days: int = 30, **request: Any) -> Grant:
        self.accept_everything(member_id)
        self.agree(member_id, client)
        grant, _ = self.consent.grants.grant(
            member_id, BrandRequest(client.brand_id, purpose, frozenset(fields), days=days,
                                    **request))
        return grant

    # -- tokens -----------------------------------------------------------------------------------
    def member_token(self, member_id: str, client: OAuthClient,
                     purposes: Mapping[str, Iterable[str]] | None = None, *, days: int = 30,
                     lifetime: int = ACCESS_TOKEN_LIFETIME) -> IssuedToken:
        """Grant each purpose its fields, then issue a token over those grants."""
        wanted = purposes or {"dpv:Personalisation": ["given_name", "city", "interests"]}
        grants = tuple(self.grant(member_id, client, purpose, fields, days=days)
                       for purpose, fields in wanted.items())
        return self.token_for(member_id, client, grants, lifetime=lifetime)

    def token_for(self, member_id: str, client: OAuthClient, grants: Iterable[Grant], *,
                  lifetime: int = ACCESS_TOKEN_LIFETIME) -> IssuedToken:
        """A token over existing grants, their details as the consent screen would grant them."""
        grants = tuple(grants)
        details = []
        for grant in grants:
            fields = tuple(f for f in FIELD_CATEGORY if f in grant.covered)
            detail = MemberDataDetail(grant.purpose, fields)
            details.append(detail.as_granted(fields, grant_id=grant.id, ends_at=grant.ends_at))
        family = self.authorizations.create_family(
            client_id=client.client_id, member_id=member_id, grant_ids=[g.id for g in grants],
            authorization_details=details, grants_end=max(g.ends_at for g in grants))
        token = new_access_token()
        self.tokens.save(token, client_id=client.client_id, grant_type="authorization_code",
                         scope="", expires_in=lifetime, family_id=family.id)
        return IssuedToken(token, client, member_id, grants, family)
