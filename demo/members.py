"""Demo members: the demo brands, then members with partial profiles and a feedback journal.

:func:`load_demo` fills a vault for a guided tour or a load test: eight demo brands (created only
if no brand of that name exists), then ``members`` members. The first is the showcase login
(``demo@vrmvault.example`` / :data:`DEMO_PASSWORD`) with a full, hand-written profile and journal;
the rest are ``member{n}@demo.vrmvault.example`` with a random subset of the catalog and 0-8
feedback entries each.

Invariants:
- Nothing is written in clear: members go through :meth:`MemberService.insert_many` (blind
  index plus sealed address), profile values through :meth:`ProfileService.seal_rows`,
  feedback through :meth:`FeedbackService.add_many`, i.e. the services' own sealing code paths.
- Every profile value is already canonical: ``vault.catalog.coerce(key, value) == value``; every
  feedback entry would pass :func:`vault.feedback.validate` (dates within the last two years).
- Loading twice never duplicates: if the showcase address is registered, :class:`ConflictError`
  and nothing is written.
- One transaction per :data:`BATCH_MEMBERS` members on each store, and the key store's cipher
  cache is emptied after every batch, so memory stays flat whatever ``members`` is. The key store
  batch commits before the data store batch: an interrupted load leaves at worst unused keys,
  never a member whose key is missing.
- The same ``seed`` gives the same values (member ids, keys and nonces are random regardless).
"""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vault.brands import BrandDirectory
from vault.catalog import BY_KEY
from vault.errors import ConflictError, ValidationError
from vault.feedback import FeedbackInput
from vault.home import Vault

from .content import (
    DEMO_BRANDS,
    ENTRY_COUNT_WEIGHTS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    HEALTH_CONDITIONS,
    HOBBIES,
    LIFE_STAGES,
    LOCATIONS,
    NICKNAMES,
    NPS_BY_RATING,
    OCCUPATIONS,
    RATING_WEIGHTS,
    RELIGIONS,
    SENTIMENT,
    SHOWCASE_JOURNAL,
    SHOWCASE_PROFILE,
    STATEMENTS,
    TEMPLATES,
)

# Checked against vault.passwords.problems, also with the showcase address as context (a
# passphrase containing "demo" would be refused for demo@vrmvault.example).
DEMO_PASSWORD = "guided vault tour 2026"
SHOWCASE_EMAIL = "demo@vrmvault.example"
MEMBER_EMAIL = "member{n}@demo.vrmvault.example"
BATCH_MEMBERS = 1000

FEEDBACK_DAYS = 730          # entries fall within the last two years
COMMENT_SHARE = 0.6
NPS_SHARE = 0.45
SENSITIVE_SHARE = 0.05       # members who fill in any special-category attribute
_POOL = 4096                 # precomputed random subsets for the multi-choice attributes


@dataclass(frozen=True)
class DemoReport:
    brands: int                # demo brands the feedback is about
    brands_added: int          # of those, created by this load (the others existed already)
    members: int
    feedback_entries: int
    profile_values: int
    seconds: float
    feedback_seconds: float    # time inside FeedbackService.add_many (sealing and inserting)

    @property
    def feedback_per_second(self) -> float:
        return self.feedback_entries / self.feedback_seconds if self.feedback_seconds else 0.0


