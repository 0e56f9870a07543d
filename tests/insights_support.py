"""Insights test helpers: a brand's community of members, each with a grant made through the
consent services (receipt and ledger entry included) and journal entries made through the
vault's feedback service, in numbers a cohort needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from brand_gateway.clients import OAuthClient
from consent.context import Consent
from tests.brand_api_support import BrandApi
from vault.home import Vault

PURPOSE = "dpv:ServiceOptimisation"


@dataclass
class Community:
    """Members of one brand, each with a grant (through the consent services: receipt and
    ledger entry included) and journal entries (through the vault's feedback service).

    Members share one password hash (as the demo loader does): argon2id per member would
    make a cohort of 60 take seconds."""

    vault: Vault
    consent: Consent
    brand_id: str
    api: BrandApi
    client: OAuthClient
    _count: int = 0
    _hash: str = ""

    def member(self, *, fields: Sequence[str] | None = ("feedback",), purpose: str = PURPOSE,
               entries: Sequence[tuple[str, int, int | None]] = (), days: int = 30,
               profile: dict[str, Any] | None = None) -> str:
        """A member with ``entries`` (touchpoint, rating, nps) about the brand and, unless
        ``fields`` is None, a grant of them for ``purpose``."""
        if not self._hash:
            self._hash = self.vault.password_hasher.hash("correct horse battery staple")
        self._count += 1
        email = f"member{self._count}@example.org"
        member_id = self.vault.members.insert(
            email=email, index=self.vault.members.email_index(email), password_hash=self._hash)
        for touchpoint, rating, nps in entries:
            self.add(member_id, touchpoint, rating, nps)
        if profile:
            self.vault.profile.update(member_id, profile)
        if fields is not None:
            self.api.grant(member_id, self.client, purpose, fields, days=days)
        return member_id

    def add(self, member_id: str, touchpoint: str, rating: int, nps: int | None) -> int:
        return self.vault.feedback.add(member_id, {
            "brand_id": self.brand_id, "touchpoint": touchpoint, "rating": rating, "nps": nps,
            "comment": "", "occurred_on": self.vault.feedback.today().isoformat()})

    def grant_of(self, member_id: str, purpose: str = PURPOSE) -> str:
        return next(g.id for g in self.consent.grants.for_member(member_id)
                    if g.purpose == purpose and g.brand_id == self.brand_id
                    and g.status.value == "active")


def make_community(vault: Vault, consent: Consent, name: str = "Velo Bikes") -> Community:
    api = BrandApi(vault, consent)
    client = api.brand(name)
    return Community(vault, consent, client.brand_id, api, client)
