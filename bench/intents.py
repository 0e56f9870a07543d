"""Intent casting at market size: 1,000,000 open intents across the 50 catalog categories and
1,000 brands (issue 16). Figures:

- a brand's filtered listing page (50 intents, newest first, currency + budget + country
  filters, over the brand's 1 to 3 categories) p99 in-process under 20 ms, with the ledger
  entry of every returned intent written through the access spool as the gateway does;
- casting an intent (checks, sealing, insert, the publication's ledger entry) median under 5 ms;
- offers the vault accepts from brands (``make_offer``: checks, Ed25519 signature of the offer
  as received, sealing under the member's key, insert, the entry in the spool) at least 1,000
  per second, the limits raised for the run.

Why the listing holds at that size: each category is walked newest first on the partial index
``intents_open_by_category`` (open intents only), the filters and the member's blocks (a
primary-key probe) tested per row, and it stops after a page; a brand of several categories
merges one page per category. A page costs its length plus the rows its filters skip, whatever
the size of the store.

The store (:func:`build_store`, reused by ``bench/intents_http.py``): members through the
product's own insert, brands through the brand directory, intents made by the service's own
:meth:`IntentService.prepared` (the checks and the sealing of a cast, under each member's key)
and inserted through the repository in large transactions. ``--quick``: 20,000 intents.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from pathlib import Path

from consent.context import open_consent
from consent.events import Event, EventDetails
from consent.spool import SpoolDirectory, SpoolWriter
from intents.catalog import CATEGORIES
from intents.model import IntentDraft, Limits
from intents.service import IntentService
from intents.sqlcipher.intents import SqlcipherIntents
from intents.storage import intent_service
from vault.home import Vault, VaultHome

from .report import BenchmarkError, Figure, Result, Target, fresh_directory, log, median, timed
from .workload import ENCRYPTED, add_members, create_vault, reopen_vault

NAME = "intents"
FIGURES = (
    Figure(f"{NAME}_listing_page_p99_1m", "ms", Target("<", 20, " ms")),
    Figure(f"{NAME}_cast_median", "ms", Target("<", 5, " ms")),
    Figure(f"{NAME}_offers_per_second", "/s", Target(">=", 1000, "/s")),
)
BATCH = 20_000
PAGE = 50
#: (currency, countries with a region or two): where the generated intents are.
PLACES = (("EUR", (("DE", ("DE-BE", "DE-BY")), ("FR", ("FR-IDF",)), ("NL", ("NL-UT",)))),
          ("USD", (("US", ("US-CA", "US-NY")),)),
          ("GBP", (("GB", ("GB-LND",)),)))
CITIES = ("Berlin", "Munich", "Paris", "Utrecht", None)
UNLIMITED = Limits(offers_per_intent=1_000_000, offers_per_day=1_000_000_000)


@dataclass(frozen=True)
class Scale:
    intents: int
    brands: int
    members: int
    pages: int
    casts: int
    offers: int


FULL = Scale(intents=1_000_000, brands=1_000, members=20_000, pages=1_000, casts=300,
             offers=5_000)
QUICK = Scale(intents=20_000, brands=100, members=1_000, pages=200, casts=100, offers=1_000)


@dataclass(frozen=True)
class Store:
    """What :func:`build_store` made: the brands (with their categories) and the members."""

    root: Path
    brands: dict[str, tuple[str, ...]]
    members: list[str]
    intents: int


def draft(rng: random.Random, today: dt.date, category: str) -> IntentDraft:
    currency, countries = PLACES[rng.randrange(len(PLACES))]
    country, regions = countries[rng.randrange(len(countries))]
    low = rng.randrange(10, 5_000)
    start = today + dt.timedelta(days=rng.randrange(0, 60))
    return IntentDraft(
        category=category, description=f"Looking for {category}: request {rng.random():.6f}",
        budget_min=str(low), budget_max=str(low + rng.randrange(0, 3_000)), currency=currency,
        window_from=start, window_until=start + dt.timedelta(days=rng.randrange(0, 90)),
        country=country, region=rng.choice(regions + (None,)),
        city=rng.choice(CITIES) if country in ("DE", "FR", "NL") else None,
        reveal_fields=("contact_email",), expires_on=today + dt.timedelta(days=60))


def build_store(root: Path, *, intents: int, brands: int, members: int,
                seed: int = 16) -> Store:
    """A store of ``intents`` open intents of ``members`` members across every catalog
    category, and ``brands`` brands of 1 to 3 categories each, in ``root`` (``var/`` inside)."""
    rng = random.Random(seed)
    vault = create_vault(ENCRYPTED, root)
    try:
        categories = [c.id for c in CATEGORIES]
        made: dict[str, tuple[str, ...]] = {}
        for n in range(brands):
            chosen = tuple(rng.sample(categories, rng.choice((1, 1, 2, 3))))
            made[vault.brands.add(f"Brand {n:04d}", chosen).id] = chosen
        member_ids = add_members(vault, members)
        log(f"  {brands:,} brands, {members:,} members")
        consent = open_consent(vault, VaultHome(root / "var"))
        try:
            service = intent_service(consent)
            repository = SqlcipherIntents(vault.data)
            now = int(vault.clock())
            today = dt.datetime.fromtimestamp(now, dt.UTC).date()
            started = time.perf_counter()
            for start in range(0, intents, BATCH):
                with vault.data.transaction():
                    for n in range(start, min(intents, start + BATCH)):
                        row = service.prepared(member_ids[n % members],
                                               draft(rng, today, categories[n % 50]),
                                               now=now - intents + n)
                        repository.insert(row)
                done = min(intents, start + BATCH)
                rate = done / (time.perf_counter() - started)
                log(f"  {done:>9,} intents ({rate:,.0f}/s)")
        finally:
            consent.close()
        vault.data.execute("ANALYZE")
    finally:
        vault.close()
    return Store(root, made, member_ids, intents)


def spool_log(writer: SpoolWriter):
    """The gateway's way of recording what a brand was shown: into the access spool."""
    def record(details: EventDetails, actor: str, at: int) -> None:
        writer.append(Event.of(details, actor), at=at)
    return record


