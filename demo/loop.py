"""Demo data for closing the loop: a "you said, we did" the showcase member sees, and a care
case they opened after a low score, answered by the brand.

Through the services (so the grants have their receipts, the release is paid from the brand's
budget and every step is in the ledger):

- Greenleaf Grocers' delivery panel: a seeded share of the other demo members (at most
  :data:`PANEL_MAX`) grant Greenleaf aggregate use of their journal for service optimisation
  and rate a delivery, so the release beside the "we did" has a cohort large enough to show;
- Greenleaf posts what it did about late deliveries; its release is made once, now;
- if the survey demo asked Spokesmith's community about riding through winter, the showcase
  member answers it and Spokesmith posts what it did about it (its release over the answers);
- the showcase member rates a late Spokesmith Cycles delivery 2 of 5 and asks Spokesmith to
  get back to them; Spokesmith answers (the case stays open for the brand to close through
  the API with the demo credentials).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from brand_gateway.insights.releases import PrivateReleases
from brand_gateway.insights.wedid import release_for
from brand_gateway.storage import privacy_budget
from community.loop import RELEASE_PURPOSES, Releaser
from community.storage import care_service, community_service, survey_service, wedid_service
from consent.context import Consent
from consent.grants import BrandRequest
from consent.model import Mode
from consent.vocabulary import AGREEMENT_BY_CODE, PURPOSE_BY_CODE
from vault.errors import NotFoundError

from .brand_clients import DEMO_ACCEPTS
from .members import SHOWCASE_EMAIL

LOOP_BRAND = "Greenleaf Grocers"
CARE_BRAND = "Spokesmith Cycles"
WINTER_SURVEY = "Riding through winter"      # one of the survey demo's (demo/surveys.py)
TOUCHPOINT = "delivery"
PURPOSE = "dpv:ServiceOptimisation"
PANEL_SHARE = 0.7
PANEL_MAX = 300
PANEL_TERM = "SD-BASE-A"          # service and the brand's own analytics, nothing more
_RATINGS = (1, 2, 2, 3, 3, 3, 4, 4, 4, 5)


@dataclass(frozen=True)
class LoopDemoReport:
    panel: int
    posts: int
    cases: int


def load_loop_demo(consent: Consent, *, seed: int = 2026) -> LoopDemoReport:
    vault = consent.vault
    brands = {b.name: b for b in vault.brands.all()}
    if LOOP_BRAND not in brands:
        raise ValueError("load the vault demo first: it makes the demo brands")
    brand = brands[LOOP_BRAND]
    showcase = vault.accounts.find_by_index(vault.members.email_index(SHOWCASE_EMAIL))
    rng = random.Random(seed)
    others = [m for m in vault.accounts.ids() if showcase is None or m != showcase.id]
    panel = rng.sample(others, min(PANEL_MAX, int(len(others) * PANEL_SHARE)))
    joined = sum(_join_panel(consent, member_id, brand.id, rng) for member_id in panel)
    if showcase is not None:
        _join_panel(consent, showcase.id, brand.id, rng, rate=False)

    budget = privacy_budget(database=vault.data, clock=vault.clock)
    releases = PrivateReleases(budget=budget)

    release = release_for(releases, budget, now=vault.clock())
    wedid_service(consent=consent).post(brand.id, {
        "subject_kind": "touchpoint", "subject": TOUCHPOINT,
        "said": "Deliveries came late, and fragile things arrived broken.",
        "did": "Two-hour delivery windows with a text message when the van is near, and eggs"
               " and glass now travel in their own padded crates.",
        "changed_on": vault.feedback.today().isoformat()}, release=release)
    posts = 1 + (_survey_loop(consent, brands[CARE_BRAND].id, showcase.id, release)
                 if showcase is not None and CARE_BRAND in brands else 0)
    cases = 0
    if showcase is not None and CARE_BRAND in brands:
        # A late e-bike: the showcase member rates it low and asks Spokesmith (a demo brand
        # with an OAuth client, so the case can be read and closed through the API).
        cycles = brands[CARE_BRAND].id
        entry = vault.feedback.add(showcase.id, {
            "brand_id": cycles, "touchpoint": "delivery", "rating": 2, "nps": 5,
            "comment": "The e-bike came a week late and nobody called to say so."})
        # The demo brands' clients (registered next) accept these terms as standing policy.
        care = care_service(consent=consent,
                            accepts_term=lambda brand_id, term: term in DEMO_ACCEPTS)
        case = care.ask(showcase.id, entry_id=entry)
        care.answer(cycles, case.id, "We are sorry: the courier lost a day at each depot. We"
                    " have refunded the delivery charge and now call before we ship.")
        cases = 1
    return LoopDemoReport(joined, posts, cases)


def _survey_loop(consent: Consent, brand_id: str, showcase_id: str,
                 release: Releaser) -> int:
    """If the survey demo asked Spokesmith's community about winter riding and the showcase
    member is in it: they answer it (unless they did), and Spokesmith posts what it did about
    it, its release counting the community's members who answered. How many posts (0 or 1)."""
    surveys = survey_service(consent=consent)
    communities = {c.id: c for c in community_service(consent).for_brand(brand_id)}
    winter = next((s for s in surveys.for_brand(brand_id, limit=50, offset=0)
                   if s.record.title == WINTER_SURVEY), None)
    if winter is None:
        return 0
    try:
        asked = surveys.for_member(showcase_id, winter.record.id)
    except NotFoundError:           # not put to the showcase member
        return 0
    if not asked.answers:
        kinds = {q.kind: q.position for q in winter.questions}
        surveys.answer(showcase_id, winter.record.id, {
            f"q{kinds['rating']}": "3", f"q{kinds['nps']}": "8"})
    purposes = communities[winter.record.community_id].purposes
    purpose = next(p for p in (*RELEASE_PURPOSES, *purposes) if p in purposes)
    wedid_service(consent=consent).post(brand_id, {
        "subject_kind": "survey", "subject": winter.record.id,
        "said": "Winter riding is hard on lights and tyres, and batteries lose range.",
        "did": "Every e-bike now leaves with brighter lights and winter tyres, and a free"
               " battery check before the first frost.",
        "changed_on": consent.vault.feedback.today().isoformat(), "purpose": purpose},
        release=release)
    return 1


