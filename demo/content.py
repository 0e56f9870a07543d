"""The invented world of the demo: brands with their touchpoints and comment templates, places,
names, occupations and the other tables member profiles are drawn from, the weights that shape
the feedback, and the showcase member's hand-written profile and journal.

Invariants:
- Data only: nothing here touches a store or draws a random number; :mod:`demo.members`
  draws from these tables with its seeded generator.
- Invented: addresses are made up from common street names and number patterns, e-mail
  addresses use reserved example domains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DemoBrand:
    name: str
    categories: tuple[str, ...]            # ids of the intent catalog (intents/catalog.py)
    item: str                              # what the customer bought, for comment templates
    touchpoints: tuple[str, ...]
    weight: int                            # relative share of feedback entries
    overrides: dict[str, dict[str, tuple[str, ...]]] | None = None


ALL_TOUCHPOINTS = ("awareness", "consideration", "purchase", "delivery", "onboarding", "usage",
                   "support", "billing", "returns", "loyalty")

DEMO_BRANDS: tuple[DemoBrand, ...] = (
    DemoBrand("Spokesmith Cycles", ("bicycles", "sports"), "e-bike",
              tuple(t for t in ALL_TOUCHPOINTS if t != "billing"), 3),
    DemoBrand("Greenleaf Grocers", ("groceries",), "weekly shop",
              ("awareness", "purchase", "delivery", "support", "returns", "loyalty"), 6),
    DemoBrand("Northwave Mobile", ("phones", "mobile-plans"), "phone plan",
              ("awareness", "consideration", "purchase", "onboarding", "usage", "support",
               "billing", "loyalty"), 5, {"usage": {
                  "positive": ("Coverage is excellent, even on the train.",
                               "Fast mobile data everywhere I go."),
                  "neutral": ("Signal is fine in town, patchy in the countryside.",),
                  "negative": ("Calls keep dropping at home.",
                               "Data speed collapses every evening.")}}),
    DemoBrand("Atelier Lume", ("clothing", "footwear"), "winter coat",
              ("awareness", "consideration", "purchase", "delivery", "usage", "support",
               "returns", "loyalty"), 4, {"usage": {
                  "positive": ("Still looks new after a whole winter.",
                               "Fits perfectly and washes well."),
                  "neutral": ("Nice fabric, but the sizing runs small.",),
                  "negative": ("The seams came apart after three washes.",
                               "The colour faded after a couple of washes.")}}),
    DemoBrand("Skylark Airways", ("flights", "travel"), "flight",
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
    DemoBrand("Voltbox Electronics", ("electronics", "computers"), "laptop", ALL_TOUCHPOINTS, 4),
    DemoBrand("Oakhaven Furniture", ("furniture", "home-services"), "sofa",
              ("consideration", "purchase", "delivery", "onboarding", "usage", "support",
               "billing", "returns"), 2),
    DemoBrand("Harbour & Pine Bank", ("banking", "insurance"), "current account",
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
LOCATIONS: tuple[tuple[str, str, str, str, str, str, tuple[str, ...]], ...] = (
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

GIVEN_NAMES = ("Anna", "Lucas", "Sofia", "Noah", "Emma", "Liam", "Mila", "Mateo", "Julia", "Finn",
          "Chloé", "Hugo", "Lena", "Jonas", "Marta", "Pablo", "Giulia", "Luca", "Inês", "Tomás",
          "Zofia", "Kacper", "Elsa", "Oskar", "Aoife", "Cian", "Amira", "Yusuf", "Priya",
          "Daniel", "Sara", "Ben", "Nora", "Felix", "Ava", "Sam", "Léa", "Jan", "Maya", "Omar")
FAMILY_NAMES = ("de Vries", "Jansen", "Bakker", "Müller", "Schmidt", "Martin", "Bernard", "García",
           "Fernández", "Rossi", "Bianchi", "Silva", "Costa", "Nowak", "Kowalska", "Andersson",
           "Lindqvist", "Smith", "Taylor", "O'Brien", "Murphy", "Peeters", "Dubois", "Keller",
           "Visser", "Meyer", "Moreau", "López", "Ricci", "Santos", "Wójcik", "Berg", "Brown",
           "Walsh", "Janssens", "Huber", "El Amrani", "Yilmaz", "Novak", "Hansen")
NICKNAMES = ("Annie", "Luke", "Sofi", "Em", "Lu", "Jules", "Tom", "Zo", "Ozzy", "Benji", "Dani",
              "Max", "Bea", "Fab", "Kit", "Jo")
OCCUPATIONS = ("Nurse", "Software developer", "Teacher", "Electrician", "Accountant",
                "Student", "Graphic designer", "Chef", "Civil engineer", "Pharmacist",
                "Shop manager", "Journalist", "Physiotherapist", "Architect",
                "Logistics planner", "Researcher", "Sales representative", "Bus driver",
                "Lawyer", "Farmer", "Retired")
HOBBIES = ("Bouldering and sourdough baking", "Birdwatching", "Choir singing",
            "Restoring old furniture", "Board games with friends", "Open-water swimming",
            "Urban sketching", "Collecting vinyl", "Allotment gardening", "Chess",
            "Salsa dancing", "Home brewing", "Volunteering at the food bank")
STATEMENTS = ("I prefer brands that repair rather than replace.",
               "Please don't send me more than one e-mail a month.",
               "I care about where my food comes from.",
               "I'll pay more for good service that answers the phone.",
               "I like trying new gadgets before my friends do.",
               "Keep it simple: clear prices, no small print.",
               "Family first. I shop for five.",
               "Sustainability matters to me, but so does my budget.")
RELIGIONS = ("Christian", "Muslim", "Jewish", "Hindu", "Buddhist", "Sikh", "Humanist",
              "No religion")
HEALTH_CONDITIONS = ("Type 1 diabetes", "Asthma", "Coeliac disease", "Hay fever", "Migraine",
           "Mild hearing loss")
LIFE_STAGES = ((25, ("student", "young-professional")), (35, ("young-professional", "family")),
                (55, ("family", "empty-nester")), (67, ("empty-nester",)), (200, ("retired",)))

# 0-8 entries per member, mean 4; ratings lean positive, as real journals do.
ENTRY_COUNT_WEIGHTS = (8, 9, 11, 13, 18, 13, 11, 9, 8)
RATING_WEIGHTS = (6, 10, 19, 35, 30)
NPS_BY_RATING = {1: (0, 0, 1, 2, 3), 2: (2, 3, 4, 5), 3: (4, 5, 6, 6, 7),
                  4: (6, 7, 7, 8, 8, 9), 5: (8, 9, 9, 10, 10, 10)}
SENTIMENT = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}

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
SHOWCASE_JOURNAL: tuple[tuple[int, str, int, int | None, str, int], ...] = (
    (0, "purchase", 5, 10, "Test-rode three e-bikes and nobody rushed me. Bought the second.", 9),
    (0, "support", 4, 9, "A spoke broke; they fixed it the same afternoon.", 41),
    (1, "delivery", 2, 4, "Groceries came two hours late and the eggs were broken.", 16),
    (2, "billing", 1, 1, "Roaming charges I was told were included. Still disputing them.", 73),
    (4, "usage", 4, None, "", 120),
    (5, "returns", 5, 9, "Returned a faulty charger in the shop, refund on the spot.", 233),
    (7, "onboarding", 3, 6, "Opening the account online was quick; the ID check was not.", 402),
)
