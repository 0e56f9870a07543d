"""Demo data: invented brands, members with partial profiles and a feedback journal.

:func:`load_demo` fills a vault for a guided tour or a load test: eight demo brands (created only
if no brand of that name exists), then ``members`` members. The first is the showcase login
(``demo@vrmvault.example`` / :data:`DEMO_PASSWORD`) with a full, hand-written profile and journal;
the rest are ``member{n}@demo.vrmvault.example`` with a random subset of the catalog and 0-8
feedback entries each.

Invariants:
- Nothing is written in clear: members go through :meth:`MemberService.insert` (blind index plus
  sealed address), profile values through :meth:`ProfileService.seal_rows`, feedback through
  :meth:`FeedbackService.add_many`, i.e. the services' own sealing code paths.
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

from .brands import BrandDirectory
from .catalog import BY_KEY
from .errors import ConflictError, ValidationError
from .feedback import FeedbackInput
from .home import Vault

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


@dataclass(frozen=True)
class DemoBrand:
    name: str
    categories: tuple[str, ...]
    item: str                              # what the customer bought, for comment templates
    touchpoints: tuple[str, ...]
    weight: int                            # relative share of feedback entries
    overrides: dict[str, dict[str, tuple[str, ...]]] | None = None


_ALL = ("awareness", "consideration", "purchase", "delivery", "onboarding", "usage", "support",
        "billing", "returns", "loyalty")

DEMO_BRANDS: tuple[DemoBrand, ...] = (
    DemoBrand("Spokesmith Cycles", ("bikes", "sport"), "e-bike",
              tuple(t for t in _ALL if t != "billing"), 3),
    DemoBrand("Greenleaf Grocers", ("groceries", "food-and-drink"), "weekly shop",
              ("awareness", "purchase", "delivery", "support", "returns", "loyalty"), 6),
    DemoBrand("Northwave Mobile", ("telecom",), "phone plan",
              ("awareness", "consideration", "purchase", "onboarding", "usage", "support",
               "billing", "loyalty"), 5, {"usage": {
                  "positive": ("Coverage is excellent, even on the train.",
                               "Fast mobile data everywhere I go."),
                  "neutral": ("Signal is fine in town, patchy in the countryside.",),
                  "negative": ("Calls keep dropping at home.",
                               "Data speed collapses every evening.")}}),
    DemoBrand("Atelier Lume", ("fashion", "clothing"), "winter coat",
              ("awareness", "consideration", "purchase", "delivery", "usage", "support",
               "returns", "loyalty"), 4, {"usage": {
                  "positive": ("Still looks new after a whole winter.",
                               "Fits perfectly and washes well."),
                  "neutral": ("Nice fabric, but the sizing runs small.",),
                  "negative": ("The seams came apart after three washes.",
                               "The colour faded after a couple of washes.")}}),
    DemoBrand("Skylark Airways", ("airline", "travel"), "flight",
              ("awareness", "consideration", "purchase", "onboarding", "usage", "support",
               "billing", "loyalty"), 3, {
                  "onboarding": {
                      "positive": ("Online check-in took two minutes.",),
                      "neutral": ("Check-in worked, but the app logged me out twice.",),
                      "negative": ("The bag drop queue took over an hour.",)},
                  "usage": {
                      "positive": ("Comfortable seat, friendly crew, and we landed early.",
                                   "Smooth flight and the crew were great with my kids."),
                      "neutral": ("The flight was fine; the legroom was not.",
                                  "Forty minutes late, but they kept us informed."),
                      "negative": ("A three-hour delay and no information at the gate.",
                                   "My luggage took a different plane.")}}),
    DemoBrand("Voltbox Electronics", ("electronics",), "laptop", _ALL, 4),
    DemoBrand("Oakhaven Furniture", ("furniture", "home-and-garden"), "sofa",
              ("consideration", "purchase", "delivery", "onboarding", "usage", "support",
               "billing", "returns"), 2),
    DemoBrand("Harbour & Pine Bank", ("banking", "finance"), "current account",
              ("awareness", "consideration", "onboarding", "usage", "support", "billing",
               "loyalty"), 3, {"usage": {
                  "positive": ("The app is clear and payments go through instantly.",),
                  "neutral": ("The app is fine, but online banking feels dated.",),
                  "negative": ("The app was down on payday, again.",)}}),
)

# touchpoint -> sentiment -> templates; {brand} and {item} are filled in per brand.
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "awareness": {
        "positive": ("Saw a {brand} ad that actually told me something useful, for once.",
                     "A friend recommended {brand} and I can see why.",
                     "Their newsletter is short and to the point. I read it."),
        "neutral": ("Noticed {brand} ads everywhere this month; nothing that stood out.",
                    "Heard of {brand} from a colleague, haven't made up my mind yet.",
                    "The ads are fine, a bit generic."),
        "negative": ("Far too many {brand} ads following me around the web.",
                     "The advert promised a price I could not find anywhere on the site.",
                     "Got the same promotional e-mail three times in one week."),
    },
    "consideration": {
        "positive": ("The comparison page made it easy to pick the right {item}.",
                     "Clear prices up front, no surprises. That helped me decide.",
                     "Staff took time to answer all my questions before I chose."),
        "neutral": ("Plenty of information, but it took a while to find the details I needed.",
                    "Prices are in line with the competition.",
                    "The reviews on the site seemed a little too positive to trust."),
        "negative": ("Could not find basic details about the {item} anywhere on the site.",
                     "The chat bot kept sending me links instead of answers.",
                     "The conditions were hidden in the small print until the last step."),
    },
    "purchase": {
        "positive": ("Checkout was quick and painless.",
                     "Ordered in under five minutes, no account needed.",
                     "Friendly staff and no pressure to buy extras."),
        "neutral": ("Checkout works, though it asked for more details than it needed.",
                    "Paying was fine; the upsell screens were a bit much.",
                    "Had to try two cards before the payment went through."),
        "negative": ("The site crashed at checkout and I was charged twice.",
                     "Pre-ticked boxes for extras I never asked for.",
                     "The price went up between the basket and the payment page."),
    },
    "delivery": {
        "positive": ("Delivered a day early and the driver was very careful.",
                     "Arrived on time, well packed, with very little plastic.",
                     "The delivery window was accurate to the minute."),
        "neutral": ("Arrived within the promised week; the tracking was vague.",
                    "Delivery was fine, the packaging was excessive.",
                    "Came on time, but the courier left it with a neighbour."),
        "negative": ("Two missed delivery slots and nobody called.",
                     "The {item} arrived damaged and the box was soaked.",
                     "Tracking said delivered. It was not."),
    },
    "onboarding": {
        "positive": ("Setting up took ten minutes and the instructions were clear.",
                     "Getting started was easy: everything explained in plain language.",
                     "The welcome guide actually answered my questions."),
        "neutral": ("Setting up worked, but I needed the online help twice.",
                    "Getting started took longer than promised.",
                    "A lot of forms to fill in before I could start."),
        "negative": ("The instructions did not match what I received.",
                     "Identity checks failed three times before anyone helped.",
                     "Nothing worked on day one and the help pages were out of date."),
    },
    "usage": {
        "positive": ("Six months in and the {item} still does exactly what I need.",
                     "Reliable, every single day. No complaints.",
                     "Better quality than I expected for the price."),
        "neutral": ("Does the job. Nothing more, nothing less.",
                    "Fine most days, the odd hiccup.",
                    "Good, though I expected the {item} to last a bit longer."),
        "negative": ("The {item} started falling apart after a few weeks.",
                     "Broke within the first month of normal use.",
                     "Not what was advertised, and it shows every day."),
    },
    "support": {
        "positive": ("Support solved my problem on the first call.",
                     "A real person answered the chat within minutes and fixed it.",
                     "They called me back exactly when they said they would."),
        "neutral": ("Got an answer in the end, after being passed around a bit.",
                    "Polite support, but it took three e-mails to sort out.",
                    "The help centre covers the basics, not much more."),
        "negative": ("Forty-five minutes on hold and then the line dropped.",
                     "Each agent told me something different.",
                     "My ticket was closed without an answer."),
    },
    "billing": {
        "positive": ("Clear invoices, no hidden charges.",
                     "Paying in instalments was simple to set up.",
                     "They refunded a double charge without me having to ask."),
        "neutral": ("The bill is correct but hard to read.",
                    "Prices went up slightly; at least they told me in advance.",
                    "The direct debit works, but the invoice always arrives late."),
        "negative": ("Charged for a service I cancelled months ago.",
                     "A surprise fee appeared on my statement with no explanation.",
                     "Impossible to get a copy of my invoice."),
    },
    "returns": {
        "positive": ("Returned it without any questions and had my money back in two days.",
                     "A free return label in the box. Very easy.",
                     "Swapped it for a different one with no fuss."),
        "neutral": ("Return accepted, but the refund took two weeks.",
                    "Had to print a label and queue at the post office.",
                    "Refund fine, return shipping at my own cost."),
        "negative": ("They refused to take back a faulty {item}.",
                     "Still waiting for my refund after a month.",
                     "The returns portal kept giving an error."),
    },
    "loyalty": {
        "positive": ("The loyalty points actually add up to something useful.",
                     "Renewed without thinking twice.",
                     "Nice to be offered the new-customer price as an existing one."),
        "neutral": ("The loyalty scheme is fine but complicated.",
                    "I'll probably stay, mostly out of convenience.",
                    "The renewal offer was okay, nothing special."),
        "negative": ("New customers get better deals than loyal ones.",
                     "My points expired without any warning.",
                     "The renewal price jumped by 30% for no clear reason."),
    },
}

# city, country, language, currency, postal code pattern, phone pattern, streets
# ("#" a digit, "@" a capital letter; a street pattern puts the number first or last).
_LOCATIONS: tuple[tuple[str, str, str, str, str, str, tuple[str, ...]], ...] = (
    ("Amsterdam", "NL", "nl", "EUR", "#### @@", "+31 6 #### ####",
     ("Keizersgracht {n}", "Overtoom {n}", "Czaar Peterstraat {n}")),
    ("Utrecht", "NL", "nl", "EUR", "#### @@", "+31 6 #### ####",
     ("Oudegracht {n}", "Biltstraat {n}")),
    ("Rotterdam", "NL", "nl", "EUR", "#### @@", "+31 6 #### ####",
     ("Witte de Withstraat {n}", "Nieuwe Binnenweg {n}")),
    ("Berlin", "DE", "de", "EUR", "#####", "+49 15# #######",
     ("Kastanienallee {n}", "Oranienstraße {n}", "Sonnenallee {n}")),
    ("München", "DE", "de", "EUR", "#####", "+49 17# #######",
     ("Leopoldstraße {n}", "Sendlinger Straße {n}")),
    ("Paris", "FR", "fr", "EUR", "750##", "+33 6 ## ## ## ##",
     ("{n} rue Oberkampf", "{n} boulevard Voltaire", "{n} rue des Martyrs")),
    ("Lyon", "FR", "fr", "EUR", "6900#", "+33 7 ## ## ## ##",
     ("{n} rue de la République", "{n} quai Saint-Antoine")),
    ("Madrid", "ES", "es", "EUR", "280##", "+34 6## ### ###",
     ("Calle de Alcalá {n}", "Calle de Fuencarral {n}")),
    ("Barcelona", "ES", "es", "EUR", "080##", "+34 6## ### ###",
     ("Carrer de Verdi {n}", "Carrer de Mallorca {n}")),
    ("Milano", "IT", "it", "EUR", "201##", "+39 3## ### ####",
     ("Via Tortona {n}", "Corso Buenos Aires {n}")),
    ("Lisboa", "PT", "pt", "EUR", "1###-###", "+351 9## ### ###",
     ("Rua Augusta {n}", "Rua da Rosa {n}")),
    ("Kraków", "PL", "pl", "PLN", "3#-###", "+48 5## ### ###",
     ("ul. Floriańska {n}", "ul. Karmelicka {n}")),
    ("Stockholm", "SE", "sv", "SEK", "1## ##", "+46 7# ### ## ##",
     ("Götgatan {n}", "Hornsgatan {n}")),
    ("London", "GB", "en", "GBP", "@@# #@@", "+44 7### ######",
     ("{n} Brick Lane", "{n} Camden Road", "{n} Upper Street")),
    ("Manchester", "GB", "en", "GBP", "M# #@@", "+44 7### ######",
     ("{n} Oldham Street", "{n} Deansgate")),
    ("Dublin", "IE", "en", "EUR", "D0# @###", "+353 8# ### ####",
     ("{n} Camden Street", "{n} Capel Street")),
    ("Zürich", "CH", "de", "CHF", "80##", "+41 7# ### ## ##",
     ("Langstrasse {n}", "Seefeldstrasse {n}")),
    ("Bruxelles", "BE", "fr", "EUR", "10##", "+32 4## ## ## ##",
     ("Rue Haute {n}", "Chaussée de Wavre {n}")),
)

_GIVEN = ("Anna", "Lucas", "Sofia", "Noah", "Emma", "Liam", "Mila", "Mateo", "Julia", "Finn",
          "Chloé", "Hugo", "Lena", "Jonas", "Marta", "Pablo", "Giulia", "Luca", "Inês", "Tomás",
          "Zofia", "Kacper", "Elsa", "Oskar", "Aoife", "Cian", "Amira", "Yusuf", "Priya",
          "Daniel", "Sara", "Ben", "Nora", "Felix", "Ava", "Sam", "Léa", "Jan", "Maya", "Omar")
_FAMILY = ("de Vries", "Jansen", "Bakker", "Müller", "Schmidt", "Martin", "Bernard", "García",
           "Fernández", "Rossi", "Bianchi", "Silva", "Costa", "Nowak", "Kowalska", "Andersson",
           "Lindqvist", "Smith", "Taylor", "O'Brien", "Murphy", "Peeters", "Dubois", "Keller",
           "Visser", "Meyer", "Moreau", "López", "Ricci", "Santos", "Wójcik", "Berg", "Brown",
           "Walsh", "Janssens", "Huber", "El Amrani", "Yilmaz", "Novak", "Hansen")
_NICKNAMES = ("Annie", "Luke", "Sofi", "Em", "Lu", "Jules", "Tom", "Zo", "Ozzy", "Benji", "Dani",
              "Max", "Bea", "Fab", "Kit", "Jo")
_OCCUPATIONS = ("Nurse", "Software developer", "Teacher", "Electrician", "Accountant",
                "Student", "Graphic designer", "Chef", "Civil engineer", "Pharmacist",
                "Shop manager", "Journalist", "Physiotherapist", "Architect",
                "Logistics planner", "Researcher", "Sales representative", "Bus driver",
                "Lawyer", "Farmer", "Retired")
_HOBBIES = ("Bouldering and sourdough baking", "Birdwatching", "Choir singing",
            "Restoring old furniture", "Board games with friends", "Open-water swimming",
            "Urban sketching", "Collecting vinyl", "Allotment gardening", "Chess",
            "Salsa dancing", "Home brewing", "Volunteering at the food bank")
_STATEMENTS = ("I prefer brands that repair rather than replace.",
               "Please don't send me more than one e-mail a month.",
               "I care about where my food comes from.",
               "I'll pay more for good service that answers the phone.",
               "I like trying new gadgets before my friends do.",
               "Keep it simple: clear prices, no small print.",
               "Family first. I shop for five.",
               "Sustainability matters to me, but so does my budget.")
_RELIGIONS = ("Christian", "Muslim", "Jewish", "Hindu", "Buddhist", "Sikh", "Humanist",
              "No religion")
_HEALTH = ("Type 1 diabetes", "Asthma", "Coeliac disease", "Hay fever", "Migraine",
           "Mild hearing loss")
_LIFE_STAGES = ((25, ("student", "young-professional")), (35, ("young-professional", "family")),
                (55, ("family", "empty-nester")), (67, ("empty-nester",)), (200, ("retired",)))

# 0-8 entries per member, mean 4; ratings lean positive, as real journals do.
_ENTRY_COUNT_WEIGHTS = (8, 9, 11, 13, 18, 13, 11, 9, 8)
_RATING_WEIGHTS = (6, 10, 19, 35, 30)
_NPS_BY_RATING = {1: (0, 0, 1, 2, 3), 2: (2, 3, 4, 5), 3: (4, 5, 6, 6, 7),
                  4: (6, 7, 7, 8, 8, 9), 5: (8, 9, 9, 10, 10, 10)}
_SENTIMENT = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}

SHOWCASE_PROFILE: dict[str, Any] = {
    "given_name": "Robin", "family_name": "van den Berg", "preferred_name": "Rob",
    "date_of_birth": "1988-04-17", "contact_email": "robin.vandenberg@mail.example",
    "phone": "+31 6 1234 5678", "street_address": "Keizersgracht 123",
    "postal_code": "1015 CJ", "city": "Amsterdam", "country": "NL", "gender": "female",
    "household_size": 3, "occupation": "Product designer", "income_band": "60k-100k",
    "preferred_language": "en", "preferred_channel": "email", "contact_frequency": "monthly",
    "dietary_requirements": ["vegetarian"], "clothing_size": "M", "budget_currency": "EUR",
    "interests": ["cycling", "outdoors", "travel", "cooking", "technology"],
    "hobbies": "Weekend bike rides and sourdough baking",
    "purchase_drivers": ["quality", "sustainability", "service"],
    "price_sensitivity": "medium", "tech_adoption": "early-majority", "life_stage": "family",
    "values_statement": "I buy fewer, better things and expect brands to repair what they sell.",
}
# (brand index, touchpoint, rating, nps, comment, days ago)
_SHOWCASE_JOURNAL: tuple[tuple[int, str, int, int | None, str, int], ...] = (
    (0, "purchase", 5, 10, "Test-rode three e-bikes and nobody rushed me. Bought the second.", 9),
    (0, "support", 4, 9, "A spoke broke; they fixed it the same afternoon.", 41),
    (1, "delivery", 2, 4, "Groceries came two hours late and the eggs were broken.", 16),
    (2, "billing", 1, 1, "Roaming charges I was told were included. Still disputing them.", 73),
    (4, "usage", 4, None, "", 120),
    (5, "returns", 5, 9, "Returned a faulty charger in the shop, refund on the spot.", 233),
    (7, "onboarding", 3, 6, "Opening the account online was quick; the ID check was not.", 402),
)


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
    if vault.data.one("SELECT 1 FROM members WHERE email_index = ?",
                      (email_index(SHOWCASE_EMAIL),)):
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
    insert_member = vault.members.insert
    seal_profile = vault.profile.seal_rows
    entries_total = values_total = 0
    feedback_seconds = 0.0
    for start in range(0, members, BATCH_MEMBERS):
        stop = min(members, start + BATCH_MEMBERS)
        # Data outermost: the key store's batch commits first (see the module docstring).
        with vault.data.transaction(), vault.keys_database.transaction():
            profile_rows: list[tuple[str, str, bytes, int]] = []
            entries: list[tuple[str, FeedbackInput]] = []
            for n in range(start, stop):
                email = SHOWCASE_EMAIL if n == 0 else MEMBER_EMAIL.format(n=n)
                member_id = insert_member(email=email, index=email_index(email),
                                          password_hash=password_hash)
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
        self._counts = _table(range(9), _ENTRY_COUNT_WEIGHTS)
        self._ratings = _table(range(1, 6), _RATING_WEIGHTS)
        self._brands = _table(range(len(DEMO_BRANDS)), [b.weight for b in DEMO_BRANDS])
        # Per brand: its touchpoints, and per (touchpoint, rating) the comments that fit.
        self._plans = []
        for brand_id, spec in zip(brand_ids, DEMO_BRANDS, strict=True):
            comments = {}
            for touchpoint in spec.touchpoints:
                by_sentiment = (spec.overrides or {}).get(touchpoint) or TEMPLATES[touchpoint]
                for rating, sentiment in _SENTIMENT.items():
                    comments[touchpoint, rating] = tuple(
                        t.format(brand=spec.name, item=spec.item) for t in by_sentiment[sentiment]
                    )
            self._plans.append((brand_id, spec.touchpoints, comments))
        self._interests = self._subsets("interests", 1, 5)
        self._drivers = self._subsets("purchase_drivers", 1, 3)
        self._diets = self._subsets("dietary_requirements", 1, 2)
        self._emails = [f"{_slug(g)}.{_slug(f)}" for g in _GIVEN for f in _FAMILY]

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
        city, country, language, currency, postal, phone, streets = pick(_LOCATIONS)
        given, family = int(r() * len(_GIVEN)), int(r() * len(_FAMILY))
        age = 18 + int(r() * 67)
        values: dict[str, Any] = {}
        if r() < 0.9:
            values["given_name"] = _GIVEN[given]
        if r() < 0.75:
            values["family_name"] = _FAMILY[family]
        if r() < 0.12:
            values["preferred_name"] = pick(_NICKNAMES)
        if r() < 0.5:
            born = self._today - dt.timedelta(days=age * 365 + int(r() * 365))
            values["date_of_birth"] = born.isoformat()
        if r() < 0.3:
            values["contact_email"] = (
                f"{self._emails[given * len(_FAMILY) + family]}{int(r() * 100)}@mail.example"
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
            values["occupation"] = "Retired" if age >= 67 else pick(_OCCUPATIONS[:-1])
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
            values["hobbies"] = pick(_HOBBIES)
        if r() < 0.5:
            values["purchase_drivers"] = self._drivers[int(r() * _POOL)]
        if r() < 0.45:
            values["price_sensitivity"] = pick(("low", "medium", "medium", "high"))
        if r() < 0.4:
            values["tech_adoption"] = pick(BY_KEY["tech_adoption"].choices)
        if r() < 0.5:
            values["life_stage"] = pick(next(s for limit, s in _LIFE_STAGES if age < limit))
        if r() < 0.15:
            values["values_statement"] = pick(_STATEMENTS)
        if r() < SENSITIVE_SHARE:
            # Special-category data (GDPR Art. 9): only a few members, each one or two fields.
            for key in rng.sample(("religion", "health_conditions", "dietary_requirements"),
                                  1 + int(r() * 2)):
                values[key] = (pick(_RELIGIONS) if key == "religion" else pick(_HEALTH)
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
                scores = _NPS_BY_RATING[rating]
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
            for brand, touchpoint, rating, nps, comment, days_ago in _SHOWCASE_JOURNAL
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
