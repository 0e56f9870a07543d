"""Demo consent data: personal terms, IEEE 7012 agreements and grants held by demo brands.

Goes through the consent services (so every grant has its signed receipt and ledger entries),
for the showcase member and a seeded share of the other demo members.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from consent.context import Consent
from consent.grants import BrandRequest
from consent.model import Mode

from .members import SHOWCASE_EMAIL

SHARE = 0.05          # of the other demo members who share something with a brand
BATCH = 100           # members whose consents are committed together
_PURPOSES = ["dpv:ServiceProvision", "dpv:CustomerCare", "dpv:Personalisation",
             "dpv:ServiceOptimisation"]


@dataclass(frozen=True)
class ConsentDemoReport:
    members: int
    agreements: int
    grants: int


def load_consent_demo(consent: Consent, *, seed: int = 2026,
                      progress: Callable[[int], None] | None = None) -> ConsentDemoReport:
    vault = consent.vault
    brands = vault.brands.all()
    if len(brands) < 3:
        raise ValueError("load the vault demo first: it makes the demo brands")
    showcase = vault.accounts.find_by_index(vault.members.email_index(SHOWCASE_EMAIL))
    rng = random.Random(seed)
    others = vault.accounts.ids()
    chosen = [m for m in others if showcase is None or m != showcase.id]
    chosen = rng.sample(chosen, int(len(chosen) * SHARE))
    agreements = grants = 0
    if showcase is not None:
        a, g = _showcase(consent, showcase.id, brands)
        agreements, grants = agreements + a, grants + g
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start:start + BATCH]
        # A batch of members in one transaction of each store (the services' own transactions
        # join them; each ledger append is a savepoint): what commits is the same, in one
        # commit of each store per batch instead of one per step of each member.
        with vault.data.transaction(), consent.ledger.transaction():
            for member_id in batch:
                brand = rng.choice(brands)
                _terms(consent, member_id, "SD-BASE-ATP", 180)
                _agree(consent, member_id, brand.id)
                purpose = rng.choice(_PURPOSES)
                fields = frozenset(rng.sample(["category:contact", "category:preferences",
                                               "category:interests", "feedback"], 2))
                consent.grants.grant(member_id, BrandRequest(brand.id, purpose, fields,
                                                             days=rng.choice([30, 90, 180])))
        agreements, grants = agreements + len(batch), grants + len(batch)
        if progress is not None:
            progress(start + len(batch))
    return ConsentDemoReport(len(chosen) + (showcase is not None), agreements, grants)


def _terms(consent: Consent, member_id: str, agreement: str, days: int) -> None:
    consent.terms.update(member_id, agreement=agreement, purposes=_PURPOSES, max_days=days,
                         aggregate_allowed=True)


def _agree(consent: Consent, member_id: str, brand_id: str,
           counter: str | None = None) -> None:
    offer = consent.agreements.proffer(member_id, brand_id)
    if counter is None:
        consent.agreements.brand_accepts(offer.id, brand_id)
    else:
        consent.agreements.brand_counters(offer.id, brand_id, counter)
        consent.agreements.member_decides(offer.id, member_id, accept=True)


def _showcase(consent: Consent, member_id: str, brands: list) -> tuple[int, int]:  # type: ignore[type-arg]
    _terms(consent, member_id, "SD-BASE-ATP", 365)
    first, second, third = brands[0], brands[1], brands[2]
    _agree(consent, member_id, first.id)
    _agree(consent, member_id, second.id, counter="SD-BASE-A")
    _agree(consent, member_id, third.id)
    grants = consent.grants
    grants.grant(member_id, BrandRequest(
        first.id, "dpv:Personalisation",
        frozenset({"given_name", "category:interests", "clothing_size"}), days=180))
    grants.grant(member_id, BrandRequest(
        second.id, "dpv:CustomerCare", frozenset({"given_name", "category:contact"}), days=90))
    grants.grant(member_id, BrandRequest(
        third.id, "dpv:ServiceOptimisation", frozenset({"feedback"}), mode=Mode.AGGREGATE,
        days=365, retention_days=365))
    old, _ = grants.grant(member_id, BrandRequest(
        third.id, "dpv:ServiceProvision", frozenset({"category:contact"}), days=30))
    grants.withdraw(member_id, old.id)
    return 3, 4
