"""Demo insight communities: communities of the demo brands, members in them, a challenge with
ideas and votes.

Everything goes through the community services (joining is consent grants with receipts and
ledger entries; ideas are sealed in their authors' vaults), for the showcase member and a seeded
share of the other demo members, at most :data:`MAX_JOINERS` per community so that a demo of a
million members still loads in seconds. A member whose standing terms were never saved gets
terms that allow aggregate-only use (the demo's members agree to be counted in totals); a member
who already shares with a brand for a community's purpose some other way is left out of that
community, as the join page would tell them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from community.storage import cocreation_service, community_service, membership_service
from consent.context import Consent
from vault.errors import ConflictError, ValidationError

from .members import SHOWCASE_EMAIL

SHARE = 0.3                 # of the other demo members who join a community
MAX_JOINERS = 250
RESEARCH = "dpv:ResearchAndDevelopment"
IMPROVING = "dpv:ServiceOptimisation"
#: (brand, name, what it is for, purposes, the showcase member joins it)
COMMUNITIES = (
    ("Spokesmith Cycles", "Spokesmith Repair Club",
     "Riders who help us shape how we service and repair e-bikes.", (RESEARCH, IMPROVING), True),
    ("Greenleaf Grocers", "Greenleaf Kitchen Panel",
     "Home cooks who tell us what to stock and how delivery should work.", (RESEARCH,), True),
    ("Northwave Mobile", "Northwave Coverage Circle",
     "Customers who help us decide where better coverage matters most.", (RESEARCH,), False),
)
CHALLENGE = ("How should our repair service work?",
             "Tell us what would make getting your e-bike repaired easy: booking, pick-up,"
             " a loan bike, updates while you wait, anything.")
IDEAS = (
    "Pick the bike up from my home and bring it back repaired.",
    "Lend me an e-bike while mine is in the workshop.",
    "Send a photo and a price before any repair starts.",
    "Evening and Saturday slots for small repairs while I wait.",
    "A yearly service plan with one fixed price.",
    "Show the repair's progress in the app, step by step.",
    "Mobile repair vans for flat tyres and brakes.",
    "Teach short maintenance classes so we can fix small things ourselves.",
)
SHOWCASE_IDEA = "Keep spare parts for older models, so a repair never turns into a new bike."


@dataclass(frozen=True)
class CommunityDemoReport:
    communities: int
    memberships: int
    ideas: int
    votes: int


def load_community_demo(consent: Consent, *, seed: int = 2026) -> CommunityDemoReport:
    vault = consent.vault
    brands = {b.name: b.id for b in vault.brands.all()}
    if not all(spec[0] in brands for spec in COMMUNITIES):
        raise ValueError("load the vault demo first: it makes the demo brands")
    rng = random.Random(seed)
    showcase = vault.accounts.find_by_index(vault.members.email_index(SHOWCASE_EMAIL))
    others = [m for m in vault.accounts.ids() if showcase is None or m != showcase.id]
    communities, memberships = community_service(consent), membership_service(consent)
    members: dict[str, list[str]] = {}
    for brand, name, description, purposes, with_showcase in COMMUNITIES:
        community = communities.open(brands[brand], name=name, description=description,
                                     purposes=purposes)
        chosen = rng.sample(others, min(MAX_JOINERS, int(len(others) * SHARE)))
        if with_showcase and showcase is not None:
            chosen.insert(0, showcase.id)
        joined = members[community.id] = []
        for member_id in chosen:
            if consent.terms.get(member_id).version == 0:
                consent.terms.update(member_id, agreement="SD-BASE", purposes=[],
                                     max_days=30, aggregate_allowed=True)
            try:
                memberships.join(member_id, community.id, individual=rng.random() < 0.2)
            except (ConflictError, ValidationError):
                continue        # sharing with the brand already, or terms that refuse it
            joined.append(member_id)
    first = next(iter(members))       # the first community of COMMUNITIES
    ideas, votes = _co_create(consent, brands[COMMUNITIES[0][0]], first, members[first],
                              showcase.id if showcase else None, rng)
    return CommunityDemoReport(len(COMMUNITIES), sum(map(len, members.values())), ideas,
                               votes)


def _co_create(consent: Consent, brand_id: str, community_id: str, joined: list[str],
               showcase: str | None, rng: random.Random) -> tuple[int, int]:
    """The first community's challenge: ideas by some members (the showcase member's among
    them), votes by many, one idea taken up."""
    cocreation = cocreation_service(consent)
    challenge = cocreation.open_challenge(brand_id, community_id, title=CHALLENGE[0],
                                          description=CHALLENGE[1])
    others = [m for m in joined if m != showcase]
    authors = rng.sample(others, min(len(IDEAS), len(others)))
    posted = [(author, cocreation.post(author, challenge.id, text).id)
              for author, text in zip(authors, IDEAS, strict=False)]
    if showcase in joined:
        posted.append((showcase, cocreation.post(showcase, challenge.id, SHOWCASE_IDEA).id))
    votes = 0
    for voter in joined:
        if voter == showcase:
            continue            # the showcase member's votes are theirs to give on the page
        for author, idea_id in rng.sample(posted, min(len(posted), rng.randint(0, 3))):
            if author != voter:
                cocreation.vote(voter, idea_id)
                votes += 1
    if posted:
        cocreation.take_up(brand_id, posted[0][1])
    return len(posted), votes
