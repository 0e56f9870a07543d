"""The consent vocabulary: W3C DPV purposes, DPV personal-data categories and the IEEE 7012
(MyTerms) agreements of the DPV P7012 extension, as a versioned catalog.

Invariants: identifiers are the vocabularies' own (``dpv:Marketing``, ``pd:EmailAddress``,
``p7012:SD-BASE-ATP``), never renamed; ``VOCABULARY_VERSION`` changes whenever an entry is added.
Every profile attribute of the vault's catalog, the feedback journal and the survey answers map to
exactly one DPV personal-data category; a test keeps the mapping complete.

``survey`` (a member's answers to a brand's surveys and feedback requests, ``pd:Opinion``) is
granted by joining a community, never through the OAuth consent flow: the brand reads it only
through the survey API (aggregates, or individual answers where the member chose individual use),
so the authorization request refuses it (brand_gateway/rar.py).

The agreements' meaning is data here, so the rest of the code can enforce it rather than show it:
A = analytics, T = tracking, P = profiling, each by the brand (second party) only; S3P = sharing
with third parties of fully anonymised data only; DP = the brand is obliged to support data
portability. No agreement permits anything by a third party, or sharing of identifiable data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vault.catalog import ATTRIBUTES, BY_KEY, Category

VOCABULARY_VERSION = "dpv-2.2/p7012-2.2/vrmvault-2026-12.1"
DPV = "https://w3id.org/dpv#"
PD = "https://w3id.org/dpv/pd#"
P7012 = "https://w3id.org/dpv/standards/p7012#"


class Use(StrEnum):
    """What a purpose does with data, in the terms of IEEE 7012."""

    SERVICE = "service-delivery"
    ANALYTICS = "analytics"
    TRACKING = "tracking"
    PROFILING = "profiling"
    INTENT = "intent-casting"


@dataclass(frozen=True)
class Purpose:
    code: str              # e.g. "dpv:Marketing"
    label: str
    description: str       # plain language, for consent screens and receipts
    uses: frozenset[Use]
    sale_or_sharing: bool = False   # what a CCPA/CPRA opt-out (GPC) withdraws

    @property
    def iri(self) -> str:
        return DPV + self.code.split(":", 1)[1]


PURPOSES: tuple[Purpose, ...] = (
    Purpose("dpv:ServiceProvision", "Providing the service",
            "To deliver a product or service you asked for.", frozenset({Use.SERVICE})),
    Purpose("dpv:CustomerCare", "Customer care",
            "To help you when you contact them about a product or service.",
            frozenset({Use.SERVICE})),
    Purpose("dpv:ServiceOptimisation", "Improving the service",
            "To analyse how the service is used and make it work better.",
            frozenset({Use.ANALYTICS})),
    Purpose("dpv:ResearchAndDevelopment", "Research and development",
            "To analyse data for research and to develop new products.",
            frozenset({Use.ANALYTICS})),
    Purpose("dpv:Personalisation", "Personalisation",
            "To tailor what they show or offer you, based on a profile of you.",
            frozenset({Use.PROFILING})),
    Purpose("dpv:Marketing", "Marketing",
            "To send you marketing based on what they know about you.",
            frozenset({Use.PROFILING}), sale_or_sharing=True),
    Purpose("dpv:PersonalisedAdvertising", "Personalised advertising",
            "To follow your activity and show you advertising chosen for you.",
            frozenset({Use.TRACKING, Use.PROFILING}), sale_or_sharing=True),
    Purpose("dpv:CommunicationManagement", "Keeping in touch",
            "To send you messages about your account and their service.",
            frozenset({Use.SERVICE})),
)
PURPOSE_BY_CODE: dict[str, Purpose] = {p.code: p for p in PURPOSES}


@dataclass(frozen=True)
class DataCategory:
    code: str              # e.g. "pd:EmailAddress"
    label: str
    special: bool = False  # GDPR Art. 9 special category

    @property
    def iri(self) -> str:
        return PD + self.code.split(":", 1)[1]


# Each vault profile attribute, and the feedback journal, as a DPV personal-data category.
ATTRIBUTE_CATEGORY: dict[str, DataCategory] = {
    "given_name": DataCategory("pd:Name", "Name"),
    "family_name": DataCategory("pd:Name", "Name"),
    "preferred_name": DataCategory("pd:Name", "Name"),
    "date_of_birth": DataCategory("pd:BirthDate", "Birth date"),
    "contact_email": DataCategory("pd:EmailAddress", "E-mail address"),
    "phone": DataCategory("pd:TelephoneNumber", "Telephone number"),
    "street_address": DataCategory("pd:PhysicalAddress", "Physical address"),
    "postal_code": DataCategory("pd:PhysicalAddress", "Physical address"),
    "city": DataCategory("pd:City", "City"),
    "country": DataCategory("pd:Country", "Country"),
    "gender": DataCategory("pd:Gender", "Gender"),
    "household_size": DataCategory("pd:Household", "Household"),
    "occupation": DataCategory("pd:Professional", "Professional"),
    "income_band": DataCategory("pd:Income", "Income"),
    "religion": DataCategory("pd:Religion", "Religion", special=True),
    "health_conditions": DataCategory("pd:MedicalHealth", "Medical health", special=True),
    "preferred_language": DataCategory("pd:Language", "Language"),
    "preferred_channel": DataCategory("pd:Preference", "Preference"),
    "contact_frequency": DataCategory("pd:Preference", "Preference"),
    "dietary_requirements": DataCategory("pd:Preference", "Preference", special=True),
    "clothing_size": DataCategory("pd:PhysicalCharacteristic", "Physical characteristic"),
    "budget_currency": DataCategory("pd:Preference", "Preference"),
    "interests": DataCategory("pd:Interest", "Interest"),
    "hobbies": DataCategory("pd:Interest", "Interest"),
    "purchase_drivers": DataCategory("pd:Attitude", "Attitude"),
    "price_sensitivity": DataCategory("pd:Attitude", "Attitude"),
    "tech_adoption": DataCategory("pd:Attitude", "Attitude"),
    "life_stage": DataCategory("pd:Demographic", "Demographic"),
    "values_statement": DataCategory("pd:Opinion", "Opinion"),
}
FEEDBACK = "feedback"
FEEDBACK_CATEGORY = DataCategory("pd:Opinion", "Opinion")
SURVEY = "survey"
SURVEY_CATEGORY = DataCategory("pd:Opinion", "Opinion")

# Fields a grant can name: every profile attribute, plus the feedback journal and the survey
# answers, each as one field.
FIELDS: tuple[str, ...] = (*(a.key for a in ATTRIBUTES), FEEDBACK, SURVEY)
FIELD_CATEGORY: dict[str, Category | str] = {a.key: a.category for a in ATTRIBUTES} | {
    FEEDBACK: FEEDBACK, SURVEY: SURVEY}
SENSITIVE_FIELDS = frozenset(a.key for a in ATTRIBUTES if a.sensitive)
# A grant may name a whole vault category ("category:contact"); it never covers sensitive
# fields, which must be named one by one.
CATEGORY_PREFIX = "category:"


def field_label(field: str) -> str:
    """How a field a grant can name is shown to people: the attribute's label, the feedback
    journal or the survey answers."""
    spec = BY_KEY.get(field)
    if spec:
        return spec.label
    return "Survey answers" if field == SURVEY else "Feedback journal"


def field_category(field: str) -> DataCategory:
    if field == FEEDBACK:
        return FEEDBACK_CATEGORY
    if field == SURVEY:
        return SURVEY_CATEGORY
    return ATTRIBUTE_CATEGORY[field]


def expand(selectors: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[str]:
    """The fields a set of selectors (field names, ``category:…``) covers."""
    fields: set[str] = set()
    for selector in selectors:
        if selector.startswith(CATEGORY_PREFIX):
            category = selector[len(CATEGORY_PREFIX):]
            fields.update(f for f, c in FIELD_CATEGORY.items()
                          if str(c) == category and f not in SENSITIVE_FIELDS)
        elif selector in FIELD_CATEGORY:
            fields.add(selector)
    return frozenset(fields)


def is_selector(selector: str) -> bool:
    if selector.startswith(CATEGORY_PREFIX):
        return selector[len(CATEGORY_PREFIX):] in {str(c) for c in FIELD_CATEGORY.values()}
    return selector in FIELD_CATEGORY


# -- IEEE 7012 (MyTerms) agreements, W3C DPV P7012 extension ---------------------------------------
@dataclass(frozen=True)
class Agreement:
    code: str                       # e.g. "SD-BASE-ATP-S3P-DP"
    label: str
    uses: frozenset[Use]            # what the brand may do
    anonymised_third_party: bool    # S3P
    portability: bool               # DP
    summary: str

    @property
    def iri(self) -> str:
        return P7012 + self.code

    def permits(self, purpose: Purpose) -> bool:
        return purpose.uses <= self.uses


def _sd(suffix: str, uses: set[Use], s3p: bool, dp: bool, summary: str) -> Agreement:
    code = "SD-BASE" + (f"-{suffix}" if suffix else "") + ("-DP" if dp else "")
    label = code.replace("SD-BASE", "Service delivery")
    return Agreement(code, label, frozenset({Use.SERVICE, *uses}), s3p, dp, summary + (
        " The brand must let you take your data with you." if dp else ""))


AGREEMENTS: tuple[Agreement, ...] = tuple(
    _sd(suffix, uses, s3p, dp, summary)
    for dp in (False, True)
    for suffix, uses, s3p, summary in (
        ("", set(), False, "Only to deliver the service: no analytics, tracking or profiling,"
                           " no sharing."),
        ("A", {Use.ANALYTICS}, False, "To deliver the service, and analytics by the brand"
                                      " itself; no tracking, profiling or sharing."),
        ("AT", {Use.ANALYTICS, Use.TRACKING}, False,
         "Service, analytics and tracking by the brand itself; no profiling or sharing."),
        ("ATP", {Use.ANALYTICS, Use.TRACKING, Use.PROFILING}, False,
         "Service, analytics, tracking and profiling by the brand itself; no sharing."),
        ("ATP-S3P", {Use.ANALYTICS, Use.TRACKING, Use.PROFILING}, True,
         "Service, analytics, tracking and profiling by the brand itself, and sharing of"
         " fully anonymised data with third parties."),
    )
) + (
    Agreement("PDC-INTENT", "Personal data contribution for intent casting",
              frozenset({Use.INTENT, Use.SERVICE}), False, False,
              "You share a need you published so that brands can answer it with offers."),
)
AGREEMENT_BY_CODE: dict[str, Agreement] = {a.code: a for a in AGREEMENTS}
DEFAULT_AGREEMENT = "SD-BASE"
