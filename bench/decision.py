"""The decision point at 100,000 live grants: decisions per second in one process.

One fresh encrypted vault (``create_vault(ENCRYPTED, …)``, every store at its baseline) with
20,000 members (through ``MemberService.insert``) and 5 brands (``--quick``: 2,000 members,
10,000 live grants). Every (member, brand) pair holds one live grant: a purpose the brand uses,
a mix of field names and ``category:…`` selectors (sensitive fields only ever by name), mostly
individual, some aggregate-only (half of those sharing onward under S3P), some narrowed. Besides
them: withdrawn grants (15% of pairs, often for the same purpose) and expired ones (10%). Every
member has a ``member_terms`` row (the layout ``TermsService._save`` writes) accepting the
purposes of their grants; 4% opted out of sale and sharing (GPC), 3% later dropped one purpose.

The grants and terms go into their tables with bulk SQL: the services sign a receipt and append
two ledger entries per grant, minutes for 100,000, and this benchmark measures deciding, not
granting. Everything read at decision time is in the rows exactly as the services write them.

Requests are drawn at random (seeded) over all pairs, as a brand API would see them: mostly for
the purpose of the brand's grant, sometimes another of its purposes; mostly individual reads,
some aggregate. Two figures, their runs interleaved (A B, B A, …), each run a few seconds:

- ``decision_point``: per request ``DecisionPoint.policy(member, brand)`` (fresh from the store:
  two indexed queries, as every request does), then ``policy.decide(purpose, field, mode, now)``
  for every field of the catalog the brand might return (the 29 profile attributes,
  ``feedback`` and ``survey``): 31 decisions per request. Decisions per second, median of the runs.
- ``decision_point_single``: the same requests, but every decision loads its own policy
  (``DecisionPoint.decide``). Informational, not a requirement of the issue: the report module
  has no informational kind of target, so it carries ``Target(">=", 0, "/s",
  label="informational")``, which any run meets.

Verified, or no figure: before timing, for a sample of requests every field's decision (and the
single-decision path on a smaller sample) is compared with an independent computation from the
inserted rows (allowed exactly where the terms accept the purpose, no GPC opt-out stops it, and
a live grant for the purpose covers the field in an allowed mode, covering computed from the
vault catalog, not ``consent.vocabulary.expand``; an allowed decision must name such a grant),
and each policy must hold exactly the pair's inserted grants. During every timed run the allowed
decisions are counted and must equal the independently expected count for the requests served.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from consent.context import Consent, open_consent
from consent.decision import DecisionPoint
from consent.model import Mode
from consent.vocabulary import FIELDS, PURPOSE_BY_CODE
from vault.catalog import ATTRIBUTES
from vault.home import Vault, VaultHome

from .report import (
    BenchmarkError,
    Figure,
    Result,
    Target,
    fresh_directory,
    interleaved,
    log,
    median,
    timed,
)
from .workload import BRANDS, ENCRYPTED, add_members, create_vault, reopen_vault

NAME = "decision_point"
FIGURES = (
    Figure(NAME, "decisions/s", Target(">=", 200_000, "/s")),
    Figure(f"{NAME}_single", "decisions/s", Target(">=", 0, "/s", label="informational")),
)
SEED = 7
DAY = 86_400
AGREEMENT = "SD-BASE-ATP-S3P"           # permits every purpose of the vocabulary
THIRD_PARTY = "Northstar Insights BV"
WITHDRAWN_SHARE = 0.15                  # pairs with a withdrawn grant besides the live one
EXPIRED_SHARE = 0.10                    # pairs with an expired grant besides the live one
AGGREGATE_SHARE = 0.10                  # live grants for aggregate use only
GPC_SHARE = 0.04                        # members who opted out of sale and sharing
DROPPED_SHARE = 0.03                    # members whose terms later dropped one granted purpose
OWN_PURPOSE_SHARE = 0.8                 # requests for the purpose of the pair's live grant
AGGREGATE_REQUESTS = 0.15               # requests in aggregate mode

# Per brand (the first five of workload.BRANDS): the purposes it asks for, the categories and
# the field names its grants select from.
BRAND_USES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (("dpv:ServiceProvision", "dpv:CustomerCare", "dpv:Personalisation"),
     ("contact", "interests", "motivations"),
     ("given_name", "family_name", "date_of_birth", "household_size", "clothing_size",
      "preferred_channel", "feedback")),
    (("dpv:ServiceProvision", "dpv:Personalisation", "dpv:Marketing"),
     ("contact", "preferences", "demographics"),
     ("given_name", "household_size", "dietary_requirements", "income_band", "interests",
      "feedback")),
    (("dpv:ServiceProvision", "dpv:CommunicationManagement", "dpv:ServiceOptimisation"),
     ("contact", "identity"),
     ("preferred_language", "tech_adoption", "contact_frequency", "life_stage", "feedback")),
    (("dpv:Personalisation", "dpv:Marketing", "dpv:PersonalisedAdvertising"),
     ("interests", "motivations", "preferences"),
     ("given_name", "gender", "clothing_size", "date_of_birth", "religion", "feedback")),
    (("dpv:ServiceProvision", "dpv:CustomerCare", "dpv:ResearchAndDevelopment"),
     ("identity", "contact", "demographics"),
     ("preferred_language", "dietary_requirements", "health_conditions", "budget_currency",
      "feedback")),
)

# The independent reading of the rules: a category covers its non-sensitive attributes.
_CATEGORY_FIELDS = {
    str(a.category): frozenset(b.key for b in ATTRIBUTES
                               if b.category == a.category and not b.sensitive)
    for a in ATTRIBUTES
}
_SALE_OR_SHARING = frozenset(code for code, p in PURPOSE_BY_CODE.items() if p.sale_or_sharing)


@dataclass(frozen=True)
class Scale:
    members: int
    repetitions: int
    seconds: float              # length of one timed run
    requests: int               # the pool of random requests, served in turn
    sample: int                 # requests checked decision by decision before timing
    single_sample: int          # of those, also checked through DecisionPoint.decide


FULL = Scale(members=20_000, repetitions=7, seconds=3.0, requests=100_000, sample=2_000,
             single_sample=200)
QUICK = Scale(members=2_000, repetitions=5, seconds=1.0, requests=20_000, sample=500,
              single_sample=50)


@dataclass
class Row:
    """One grant as inserted (what the independent computation reads)."""

    id: str
    purpose: str
    fields: tuple[str, ...]
    mode: str
    starts_at: int
    ends_at: int
    onward_sharing: bool
    status: str


@dataclass
class Terms:
    purposes: set[str] = field(default_factory=set)
    gpc: bool = False


@dataclass(frozen=True)
class Request:
    member: str
    brand: str
    purpose: str
    mode: Mode
    pair: int


@dataclass(frozen=True)
class Store:
    members: list[str]
    brands: list[str]
    grants: dict[int, list[Row]]        # pair index (member * brands + brand) -> its grants
    terms: list[Terms]                  # by member index
    live: int
    withdrawn: int
    expired: int


@dataclass(frozen=True)
class Outcome:
    decisions: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.decisions / self.seconds


# -- filling ----------------------------------------------------------------------------------
def fill(vault: Vault, members: int, now: int, rng: random.Random) -> Store:
    member_ids = add_members(vault, members)
    brand_ids = [vault.brands.add(name, categories).id for name, categories, _, _ in
                 BRANDS[:len(BRAND_USES)]]
    grants: dict[int, list[Row]] = {}
    terms = [Terms() for _ in member_ids]
    counts = {"active": 0, "withdrawn": 0, "expired": 0}
    for m in range(members):
        for b, (purposes, _, _) in enumerate(BRAND_USES):
            live = _grant(rng, b, rng.choice(purposes), now, "live")
            rows = [live]
            if rng.random() < WITHDRAWN_SHARE:
                purpose = live.purpose if rng.random() < 0.5 else rng.choice(purposes)
                rows.append(_grant(rng, b, purpose, now, "withdrawn"))
            if rng.random() < EXPIRED_SHARE:
                rows.append(_grant(rng, b, rng.choice(purposes), now, "expired"))
            rng.shuffle(rows)
            grants[m * len(BRAND_USES) + b] = rows
            terms[m].purposes.update(r.purpose for r in rows)
        terms[m].gpc = rng.random() < GPC_SHARE
        if rng.random() < DROPPED_SHARE:
            terms[m].purposes.discard(rng.choice(sorted(terms[m].purposes)))
    grant_rows = []
    for pair, rows in grants.items():
        member, brand = member_ids[pair // len(BRAND_USES)], brand_ids[pair % len(BRAND_USES)]
        for r in rows:
            kind = ("withdrawn" if r.status == "withdrawn"
                    else "expired" if r.ends_at <= now else "active")
            counts[kind] += 1
            version = 2 if rng.random() < 0.1 else 1                      # some narrowed
            withdrawn_at = (rng.randrange(r.starts_at, now) if r.status == "withdrawn"
                            else None)
            grant_rows.append((
                r.id, member, brand, r.purpose, json.dumps(sorted(r.fields)), r.mode,
                r.starts_at, r.ends_at, 30 * rng.randint(1, 12), int(r.onward_sharing),
                THIRD_PARTY if r.onward_sharing else None, "EU", "vrmvault member page",
                AGREEMENT, 1, r.status, withdrawn_at, int(kind == "expired"), version,
                r.starts_at, withdrawn_at or r.starts_at))
    # The column layout of TermsService._save.
    terms_rows = [
        (member_ids[m], AGREEMENT, json.dumps(sorted(t.purposes)), 365, 1, int(t.gpc),
         now - 5 * DAY if t.gpc else None, 2 if t.gpc else 1, now - 5 * DAY)
        for m, t in enumerate(terms)
    ]
    with vault.data.transaction():
        vault.data.executemany(
            "INSERT INTO member_terms (member_id, agreement, purposes, max_days,"
            " aggregate_allowed, gpc_opt_out, gpc_at, version, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", terms_rows)
        vault.data.executemany(
            "INSERT INTO grants (id, member_id, brand_id, purpose, fields, mode, starts_at,"
            " ends_at, retention_days, onward_sharing, third_party, jurisdiction,"
            " collection_method, agreement, terms_version, status, withdrawn_at,"
            " expiry_recorded, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", grant_rows)
    vault.data.checkpoint()
    vault.keys_database.checkpoint()
    return Store(member_ids, brand_ids, grants, terms, counts["active"], counts["withdrawn"],
                 counts["expired"])


def _grant(rng: random.Random, brand: int, purpose: str, now: int, kind: str) -> Row:
    _, categories, names = BRAND_USES[brand]
    selectors = {"category:" + c for c in rng.sample(categories, rng.randint(0, 2))}
    selectors.update(rng.sample(names, rng.randint(1 if selectors else 2, 4)))
    aggregate = rng.random() < AGGREGATE_SHARE
    onward = aggregate and rng.random() < 0.5
    if kind == "expired":
        ends = now - rng.randrange(DAY, 200 * DAY)
        starts = ends - rng.randrange(30 * DAY, 365 * DAY)
    else:
        starts = now - rng.randrange(DAY, 300 * DAY)
        ends = now + rng.randrange(30 * DAY, 365 * DAY)
    return Row("grant_" + os.urandom(12).hex(), purpose, tuple(sorted(selectors)),
               "aggregate" if aggregate else "individual", starts, ends, onward,
               "withdrawn" if kind == "withdrawn" else "active")


def requests(store: Store, count: int, rng: random.Random) -> list[Request]:
    brands = len(store.brands)
    now = time.time()
    result = []
    for _ in range(count):
        pair = rng.randrange(len(store.members) * brands)
        live = next(r for r in store.grants[pair]
                    if r.status == "active" and r.starts_at <= now < r.ends_at)
        purpose = (live.purpose if rng.random() < OWN_PURPOSE_SHARE
                   else rng.choice(BRAND_USES[pair % brands][0]))
        mode = Mode.AGGREGATE if rng.random() < AGGREGATE_REQUESTS else Mode.INDIVIDUAL
        result.append(Request(store.members[pair // brands], store.brands[pair % brands],
                              purpose, mode, pair))
    return result


# -- the independent answer -------------------------------------------------------------------
def covered(selectors: Sequence[str]) -> frozenset[str]:
    fields: set[str] = set()
    for s in selectors:
        if s.startswith("category:"):
            fields |= _CATEGORY_FIELDS[s.removeprefix("category:")]
        else:
            fields.add(s)
    return frozenset(fields)


def expected(store: Store, request: Request, at: float) -> dict[str, set[str]]:
    """Field -> the ids of the grants that allow it (absent: denied)."""
    terms = store.terms[request.pair // len(store.brands)]
    if terms.gpc and request.purpose in _SALE_OR_SHARING:
        return {}
    if request.purpose not in terms.purposes:
        return {}
    allowed: dict[str, set[str]] = {}
    for row in store.grants[request.pair]:
        if (row.purpose == request.purpose and row.status == "active"
                and row.starts_at <= at < row.ends_at
                and not (request.mode is Mode.INDIVIDUAL and row.mode == "aggregate")
                and not (terms.gpc and row.onward_sharing)):
            for name in covered(row.fields):
                allowed.setdefault(name, set()).add(row.id)
    return allowed


def verify_sample(store: Store, decisions: DecisionPoint, pool: Sequence[Request],
                  scale: Scale) -> None:
    problems: list[str] = []
    for n, request in enumerate(pool[:scale.sample]):
        at = time.time()
        truth = expected(store, request, at)
        policy = decisions.policy(request.member, request.brand)
        rows = {r.id: r for r in store.grants[request.pair]}
        if {g.id for g in policy.grants} != set(rows):
            problems.append(f"policy of pair {request.pair} holds {len(policy.grants)} grants,"
                            f" {len(rows)} inserted")
        for grant in policy.grants:
            if grant.id in rows and grant.covered != covered(rows[grant.id].fields):
                problems.append(f"grant {grant.id} covers {sorted(grant.covered)}, expected"
                                f" {sorted(covered(rows[grant.id].fields))}")
        single = n < scale.single_sample
        for name in FIELDS:
            answers = [policy.decide(request.purpose, name, request.mode, at)]
            if single:
                answers.append(decisions.decide(request.brand, request.purpose, request.member,
                                                name, request.mode, at))
            for decision in answers:
                if decision.allowed != (name in truth) or (
                        decision.allowed and decision.grant_id not in truth[name]):
                    problems.append(f"{request} {name}: {decision}, expected"
                                    f" {sorted(truth.get(name, ())) or 'deny'}")
        if len(problems) > 5:
            break
    if problems:
        raise BenchmarkError(f"{NAME}: decisions not verified: " + "; ".join(problems[:5]))


# -- timing -------------------------------------------------------------------------------------
def by_policy(decisions: DecisionPoint, pool: Sequence[Request], start: int,
              seconds: float) -> tuple[int, int]:
    """Serve requests from ``start`` for ``seconds``: (requests served, decisions allowed)."""
    fields = FIELDS
    clock = time.perf_counter
    deadline = clock() + seconds
    size = len(pool)
    served = allowed = 0
    while True:
        request = pool[(start + served) % size]
        policy = decisions.policy(request.member, request.brand)
        purpose, mode, at = request.purpose, request.mode, time.time()
        for name in fields:
            if policy.decide(purpose, name, mode, at).allowed:
                allowed += 1
        served += 1
        if clock() >= deadline:
            return served, allowed


def one_by_one(decisions: DecisionPoint, pool: Sequence[Request], start: int,
               seconds: float) -> tuple[int, int]:
    fields = FIELDS
    clock = time.perf_counter
    deadline = clock() + seconds
    size = len(pool)
    served = allowed = 0
    while True:
        request = pool[(start + served) % size]
        member, brand, purpose, mode = request.member, request.brand, request.purpose, request.mode
        at = time.time()
        for name in fields:
            if decisions.decide(brand, purpose, member, name, mode, at).allowed:
                allowed += 1
        served += 1
        if clock() >= deadline:
            return served, allowed


Server = Callable[[DecisionPoint, Sequence[Request], int, float], tuple[int, int]]


def variant(label: str, serve: Server, decisions: DecisionPoint, pool: Sequence[Request],
            allowed_counts: Sequence[int], seconds: float, start: int) -> Callable[[], Outcome]:
    cursor = start

    def run_once() -> Outcome:
        nonlocal cursor
        elapsed, (served, allowed) = timed(lambda: serve(decisions, pool, cursor, seconds))
        want = sum(allowed_counts[(cursor + i) % len(pool)] for i in range(served))
        if allowed != want:
            raise BenchmarkError(f"{NAME}: {label}: {allowed} decisions allowed in a timed run,"
                                 f" {want} expected")
        cursor += served
        outcome = Outcome(served * len(FIELDS), elapsed)
        log(f"  {label:>7}: {outcome.rate:>10,.0f} decisions/s ({served:,} requests,"
            f" {elapsed:.2f} s, {allowed:,} allowed: verified)")
        return outcome
    return run_once


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    if len(FIELDS) != len(ATTRIBUTES) + 2:      # the attributes, feedback and survey
        raise BenchmarkError(f"{NAME}: the catalog has {len(FIELDS)} fields,"
                             f" {len(ATTRIBUTES) + 2} expected")
    rng = random.Random(SEED)
    log(f"{NAME}: {scale.members:,} members x {len(BRAND_USES)} brands, one live grant per pair;"
        f" {scale.repetitions} interleaved runs of {scale.seconds:g} s per figure")
    with fresh_directory() as root:
        now = int(time.time())
        vault = create_vault(ENCRYPTED, root)
        try:
            started = time.perf_counter()
            store = fill(vault, scale.members, now, rng)
            log(f"  filled in {time.perf_counter() - started:.0f} s: {store.live:,} live,"
                f" {store.withdrawn:,} withdrawn, {store.expired:,} expired grants")
        finally:
            vault.close()
        if store.live != scale.members * len(BRAND_USES):
            raise BenchmarkError(f"{NAME}: {store.live:,} live grants inserted")
        vault = reopen_vault(ENCRYPTED, root)     # a server's own connections, empty caches
        consent: Consent | None = None
        try:
            consent = open_consent(vault, VaultHome(root / "var"))
            return measure(consent.decisions, store, scale, rng)
        finally:
            if consent is not None:
                consent.close()
            vault.close()


def measure(decisions: DecisionPoint, store: Store, scale: Scale,
            rng: random.Random) -> list[Result]:
    pool = requests(store, scale.requests, rng)
    at = time.time()
    allowed_counts = [len(expected(store, r, at)) for r in pool]
    share = sum(allowed_counts) / (len(pool) * len(FIELDS))
    if not 0.05 < share < 0.95:
        raise BenchmarkError(f"{NAME}: {share:.0%} of the decisions would allow: degenerate mix")
    verify_sample(store, decisions, pool, scale)
    log(f"  {scale.sample:,} sampled requests x {len(FIELDS)} fields match the independent"
        f" answer ({scale.single_sample:,} also one by one); {share:.0%} of the decisions allow")
    variants = {
        "policy": variant("policy", by_policy, decisions, pool, allowed_counts, scale.seconds, 0),
        "single": variant("single", one_by_one, decisions, pool, allowed_counts, scale.seconds,
                          len(pool) // 2),
    }
    log("  warm-up (not counted):")
    for run_once in variants.values():
        run_once()
    outcomes = interleaved(variants, scale.repetitions)
    return [FIGURES[0].result(median([o.rate for o in outcomes["policy"]])),
            FIGURES[1].result(median([o.rate for o in outcomes["single"]]))]