def _join_panel(consent: Consent, member_id: str, brand_id: str, rng: random.Random, *,
                rate: bool = True) -> bool:
    """The member shares their journal with the brand in aggregate, for service optimisation
    (terms and agreement first, as a consent screen would record them), and rates a delivery.
    False (nothing done) for a member whose agreement with the brand does not allow it."""
    purpose = PURPOSE_BY_CODE[PURPOSE]
    in_force = consent.agreements.in_force(member_id, brand_id)
    if in_force is not None and not AGREEMENT_BY_CODE[str(in_force.agreed)].permits(purpose):
        return False
    terms = consent.terms.get(member_id)
    term = terms.agreement if AGREEMENT_BY_CODE[terms.agreement].permits(purpose) \
        else PANEL_TERM
    consent.terms.update(member_id, agreement=term,
                         purposes=sorted(terms.purposes | {PURPOSE}),
                         max_days=max(terms.max_days, 365), aggregate_allowed=True)
    if in_force is None:
        offer = consent.agreements.open_offer(member_id, brand_id)
        if offer is not None and offer.proffered != term:
            return False
        consent.agreements.brand_accepts((offer or consent.agreements.proffer(
            member_id, brand_id)).id, brand_id)
    consent.grants.grant(member_id, BrandRequest(
        brand_id, PURPOSE, frozenset({"feedback"}), mode=Mode.AGGREGATE, days=365,
        retention_days=365))
    if rate:
        consent.vault.feedback.add(member_id, {
            "brand_id": brand_id, "touchpoint": TOUCHPOINT, "rating": rng.choice(_RATINGS),
            "nps": rng.randint(0, 10)})
    return True
