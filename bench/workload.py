"""Filling a vault the way the product does: through its own services, with realistic data.

Two variants of the same vault: ``encrypted`` (``VaultHome.initialise`` + ``open``: SQLCipher and
per-member sealing, as shipped) and ``plaintext`` (:func:`vault.home.unsafe_open_plaintext_vault`:
the very same services and storage code with both off). Benchmarks compare the two; nothing else
here knows which one it is filling.

Invariants: entries are drawn from a seeded generator, so every variant and every repetition
stores the same brands, touchpoints, ratings, NPS scores, comments and dates (only ids, keys and
nonces are random); every value would pass the product's own validation.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.catalog import ATTRIBUTES, TOUCHPOINTS, DataType
from vault.feedback import FeedbackInput
from vault.home import Vault, VaultHome, unsafe_open_plaintext_vault
from vault.keys import Pseudonymiser
from vault.passwords import PasswordHasher

ENCRYPTED = "encrypted"
PLAINTEXT = "plaintext"
VARIANTS = (ENCRYPTED, PLAINTEXT)

MEMBERS_PER_TRANSACTION = 1000
PASSWORD = "quiet benchmark members share one passphrase"

# name, categories, what was bought (for comments), relative share of entries
BRANDS: tuple[tuple[str, tuple[str, ...], str, int], ...] = (
    ("Spokesmith Cycles", ("bikes", "sport"), "e-bike", 3),
    ("Greenleaf Grocers", ("groceries",), "weekly shop", 6),
    ("Northwave Mobile", ("telecom",), "phone plan", 5),
    ("Atelier Lume", ("fashion",), "winter coat", 4),
    ("Skylark Airways", ("travel",), "flight", 3),
    ("Voltbox Electronics", ("electronics",), "laptop", 4),
    ("Oakhaven Furniture", ("furniture",), "sofa", 2),
    ("Harbour & Pine Bank", ("finance",), "current account", 3),
)
TOUCHPOINT_KEYS = tuple(key for key, _ in TOUCHPOINTS)
COMMENT_SHARE = 0.6            # entries with a comment
NPS_SHARE = 0.45               # entries with an NPS score
DAYS = 730                     # entries fall within the last two years
_RATING_WEIGHTS = (6, 10, 19, 35, 30)
_NPS_BY_RATING = {1: (0, 1, 2, 3), 2: (2, 3, 4, 5), 3: (4, 5, 6, 7),
                  4: (6, 7, 8, 9), 5: (8, 9, 10)}

# Sentences a comment is built from: short and long, with the brand, item and numbers varied.
_SENTENCES = (
    "Delivered a day early and the driver was careful with the {item}.",
    "Checkout was quick.",
    "Forty-five minutes on hold, then the line dropped.",
    "The {item} still does exactly what I need after {n} months.",
    "{brand} answered my e-mail within {n} hours, which I did not expect.",
    "Prices went up by {n}% without any warning.",
    "Friendly staff, no pressure to buy extras.",
    "The app logged me out twice while I was paying.",
    "Returned it without questions and had my money back in {n} days.",
    "Support at {brand} passed me around three departments before anyone could help.",
    "Good value.",
    "The invoice is correct but very hard to read.",
    "My loyalty points expired without any notice.",
    "Setting up took ten minutes and the instructions were clear.",
    "The {item} arrived damaged; the box was soaked.",
    "I would recommend {brand} to friends, mostly for the service.",
    "Not what the advert promised.",
    "Comparing options on the website was easy, the filters actually work.",
    "A real person picked up the phone. Rare these days!",
    "Tracking said delivered at {n}:15. It was not.",
    "Fine most days, with the odd hiccup.",
    "The new-customer deal is better than what loyal customers get, which is frustrating.",
    "Ordered on Sunday, arrived on Tuesday.",
    "Asked for a refund {n} times before it went through.",
    "The shop assistant knew a lot about the {item} and took her time.",
    "Clear prices up front, no surprises.",
)


@dataclass(frozen=True)
class Draft:
    """An entry before the store gives its brand and member ids; indexes instead."""

    member: int
    brand: int
    touchpoint: str
    rating: int
    nps: int | None
    comment: str
    occurred_on: str


def drafts(count: int, *, members: int, seed: int, member: int | None = None) -> list[Draft]:
    """``count`` entries spread at random over ``members`` members (or all by ``member``)."""
    rng = random.Random(seed)
    today = dt.date.today()
    days = [(today - dt.timedelta(days=d)).isoformat() for d in range(DAYS)]
    brand_weights = [weight for *_, weight in BRANDS]
    result = []
    for _ in range(count):
        brand = rng.choices(range(len(BRANDS)), brand_weights)[0]
        rating = rng.choices(range(1, 6), _RATING_WEIGHTS)[0]
        nps = rng.choice(_NPS_BY_RATING[rating]) if rng.random() < NPS_SHARE else None
        text = comment(rng, brand) if rng.random() < COMMENT_SHARE else ""
        result.append(Draft(
            member if member is not None else rng.randrange(members), brand,
            rng.choice(TOUCHPOINT_KEYS), rating, nps, text, rng.choice(days),
        ))
    return result


def comment(rng: random.Random, brand: int) -> str:
    """Free text of a typical length: 30 to 200 characters, most around 60-100."""
    name, _, item, _ = BRANDS[brand]
    wanted = int(rng.triangular(30, 200, 70))
    text = ""
    while len(text) < wanted:
        sentence = rng.choice(_SENTENCES).format(brand=name, item=item, n=rng.randint(2, 40))
        longer = f"{text} {sentence}" if text else sentence
        if len(text) >= 30 and len(longer) > wanted:
            break                                   # people stop before they ramble on
        text = longer
    if len(text) > 200:
        text = text[:200].rsplit(" ", 1)[0]
    return text if len(text) >= 30 else (text + " Nothing else to add, really.")


def entries(
    batch: Sequence[Draft], member_ids: Sequence[str], brand_ids: Sequence[str]
) -> list[tuple[str, FeedbackInput]]:
    return [
        (member_ids[d.member], FeedbackInput(brand_ids[d.brand], d.touchpoint, d.rating, d.nps,
                                             d.comment, d.occurred_on))
        for d in batch
    ]


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


# -- vaults -------------------------------------------------------------------------------
def create_vault(variant: str, root: Path) -> Vault:
    """A new, empty vault of ``variant`` in ``root``."""
    if variant == ENCRYPTED:
        home = VaultHome(root / "var")
        home.initialise({})        # {}: a fresh key file, whatever VRMVAULT_MASTER_KEY says
    return reopen_vault(variant, root)


def reopen_vault(variant: str, root: Path) -> Vault:
    """The vault in ``root`` opened again: new connections, empty caches (pages, member keys)."""
    if variant == ENCRYPTED:
        home = VaultHome(root / "var")
        return home.open(home.master_key({}))
    if variant == PLAINTEXT:
        return unsafe_open_plaintext_vault(root / "var")
    raise ValueError(f"unknown variant {variant!r}")


@functools.cache
def password_hash() -> str:
    # One argon2id hash for every benchmark member, as the demo loader does: hashing is the
    # sign-up's cost, not the store's, and would drown what these benchmarks measure.
    return PasswordHasher().hash(PASSWORD)


def add_brands(vault: Vault) -> list[str]:
    return [vault.brands.add(name, categories).id for name, categories, _, _ in BRANDS]


def add_members(vault: Vault, count: int, *, first: int = 0) -> list[str]:
    """``count`` members through :meth:`MemberService.insert`, as sign-up and the demo do."""
    # The same HMAC key MemberService is given in vault.home.
    blind_index = Pseudonymiser(vault.master.derive("blind-index"))
    digest = password_hash()
    member_ids = []
    for start in range(first, first + count, MEMBERS_PER_TRANSACTION):
        # Data store outermost, so the key store's batch commits first (as demo.members does).
        with vault.data.transaction(), vault.keys_database.transaction():
            for n in range(start, min(first + count, start + MEMBERS_PER_TRANSACTION)):
                email = f"member{n}@bench.vrmvault.example"
                member_ids.append(vault.members.insert(
                    email=email, index=blind_index.digest(email), password_hash=digest
                ))
    return member_ids


def full_profile() -> dict[str, Any]:
    """A value for every catalog attribute, as a member who filled in everything would have."""
    text = {
        "given_name": "Robin", "family_name": "van den Berg", "preferred_name": "Rob",
        "street_address": "Keizersgracht 123", "postal_code": "1015 CJ", "city": "Amsterdam",
        "occupation": "Product designer", "religion": "Humanist",
        "health_conditions": "Hay fever in spring; otherwise nothing brands need to know.",
        "hobbies": "Weekend bike rides, sourdough baking and the occasional chess tournament",
        "values_statement": "I buy fewer, better things and expect brands to repair what they"
                            " sell. Please write to me once a month at most.",
    }
    by_type = {
        DataType.EMAIL: "robin.vandenberg@mail.example", DataType.PHONE: "+31 6 1234 5678",
        DataType.DATE: "1988-04-17", DataType.COUNTRY: "NL",
    }
    profile: dict[str, Any] = {}
    for spec in ATTRIBUTES:
        if spec.type is DataType.CHOICE:
            profile[spec.key] = spec.choices[len(spec.choices) // 2]
        elif spec.type is DataType.CHOICES:
            profile[spec.key] = list(spec.choices[:3])
        elif spec.type is DataType.INTEGER:
            profile[spec.key] = spec.minimum + 2 if spec.minimum is not None else 3
        else:
            profile[spec.key] = by_type.get(spec.type) or text.get(spec.key) or "Not telling"
    return profile


@dataclass(frozen=True)
class MemberStore:
    """A store holding one member of interest among others (erasure and export benchmarks)."""

    member_id: str
    member_entries: int
    profile_values: int
    sessions: int
    other_members: int
    other_entries: int


def fill_member_store(
    vault: Vault, *, entries_of_member: int, other_members: int, entries_per_other: int,
    seed: int,
) -> MemberStore:
    """One member with a full profile, a session and many entries, among ``other_members``.

    The entries of everyone are shuffled before they are written in batches, so the member's
    rows are spread over the file as they would be after years of use, not one contiguous run.
    """
    brand_ids = add_brands(vault)
    member_ids = add_members(vault, other_members + 1)
    member = other_members                         # the last one is the member of interest
    rows = drafts(entries_of_member, members=1, seed=seed, member=member)
    rows += drafts(other_members * entries_per_other, members=other_members, seed=seed + 1)
    random.Random(seed + 2).shuffle(rows)
    for batch in batches(rows, 5000):
        vault.feedback.add_many(entries(batch, member_ids, brand_ids))
    profile = vault.profile.update(member_ids[member], full_profile())
    for other in member_ids[:other_members]:
        vault.profile.update(other, {"city": "Utrecht", "country": "NL",
                                     "interests": ["cycling", "books"]})
    vault.sessions.create(member_id=member_ids[member], data={}, device="Firefox on Linux")
    # A store in steady use has its write-ahead log folded back regularly; start from there.
    vault.data.checkpoint()
    vault.keys_database.checkpoint()
    return MemberStore(member_ids[member], entries_of_member, len(profile), 1,
                       other_members, other_members * entries_per_other)