def _listing(service: IntentService, store: Store, rng: random.Random, pages: int
             ) -> list[float]:
    times = []
    brand_ids = list(store.brands)
    several = [b for b in brand_ids if len(store.brands[b]) > 1]
    for n in range(pages):
        brand = rng.choice(several if n % 2 else brand_ids)
        region = "DE" if n % 3 else "DE-BE"
        seconds, page = timed(lambda b=brand, r=region: service.list_for_brand(
            b, currency="EUR", budget_min="1000", region=r, limit=PAGE), collect=False)
        if not page.items or (len(page.items) < PAGE) != (page.next_cursor is None):
            raise BenchmarkError(f"{NAME}: a page of {len(page.items)} for {brand}")
        published = [i.published_at for i in page.items]
        if published != sorted(published, reverse=True) or any(
                i.currency != "EUR" or i.country != "DE" or i.category not in store.brands[brand]
                or (region != "DE" and i.region != region)
                for i in page.items):
            raise BenchmarkError(f"{NAME}: the page is not the brand's filtered listing")
        times.append(seconds * 1000)
    return times


def run(*, quick: bool) -> list[Result]:
    scale = QUICK if quick else FULL
    log(f"{NAME}: {scale.intents:,} intents, {scale.brands:,} brands")
    with fresh_directory() as root:
        started = time.perf_counter()
        store = build_store(root, intents=scale.intents, brands=scale.brands,
                            members=scale.members)
        log(f"  built in {time.perf_counter() - started:,.0f} s")
        vault = reopen_vault(ENCRYPTED, root)
        home = VaultHome(root / "var")
        consent = open_consent(vault, home)
        writer = SpoolDirectory(home, vault.master).writer()
        try:
            return _measure(vault, consent, writer, store, scale)
        finally:
            writer.close()
            consent.close()
            vault.close()


def _measure(vault: Vault, consent, writer: SpoolWriter, store: Store, scale: Scale
             ) -> list[Result]:
    rng = random.Random(7)
    service = intent_service(consent, listing_log=spool_log(writer), limits=UNLIMITED)
    _listing(service, store, rng, 20)                            # warm the page cache
    times = sorted(_listing(service, store, rng, scale.pages))
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    log(f"  listing: median {median(times):.2f} ms, p99 {p99:.2f} ms over {len(times)} pages")

    today = dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()
    casts = []
    for n in range(scale.casts):
        member = store.members[n % len(store.members)]
        seconds, cast = timed(lambda m=member: service.cast(
            m, draft(rng, today, "bicycles")), collect=False)
        if cast.category != "bicycles":
            raise BenchmarkError(f"{NAME}: the cast is not what was asked")
        casts.append(seconds * 1000)
    log(f"  cast: median {median(casts):.2f} ms over {len(casts)}")

    brand = next(b for b, cats in store.brands.items() if "bicycles" in cats)
    names = [i.pseudonym for i in service.list_for_brand(brand, category="bicycles",
                                                         limit=PAGE).items]
    valid = int(vault.clock()) + 7 * 86_400
    intent_currency = {i.pseudonym: i.currency for i in service.list_for_brand(
        brand, category="bicycles", limit=PAGE).items}
    started = time.perf_counter()
    for n in range(scale.offers):
        name = names[n % len(names)]
        service.make_offer(brand, name, price="99.00", currency=intent_currency[name],
                           terms="Delivered within a week", message="In stock",
                           valid_until=valid)
    rate = scale.offers / (time.perf_counter() - started)
    made = len(service.brand_offers(brand, status="open", limit=100, offset=0))
    if made < min(100, scale.offers):
        raise BenchmarkError(f"{NAME}: the offers were not stored")
    log(f"  offers: {rate:,.0f}/s over {scale.offers:,}")
    return [FIGURES[0].result(p99), FIGURES[1].result(median(casts)),
            FIGURES[2].result(rate)]