def load_demo(
    vault: Vault,
    *,
    members: int,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Create the demo brands and ``members`` demo members; :class:`ConflictError` if loaded."""
    if members < 1:
        raise ValidationError({"members": ["At least 1: the showcase member."]})
    started = time.perf_counter()
    email_index = vault.members.email_index
    if vault.accounts.find_by_index(email_index(SHOWCASE_EMAIL)) is not None:
        raise ConflictError(
            f"Demo data is loaded already ({SHOWCASE_EMAIL} is registered); "
            "load it into a fresh vault instead."
        )
    brand_ids, added = _ensure_brands(vault.brands)
    generator = _Generator(random.Random(seed), brand_ids, vault.feedback.today())
    # Every demo member shares one argon2id hash of DEMO_PASSWORD: at the product's hashing
    # cost (tens of milliseconds each) 100,000 separate hashes would take hours.
    password_hash = vault.password_hasher.hash(DEMO_PASSWORD)
    now = int(vault.clock())
    insert_members = vault.members.insert_many
    seal_profile = vault.profile.seal_rows
    entries_total = values_total = 0
    feedback_seconds = 0.0
    for start in range(0, members, BATCH_MEMBERS):
        stop = min(members, start + BATCH_MEMBERS)
        # Data outermost: the key store's batch commits first (see the module docstring).
        with vault.accounts.transaction(), vault.key_store.transaction():
            profile_rows: list[tuple[str, str, bytes, int]] = []
            entries: list[tuple[str, FeedbackInput]] = []
            emails = [SHOWCASE_EMAIL if n == 0 else MEMBER_EMAIL.format(n=n)
                      for n in range(start, stop)]
            member_ids = insert_members([(email, email_index(email)) for email in emails],
                                        password_hash=password_hash)
            for n, member_id in zip(range(start, stop), member_ids, strict=True):
                if n == 0:
                    values, journal = SHOWCASE_PROFILE, generator.showcase_journal()
                else:
                    values, journal = generator.profile(), generator.journal()
                profile_rows += seal_profile(member_id, values, now)
                entries += [(member_id, entry) for entry in journal]
            vault.profile.add_sealed(profile_rows)
            feedback_started = time.perf_counter()
            vault.feedback.add_many(entries)
            feedback_seconds += time.perf_counter() - feedback_started
        vault.key_store.forget_cached()
        entries_total += len(entries)
        values_total += len(profile_rows)
        if progress is not None:
            progress(stop)
    return DemoReport(
        brands=len(brand_ids), brands_added=added, members=members,
        feedback_entries=entries_total, profile_values=values_total,
        seconds=time.perf_counter() - started, feedback_seconds=feedback_seconds,
    )


def _ensure_brands(directory: BrandDirectory) -> tuple[list[str], int]:
    """The ids of the demo brands, in :data:`DEMO_BRANDS` order, adding those missing."""
    existing = {brand.name: brand.id for brand in directory.all()}
    ids, added = [], 0
    for spec in DEMO_BRANDS:
        if spec.name not in existing:
            existing[spec.name] = directory.add(spec.name, spec.categories).id
            added += 1
        ids.append(existing[spec.name])
    return ids, added


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum())


class _Generator:
    """Seeded random values; everything that can be is drawn from tables built once."""

    def __init__(self, rng: random.Random, brand_ids: list[str], today: dt.date) -> None:
        self._rng = rng
        self._today = today
        self._days = [(today - dt.timedelta(days=d)).isoformat()
                      for d in range(FEEDBACK_DAYS)]
        # Weighted draws become a uniform pick from a table: one rng.random() per draw.
        self._counts = _table(range(9), ENTRY_COUNT_WEIGHTS)
        self._ratings = _table(range(1, 6), RATING_WEIGHTS)
        self._brands = _table(range(len(DEMO_BRANDS)), [b.weight for b in DEMO_BRANDS])
        # Per brand: its touchpoints, and per (touchpoint, rating) the comments that fit.
        self._plans = []
        for brand_id, spec in zip(brand_ids, DEMO_BRANDS, strict=True):
            comments = {}
            for touchpoint in spec.touchpoints:
                by_sentiment = (spec.overrides or {}).get(touchpoint) or TEMPLATES[touchpoint]
                for rating, sentiment in SENTIMENT.items():
                    comments[touchpoint, rating] = tuple(
                        t.format(brand=spec.name, item=spec.item) for t in by_sentiment[sentiment]
                    )
            self._plans.append((brand_id, spec.touchpoints, comments))
        self._interests = self._subsets("interests", 1, 5)
        self._drivers = self._subsets("purchase_drivers", 1, 3)
        self._diets = self._subsets("dietary_requirements", 1, 2)
        self._emails = [f"{_slug(g)}.{_slug(f)}" for g in GIVEN_NAMES for f in FAMILY_NAMES]

    def _subsets(self, key: str, low: int, high: int) -> list[list[str]]:
        choices = BY_KEY[key].choices
        subsets = []
        for _ in range(_POOL):
            picked = set(self._rng.sample(choices, self._rng.randint(low, high)))
            subsets.append([c for c in choices if c in picked])   # catalog order = canonical
        return subsets

    def profile(self) -> dict[str, Any]:
        """A partial profile of canonical values: most members fill in only some of it."""
        rng = self._rng
        r = rng.random
        pick = rng.choice
        city, country, language, currency, postal, phone, streets = pick(LOCATIONS)
        given, family = int(r() * len(GIVEN_NAMES)), int(r() * len(FAMILY_NAMES))
        age = 18 + int(r() * 67)
        values: dict[str, Any] = {}
        if r() < 0.9:
            values["given_name"] = GIVEN_NAMES[given]
        if r() < 0.75:
            values["family_name"] = FAMILY_NAMES[family]
        if r() < 0.12:
            values["preferred_name"] = pick(NICKNAMES)
        if r() < 0.5:
            born = self._today - dt.timedelta(days=age * 365 + int(r() * 365))
            values["date_of_birth"] = born.isoformat()
        if r() < 0.3:
            values["contact_email"] = (
                f"{self._emails[given * len(FAMILY_NAMES) + family]}{int(r() * 100)}@mail.example"
            )
        if r() < 0.35:
            values["phone"] = _pattern(rng, phone)
        if r() < 0.25:
            values["street_address"] = pick(streets).format(n=1 + int(r() * 180))
            values["postal_code"] = _pattern(rng, postal)
        if r() < 0.75:
            values["city"] = city
        if r() < 0.85:
            values["country"] = country
        if r() < 0.6:
            values["gender"] = pick(("female", "female", "male", "male", "non-binary",
                                     "self-described", "prefer-not-to-say"))
        if r() < 0.45:
            values["household_size"] = pick((1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6))
        if r() < 0.4:
            values["occupation"] = "Retired" if age >= 67 else pick(OCCUPATIONS[:-1])
        if r() < 0.3:
            values["income_band"] = pick(BY_KEY["income_band"].choices)
        if r() < 0.6:
            values["preferred_language"] = language if r() < 0.8 else "en"
        if r() < 0.5:
            values["preferred_channel"] = pick(BY_KEY["preferred_channel"].choices)
        if r() < 0.5:
            values["contact_frequency"] = pick(BY_KEY["contact_frequency"].choices)
        if r() < 0.3:
            values["clothing_size"] = pick(BY_KEY["clothing_size"].choices)
        if r() < 0.4:
            values["budget_currency"] = currency
        if r() < 0.7:
            values["interests"] = self._interests[int(r() * _POOL)]
        if r() < 0.2:
            values["hobbies"] = pick(HOBBIES)
        if r() < 0.5:
            values["purchase_drivers"] = self._drivers[int(r() * _POOL)]
        if r() < 0.45:
            values["price_sensitivity"] = pick(("low", "medium", "medium", "high"))
        if r() < 0.4:
            values["tech_adoption"] = pick(BY_KEY["tech_adoption"].choices)
        if r() < 0.5:
            values["life_stage"] = pick(next(s for limit, s in LIFE_STAGES if age < limit))
        if r() < 0.15:
            values["values_statement"] = pick(STATEMENTS)
        if r() < SENSITIVE_SHARE:
            # Special-category data (GDPR Art. 9): only a few members, each one or two fields.
            for key in rng.sample(("religion", "health_conditions", "dietary_requirements"),
                                  1 + int(r() * 2)):
                values[key] = (pick(RELIGIONS) if key == "religion" else pick(HEALTH_CONDITIONS)
                               if key == "health_conditions"
                               else self._diets[int(r() * _POOL)])
        return values

    def journal(self) -> list[FeedbackInput]:
        """0-8 entries (4 on average) about the demo brands, over the last two years."""
        r = self._rng.random
        plans, ratings, days, brands = self._plans, self._ratings, self._days, self._brands
        entries = []
        for _ in range(self._counts[int(r() * len(self._counts))]):
            brand_id, touchpoints, comments = plans[brands[int(r() * len(brands))]]
            touchpoint = touchpoints[int(r() * len(touchpoints))]
            rating = ratings[int(r() * len(ratings))]
            nps = None
            if r() < NPS_SHARE:
                scores = NPS_BY_RATING[rating]
                nps = scores[int(r() * len(scores))]
            comment = ""
            if r() < COMMENT_SHARE:
                fitting = comments[touchpoint, rating]
                comment = fitting[int(r() * len(fitting))]
            entries.append(FeedbackInput(brand_id, touchpoint, rating, nps, comment,
                                         days[int(r() * FEEDBACK_DAYS)]))
        return entries

    def showcase_journal(self) -> list[FeedbackInput]:
        return [
            FeedbackInput(self._plans[brand][0], touchpoint, rating, nps, comment,
                          self._days[days_ago])
            for brand, touchpoint, rating, nps, comment, days_ago in SHOWCASE_JOURNAL
        ]


def _table(values: Any, weights: Any) -> list[Any]:
    return [value for value, weight in zip(values, weights, strict=True) for _ in range(weight)]


def _pattern(rng: random.Random, pattern: str) -> str:
    """``#`` becomes a digit, ``@`` a capital letter."""
    return "".join(
        str(int(rng.random() * 10)) if c == "#"
        else chr(65 + int(rng.random() * 26)) if c == "@" else c
        for c in pattern
    )
