"""A member's first contact with a brand: what an authorization request needs of their terms.

A request is measured against the member's terms before the member is asked
(:meth:`consent.grants.ConsentService.breaches`). :func:`assess` sorts what it breaks:

- **absolute** (GPC opt-out of a purpose that sells or shares, fields that do not exist,
  anything :class:`~consent.grants.BreachKind` calls absolute, and a term the brand will not
  agree): refused before the member is asked, as before;
- **relaxable, for this brand only** (:class:`Relaxation`): a purpose the member has not
  accepted yet, a grant longer than their longest, and no agreed IEEE 7012 term with the brand
  (or one too narrow for the purpose). The consent screen says which, in plain words, and
  :func:`relax` records the member's acceptance in one data-store transaction: the agreement,
  then the terms for this brand with their signed receipt; then the normal consent screen.

Why per brand and not in the standing terms: the standing terms are the member's considered
defaults, measured against *every* brand's request (data protection by default, GDPR Art. 25).
Accepting Velo Bikes's request should not make the next brand's request for the same purpose
reach the member unasked-for; and a purpose is only acceptable under a term that permits it,
which is agreed per brand (IEEE 7012), while the standing terms must stay within the term the
member proffers to everyone.

Which term: the open counter-offer of the brand if there is one (the member answers it here as
on the Sharing page); otherwise a term the brand accepts as standing policy (its client's
``accepted_agreements``): the member's offer if the brand accepts it and it permits every
purpose asked for, else the narrowest such term, offered as the brand's counter-offer to the
member's standing term, or as the member's own offer to this brand when the brand accepts the
standing term but the purpose needs more. No Flask here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from consent.context import Consent
from consent.grants import Breach, BreachKind
from consent.model import AgreementRecord, AgreementStatus
from consent.vocabulary import AGREEMENT_BY_CODE, AGREEMENTS, PURPOSE_BY_CODE, Agreement, Purpose

from .clients import OAuthClient
from .rar import MemberDataDetail


class Step(StrEnum):
    """How the term gets agreed."""

    STANDING = "standing"                # the brand accepts the member's standing term
    OWN_OFFER = "own-offer"              # the member offers this brand a broader term
    ACCEPT_OFFER = "accept-offer"        # the brand accepts the member's waiting offer
    COUNTER = "counter"                  # the brand counters with its term; the member accepts
    ACCEPT_COUNTER = "accept-counter"    # the member accepts the brand's open counter-offer


@dataclass(frozen=True)
class Relaxation:
    """What the member is asked to accept for one brand before the consent screen."""

    brand_id: str
    standing_term: str                   # the term the member proffers to every brand
    purposes: tuple[str, ...] = ()       # purposes to accept for this brand
    max_days: int | None = None          # the longest grant to allow for this brand
    current_max_days: int = 0
    term: str | None = None              # the IEEE 7012 term to agree with the brand
    step: Step | None = None
    offer_id: str | None = None          # the open offer this answers, if any
    narrow_term: str | None = None       # the agreed term too narrow for a purpose, if any

    @property
    def purpose_specs(self) -> list[Purpose]:
        return [PURPOSE_BY_CODE[p] for p in self.purposes]

    @property
    def agreement(self) -> Agreement | None:
        return AGREEMENT_BY_CODE.get(self.term or "")

    @property
    def standing(self) -> Agreement:
        return AGREEMENT_BY_CODE[self.standing_term]

    @property
    def fingerprint(self) -> str:
        """A digest of what the member was shown: an answer to another screen is refused."""
        text = json.dumps([self.brand_id, self.purposes, self.max_days, self.term,
                           self.step, self.offer_id], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Assessment:
    absolute: list[tuple[str, str]] = field(default_factory=list)   # (purpose label, reason)
    relaxation: Relaxation | None = None
    new_term: str | None = None          # agreed on approval: the brand accepts the standing term


def assess(consent: Consent, client: OAuthClient, member_id: str,
           details: Sequence[MemberDataDetail]) -> Assessment:
    brand_id = client.brand_id
    standing = consent.terms.get(member_id).agreement
    agreement = consent.agreements.in_force(member_id, brand_id)
    offer = consent.agreements.open_offer(member_id, brand_id)
    new_term = None
    if agreement is None and standing in client.accepted_agreements and (
            offer is None or (offer.status is AgreementStatus.PROFFERED
                              and offer.proffered == standing)):
        new_term = standing
    absolute: list[tuple[str, str]] = []
    relaxable: dict[MemberDataDetail, list[Breach]] = {}
    for detail in details:
        label = PURPOSE_BY_CODE[detail.purpose].label
        for breach in consent.grants.breaches(member_id, detail.brand_request(brand_id),
                                              assume_agreement=new_term):
            if breach.relaxable:
                relaxable.setdefault(detail, []).append(breach)
            else:
                absolute.append((label, breach.reason))
    if absolute or not relaxable:
        return Assessment(absolute, None, new_term)
    kinds = {d: {b.kind for b in found} for d, found in relaxable.items()}
    purposes = tuple(d.purpose for d, k in kinds.items() if BreachKind.PURPOSE in k)
    longer = [d.duration_days for d, k in kinds.items() if BreachKind.DURATION in k]
    relaxation = Relaxation(
        brand_id, standing, purposes, max(longer) if longer else None,
        consent.terms.for_brand(member_id, brand_id).max_days,
        narrow_term=agreement.agreed if agreement is not None else None)
    if any(BreachKind.AGREEMENT in k for k in kinds.values()):
        wanted = [PURPOSE_BY_CODE[d.purpose] for d in details]
        term, step, refusal = _term(client, standing, offer, wanted)
        if refusal is not None:
            return Assessment([(", ".join(p.label for p in wanted), refusal)], None, new_term)
        relaxation = replace(relaxation, term=term, step=step,
                           offer_id=offer.id if offer is not None else None)
    elif new_term is not None:
        relaxation = replace(relaxation, term=new_term, step=Step.STANDING,
                           offer_id=offer.id if offer is not None else None)
    return Assessment([], relaxation, new_term)


def _term(client: OAuthClient, standing: str, offer: AgreementRecord | None,
          wanted: list[Purpose]) -> tuple[str | None, Step | None, str | None]:
    """The term to agree with the brand and how, or why none can be."""
    def permits(code: str) -> bool:
        return all(AGREEMENT_BY_CODE[code].permits(p) for p in wanted)

    labels = ", ".join(p.label.lower() for p in wanted)
    if offer is not None and offer.status is AgreementStatus.COUNTERED:
        assert offer.countered is not None
        if permits(offer.countered):
            return offer.countered, Step.ACCEPT_COUNTER, None
        return None, None, (f"{client.brand_name} proposed the term {offer.countered} instead "
                            f"of yours, which does not allow {labels}. Answer it on your "
                            "Sharing page.")
    candidates = [a for a in AGREEMENTS if a.code in client.accepted_agreements
                  and permits(a.code)]
    if offer is not None and offer.proffered in {a.code for a in candidates}:
        return offer.proffered, Step.ACCEPT_OFFER, None
    if not candidates:
        return None, None, (f"{client.brand_name} agrees to no IEEE 7012 term that allows "
                            f"{labels}.")
    # The narrowest term that does what was asked; portability (DP) first, as it binds the
    # brand, not the member.
    term = min(candidates, key=lambda a: (len(a.uses), a.anonymised_third_party,
                                          not a.portability)).code
    if offer is not None or standing not in client.accepted_agreements:
        return term, Step.COUNTER, None
    return term, Step.OWN_OFFER, None


def relax(consent: Consent, member_id: str, relaxation: Relaxation) -> None:
    """Record what the member accepted for the brand: the agreement (if one is needed), then
    the terms for this brand with their signed receipt. Call inside one data-store
    transaction; raises the consent services' ``ValidationError`` / ``ConflictError`` /
    ``NotFoundError`` if the state moved on since the member was shown the screen."""
    agreements = consent.agreements
    brand_id = relaxation.brand_id
    term = relaxation.term
    step = relaxation.step
    if step is Step.ACCEPT_COUNTER:
        assert relaxation.offer_id is not None
        agreements.member_decides(relaxation.offer_id, member_id, accept=True)
    elif step is Step.ACCEPT_OFFER:
        assert relaxation.offer_id is not None
        agreements.brand_accepts(relaxation.offer_id, brand_id)
    elif step is Step.STANDING:
        offer_id = relaxation.offer_id or agreements.proffer(member_id, brand_id).id
        agreements.brand_accepts(offer_id, brand_id)
    elif step is Step.OWN_OFFER:
        offer = agreements.proffer(member_id, brand_id, term=term)
        agreements.brand_accepts(offer.id, brand_id)
    elif step is Step.COUNTER:
        assert term is not None
        offer_id = relaxation.offer_id or agreements.proffer(member_id, brand_id).id
        agreements.brand_counters(offer_id, brand_id, term)
        agreements.member_decides(offer_id, member_id, accept=True)
    if relaxation.purposes or relaxation.max_days is not None:
        agreed = agreements.in_force(member_id, brand_id)
        assert agreed is not None and agreed.agreed is not None
        consent.terms.accept_for_brand(member_id, brand_id, agreement=agreed.agreed,
                                       purposes=relaxation.purposes,
                                       max_days=relaxation.max_days)
