"""Demo intents: open intents in every category of the catalog, offers from the demo brands of
the category on some of them, and the showcase member's own intents with offers to compare.

Everything goes through the intent service as the gateway wires it (sealed under the member's
key, each cast, listing and offer in the ledger, ``intent.created`` queued for any subscribed
endpoint): a brand finds an intent by listing its category, as through the API, and offers on
it under its own pseudonym of it.

Cast in two rounds, oldest first:
- answered: the showcase member's intents (:data:`SHOWCASE_INTENTS`: a cargo bike and a family
  holiday with two offers each from Spokesmith Cycles and Skylark Airways, to set side by side,
  and a course no demo brand sells), then :data:`ANSWERED` intents per category by other demo
  members, each answered by the category's demo brands (if it has any) with a chance of
  :data:`OFFER_SHARE`;
- fresh: :data:`FRESH` intents per category by other demo members that no brand answered
  yet. So the newest intents a brand lists are unanswered, as the README's walkthrough expects
  when it offers on the newest. (A store of the showcase member alone gets their intents
  only.)

Budgets are written in euros and turned into the currency of the member's (invented) city.
The same ``seed`` gives the same intents and offers (ids, pseudonyms and nonces aside).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from brand_gateway.intents_wiring import intent_service
from consent.context import Consent
from intents.catalog import CATEGORIES
from intents.model import Intent, IntentDraft, ListedIntent
from intents.service import IntentService

from .content import DEMO_BRANDS, LOCATIONS
from .members import SHOWCASE_EMAIL

DAY = 86_400
ANSWERED = (1, 2)            # intents per category in the answered round, at least and at most
FRESH = (1, 2)               # and in the fresh round
OFFER_SHARE = 0.7            # chance that a brand of the category answers one of those
#: What a euro is in each demo city's currency, roughly: budgets are written in euros.
PER_EURO = {"EUR": 1.0, "GBP": 0.85, "CHF": 0.95, "PLN": 4.3, "SEK": 11.5}
REVEALABLE = ("contact_email", "given_name", "city", "phone", "preferred_language")
#: category -> (what members write, lowest and highest budget in euros)
WANTS: dict[str, tuple[tuple[str, ...], int, int]] = {
    "bicycles": (("A city e-bike for a 12 km commute, with a good lock.",
                  "A second-hand road bike, 56 cm frame."), 600, 3500),
    "travel": (("A week of walking holidays in the mountains in early autumn.",
                "A long weekend city trip for two, train preferred."), 400, 2500),
    "insurance": (("Home contents insurance for a two-room flat.",
                   "Travel insurance for a year, Europe only."), 60, 400),
    "groceries": (("A weekly organic vegetable box for a family of four.",
                   "Monthly delivery of pantry staples, no plastic packaging."), 40, 250),
    "electronics": (("Noise-cancelling headphones for the train.",
                     "A 55-inch TV that does not track what we watch."), 150, 1200),
    "home-services": (("Someone to hang three lamps and fix a dripping tap.",
                       "A plumber to replace a bathroom sink."), 80, 600),
    "automotive": (("A used family car, estate, under 80,000 km.",
                    "Winter tyres fitted for a compact car."), 400, 18000),
    "motorcycles": (("A 125 cc scooter for the city.",
                     "A motorcycle service before the summer."), 200, 4500),
    "furniture": (("A sofa bed for a small living room.",
                   "A solid wood dining table for six."), 300, 1800),
    "appliances": (("A quiet dishwasher, energy class A or B.",
                    "A washer-dryer that fits under the counter."), 350, 1200),
    "clothing": (("A waterproof winter coat that lasts years.",
                  "Two linen shirts, size M, plain colours."), 60, 400),
    "footwear": (("Walking boots for wide feet.", "Running shoes for trail running."),
                 80, 250),
    "jewellery": (("A simple automatic watch with a steel strap.",
                   "Repair and resizing of a silver ring."), 60, 900),
    "beauty": (("Fragrance-free skin care for sensitive skin.",), 20, 120),
    "sports": (("A stand-up paddle board for lakes.", "Cross-country skis for a beginner."),
               150, 900),
    "outdoor": (("A lightweight two-person tent.", "A down sleeping bag for spring and autumn."),
                120, 600),
    "fitness": (("A foldable rowing machine for a flat.",), 200, 900),
    "toys": (("A wooden train set for a three-year-old.",), 30, 150),
    "baby": (("A second-hand pram in good condition.", "A car seat for a newborn."), 80, 500),
    "pets": (("Grain-free food for an older cat, delivered monthly.",), 25, 90),
    "books": (("Illustrated field guides to European birds.",), 20, 90),
    "music": (("A digital piano with weighted keys.", "A beginner's acoustic guitar."),
              150, 1200),
    "streaming": (("A family streaming plan without ads.",), 8, 25),
    "software": (("A password manager for a family of four.",), 20, 80),
    "computers": (("A repairable laptop for programming, 16 GB memory.",), 700, 1800),
    "phones": (("A refurbished phone with a good camera.",), 200, 700),
    "mobile-plans": (("A SIM-only plan with 20 GB of data and EU roaming.",), 8, 25),
    "energy": (("Green electricity for a flat, a fixed price for a year.",), 60, 150),
    "broadband": (("Fibre at home, at least 500 Mbit/s, no TV package.",), 25, 60),
    "banking": (("A current account with a good app and no monthly fee.",), 0, 10),
    "loans": (("A mortgage offer for a first flat.", "A small loan for a new kitchen."),
              5000, 300000),
    "real-estate": (("A two-bedroom flat near a park.",), 200000, 450000),
    "rentals": (("A furnished one-bedroom flat for six months.",), 900, 1800),
    "moving": (("Help moving a two-room flat across town.",), 300, 1200),
    "cleaning": (("A fortnightly cleaner for a three-room flat.",), 60, 150),
    "gardening": (("Someone to prune two apple trees this winter.",), 80, 300),
    "home-improvement": (("Painting the living room and hallway.",
                          "Insulating the attic floor."), 400, 4000),
    "tools": (("A cordless drill and a set of bits.",), 80, 250),
    "office": (("A height-adjustable desk for working from home.",), 250, 700),
    "courses": (("An evening language course, Italian for beginners.",), 150, 600),
    "tickets": (("Two tickets for an outdoor concert this summer.",), 60, 250),
    "restaurants": (("A table for eight for a birthday dinner, vegetarian friendly.",), 200,
                    600),
    "catering": (("Lunch for 20 people at an office workshop.",), 300, 900),
    "weddings": (("A photographer and a small venue for 40 guests.",), 3000, 12000),
    "photography": (("Family portraits outdoors, an hour's session.",), 150, 500),
    "car-rental": (("An estate car for two weeks in August.",), 400, 1100),
    "hotels": (("Three nights in a quiet hotel by the sea for two.",), 300, 900),
    "flights": (("Return flights for two to Lisbon in spring.",), 200, 700),
    "cruises": (("A short river cruise on the Danube.",), 800, 3000),
    "gifts": (("Flowers delivered every month for a year.",), 30, 80),
}
assert set(WANTS) == {c.id for c in CATEGORIES}
#: Terms a demo brand's offer carries, and what it says to the member.
TERMS = ("Delivered within a week; two years' warranty; free returns within 30 days.",
         "The price includes delivery and setting up; pay on delivery.",
         "Fixed price for the dates you gave; free cancellation up to 14 days before.",
         "Price matched against any offer you show us until this one expires.")
MESSAGES = ("We can do this within your budget.", "Happy to answer any question first.",
            "In stock now.", "")
#: (category, description, budget, (days from today: window starts, ends; expires),
#: reveal fields, offers: (price, terms, message) each)
SHOWCASE_INTENTS: tuple[tuple[str, str, tuple[str, str], tuple[int, int, int], tuple[str, ...],
                              tuple[tuple[str, str, str], ...]], ...] = (
    ("bicycles", "A cargo e-bike for two children, with a rain cover. I would like a test ride"
     " first, and servicing nearby.", ("3000", "4500"), (7, 45, 30),
     ("contact_email", "given_name", "city"), (
         ("4290.00", "Long-tail cargo e-bike, 625 Wh, two child seats and rain cover; test ride"
          " in our Amsterdam shop; first two services free.", "We have one in your size."),
         ("3650.00", "Front-box cargo e-bike, 500 Wh, bench for two and rain tent; delivered"
          " and set up at home; two years' warranty.", "Our most asked-for family bike."))),
    ("travel", "Ten days by the sea in Portugal or Spain this summer for two adults and a"
     " six-year-old: flights from Amsterdam and a family room.", ("2500", "4000"),
     (90, 120, 45), ("contact_email", "given_name"), (
         ("3480.00", "Direct flights Amsterdam-Faro, 10 nights in a family room by the beach,"
          " breakfast included; free changes up to 30 days before.", ""),
         ("2790.00", "Flights Amsterdam-Málaga with one stop, 10 nights in an apartment with a"
          " pool, 800 m from the beach.", "Cheaper, a little further from the sea."))),
    ("courses", "A weekend course in bicycle maintenance, in English or Dutch.", ("100", "300"),
     (14, 90, 60), ("contact_email",), ()),
)


@dataclass(frozen=True)
class IntentDemoReport:
    intents: int
    categories: int
    offers: int
    brands: int               # demo brands that made offers
    showcase_intents: int
    showcase_offers: int


def load_intent_demo(consent: Consent, *, seed: int = 2026) -> IntentDemoReport:
    vault = consent.vault
    showcase = vault.members.find(SHOWCASE_EMAIL)
    if showcase is None:
        raise ValueError("load the vault demo first: it makes the showcase member")
    rng = random.Random(seed)
    service = intent_service(consent)
    demo_brands = {spec.name for spec in DEMO_BRANDS}
    brands_of: dict[str, list[str]] = {}
    for brand in vault.brands.all():
        if brand.name in demo_brands:
            for category in brand.categories:
                brands_of.setdefault(category, []).append(brand.id)
    today = dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()
    cast: list[Intent] = []
    offered: list[str] = []             # the brand of each offer
    for category, description, budget, days, reveal, made in SHOWCASE_INTENTS:
        window_from, window_until, expires = (today + dt.timedelta(days=d) for d in days)
        cast.append(service.cast(showcase, IntentDraft(
            category, description, budget[0], budget[1], "EUR", window_from, window_until,
            "NL", "NL-NH", "Amsterdam", reveal, expires)))
        for brand_id in brands_of.get(category, ())[:1]:
            for price, terms, message in made:
                service.make_offer(brand_id, _newest(service, brand_id, category).pseudonym,
                                   price=price, currency="EUR", terms=terms, message=message,
                                   valid_until=int(vault.clock()) + 14 * DAY)
                offered.append(brand_id)
    showcase_intents, showcase_offers = len(cast), len(offered)
    others = [m for m in vault.accounts.ids() if m != showcase]
    for (low, high), answered in ((ANSWERED, True), (FRESH, False)):
        for category in WANTS if others else ():
            for _ in range(rng.randint(low, high)):
                cast.append(_cast(service, rng.choice(others), category, today, rng))
                for brand_id in brands_of.get(category, ()) if answered else ():
                    if rng.random() < OFFER_SHARE:
                        _offer_within_budget(service, brand_id, category, vault.clock(), rng)
                        offered.append(brand_id)
    return IntentDemoReport(len(cast), len({i.category for i in cast}), len(offered),
                            len(set(offered)), showcase_intents, showcase_offers)


def _cast(service: IntentService, member_id: str, category: str, today: dt.date,
          rng: random.Random) -> Intent:
    texts, low, high = WANTS[category]
    city, country, _, currency, *_ = rng.choice(LOCATIONS)
    rate = PER_EURO[currency]
    start = today + dt.timedelta(days=rng.randint(0, 21))
    until = start + dt.timedelta(days=rng.randint(14, 120))
    reveal = tuple(f for f in REVEALABLE if f == "contact_email" or rng.random() < 0.4)
    return service.cast(member_id, IntentDraft(
        category, rng.choice(texts), _money(low * rate), _money(high * rate), currency, start,
        until, country, None, city, reveal,
        min(until, today + dt.timedelta(days=rng.randint(7, 60)))))   # open while it matters


def _offer_within_budget(service: IntentService, brand_id: str, category: str, now: float,
                         rng: random.Random) -> None:
    """An offer on the newest intent of ``category`` (the one just cast), within its budget."""
    listed = _newest(service, brand_id, category)
    low, high = float(listed.budget_min), float(listed.budget_max)
    service.make_offer(brand_id, listed.pseudonym, currency=listed.currency,
                       price=_money(max(1.0, low + (high - low) * rng.uniform(0.3, 0.95))),
                       terms=rng.choice(TERMS), message=rng.choice(MESSAGES),
                       valid_until=int(now) + rng.randint(3, 21) * DAY)


def _newest(service: IntentService, brand_id: str, category: str) -> ListedIntent:
    """The newest intent of ``category`` (the one just cast) as the brand lists it, through the
    API's listing (an entry in the member's ledger): the brand offers under its pseudonym."""
    [listed] = service.list_for_brand(brand_id, category=category, limit=1).items
    return listed


def _money(amount: float) -> str:
    """A budget as members write one: whole units, rounded to two significant figures."""
    whole = int(amount)
    if whole >= 100:
        scale = 10 ** (len(str(whole)) - 2)
        whole = round(whole / scale) * scale
    return str(whole)
