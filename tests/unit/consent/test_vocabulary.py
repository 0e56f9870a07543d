"""consent.vocabulary: DPV purposes and categories, and the meaning of the P7012 agreements.

The agreements' meaning is checked against an independent reading of their codes (IEEE 7012 /
DPV P7012): A = analytics, T = tracking, P = profiling, each by the brand; S3P = anonymised
sharing with third parties; DP = portability; PDC-INTENT = intent casting.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.vocabulary import (
    AGREEMENT_BY_CODE,
    AGREEMENTS,
    ATTRIBUTE_CATEGORY,
    CATEGORY_PREFIX,
    DEFAULT_AGREEMENT,
    DPV,
    FEEDBACK,
    FIELD_CATEGORY,
    FIELDS,
    P7012,
    PD,
    PURPOSE_BY_CODE,
    PURPOSES,
    SENSITIVE_FIELDS,
    SURVEY,
    VOCABULARY_VERSION,
    Agreement,
    Use,
    expand,
    field_category,
    field_label,
    is_selector,
)
from vault.catalog import ATTRIBUTES, Category

P7012_CODES = {
    "SD-BASE", "SD-BASE-DP",
    "SD-BASE-A", "SD-BASE-A-DP",
    "SD-BASE-AT", "SD-BASE-AT-DP",
    "SD-BASE-ATP", "SD-BASE-ATP-DP",
    "SD-BASE-ATP-S3P", "SD-BASE-ATP-S3P-DP",
    "PDC-INTENT",
}
_SD = re.compile(r"SD-BASE(?:-(?P<letters>A|AT|ATP))?(?P<s3p>-S3P)?(?P<dp>-DP)?")
LETTER_USE = {"A": Use.ANALYTICS, "T": Use.TRACKING, "P": Use.PROFILING}
CATEGORY_SELECTORS = [CATEGORY_PREFIX + str(c) for c in Category] + [
    CATEGORY_PREFIX + FEEDBACK, CATEGORY_PREFIX + SURVEY]


# -- categories ---------------------------------------------------------------------------------
@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: a.key)
def test_every_catalog_attribute_maps_to_a_dpv_category(attribute) -> None:
    category = ATTRIBUTE_CATEGORY[attribute.key]
    assert re.fullmatch(r"pd:[A-Z][A-Za-z]+", category.code)
    assert category.iri == PD + category.code.removeprefix("pd:")
    assert category.label
    assert field_category(attribute.key) is category
    assert FIELD_CATEGORY[attribute.key] == attribute.category


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: a.key)
def test_special_categories_are_exactly_the_sensitive_attributes(attribute) -> None:
    assert ATTRIBUTE_CATEGORY[attribute.key].special is attribute.sensitive
    assert (attribute.key in SENSITIVE_FIELDS) is attribute.sensitive


def test_the_mapping_is_complete_and_has_nothing_extra() -> None:
    keys = [a.key for a in ATTRIBUTES]
    assert set(ATTRIBUTE_CATEGORY) == set(keys)
    assert list(FIELDS) == [*keys, FEEDBACK, SURVEY]
    assert set(FIELD_CATEGORY) == set(FIELDS)
    for journal in (FEEDBACK, SURVEY):
        assert field_category(journal).code == "pd:Opinion"
        assert not field_category(journal).special
    assert field_label(SURVEY) == "Survey answers"
    assert SENSITIVE_FIELDS == {"religion", "health_conditions", "dietary_requirements"}


def test_the_catalog_is_versioned() -> None:
    assert VOCABULARY_VERSION.startswith("dpv-")
    assert "p7012" in VOCABULARY_VERSION


# -- purposes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("purpose", PURPOSES, ids=lambda p: p.code)
def test_purposes_are_dpv_codes_in_plain_language(purpose) -> None:
    assert re.fullmatch(r"dpv:[A-Z][A-Za-z]+", purpose.code)
    assert purpose.iri == DPV + purpose.code.removeprefix("dpv:")
    assert purpose.label and purpose.description.endswith(".")
    assert purpose.uses and Use.INTENT not in purpose.uses
    assert PURPOSE_BY_CODE[purpose.code] is purpose
    if purpose.sale_or_sharing:
        # what a CCPA/CPRA opt-out withdraws: marketing and advertising built on a profile
        assert purpose.uses & {Use.PROFILING, Use.TRACKING}


def test_purpose_codes_are_unique_and_the_opt_out_covers_marketing_and_ads() -> None:
    assert len(PURPOSE_BY_CODE) == len(PURPOSES)
    assert {p.code for p in PURPOSES if p.sale_or_sharing} == {
        "dpv:Marketing", "dpv:PersonalisedAdvertising"}


# -- IEEE 7012 agreements -----------------------------------------------------------------------
def test_the_roster_is_the_eleven_p7012_codes() -> None:
    assert [a.code for a in AGREEMENTS].count("PDC-INTENT") == 1
    assert len(AGREEMENTS) == 11
    assert set(AGREEMENT_BY_CODE) == P7012_CODES
    assert DEFAULT_AGREEMENT == "SD-BASE" and DEFAULT_AGREEMENT in AGREEMENT_BY_CODE


def expected_uses(code: str) -> tuple[set[Use], bool, bool]:
    """What a code means, read from the code alone: (uses, S3P, DP)."""
    if code == "PDC-INTENT":
        return {Use.SERVICE, Use.INTENT}, False, False
    match = _SD.fullmatch(code)
    assert match, code
    uses = {Use.SERVICE} | {LETTER_USE[letter] for letter in match["letters"] or ""}
    return uses, bool(match["s3p"]), bool(match["dp"])


@pytest.mark.parametrize("agreement", AGREEMENTS, ids=lambda a: a.code)
def test_each_agreement_means_what_its_code_says(agreement: Agreement) -> None:
    uses, s3p, dp = expected_uses(agreement.code)
    assert set(agreement.uses) == uses
    assert agreement.anonymised_third_party is s3p
    assert agreement.portability is dp
    assert agreement.iri == P7012 + agreement.code
    assert agreement.summary and agreement.label
    if dp:
        assert "take your data with you" in agreement.summary


@pytest.mark.parametrize("agreement", AGREEMENTS, ids=lambda a: a.code)
def test_the_ladder_a_then_t_then_p(agreement: Agreement) -> None:
    # tracking only with analytics, profiling only with both, S3P only on top of ATP
    if Use.TRACKING in agreement.uses:
        assert Use.ANALYTICS in agreement.uses
    if Use.PROFILING in agreement.uses:
        assert {Use.ANALYTICS, Use.TRACKING} <= agreement.uses
    if agreement.anonymised_third_party:
        assert "-ATP-S3P" in agreement.code
        assert {Use.ANALYTICS, Use.TRACKING, Use.PROFILING} <= agreement.uses
    assert agreement.anonymised_third_party == ("S3P" in agreement.code)
    assert agreement.portability == agreement.code.endswith("-DP")


@pytest.mark.parametrize("agreement", AGREEMENTS, ids=lambda a: a.code)
@pytest.mark.parametrize("purpose", PURPOSES, ids=lambda p: p.code)
def test_an_agreement_permits_a_purpose_only_if_it_allows_every_use(agreement, purpose) -> None:
    uses, _, _ = expected_uses(agreement.code)
    assert agreement.permits(purpose) is (set(purpose.uses) <= uses)


def test_permissions_by_term() -> None:
    def permitted(code: str) -> set[str]:
        return {p.code for p in PURPOSES if AGREEMENT_BY_CODE[code].permits(p)}

    service = {"dpv:ServiceProvision", "dpv:CustomerCare", "dpv:CommunicationManagement"}
    analytics = {"dpv:ServiceOptimisation", "dpv:ResearchAndDevelopment"}
    assert permitted("SD-BASE") == permitted("SD-BASE-DP") == service
    assert permitted("SD-BASE-A") == service | analytics
    assert permitted("SD-BASE-AT") == service | analytics      # no purpose is tracking alone
    assert permitted("SD-BASE-ATP") == permitted("SD-BASE-ATP-S3P-DP") == {
        p.code for p in PURPOSES}
    assert "dpv:Personalisation" not in permitted("SD-BASE-AT")
    assert permitted("PDC-INTENT") == service


# -- selectors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("selector", CATEGORY_SELECTORS)
def test_a_category_covers_its_fields_but_never_a_sensitive_one(selector: str) -> None:
    category = selector.removeprefix(CATEGORY_PREFIX)
    covered = expand({selector})
    assert is_selector(selector)
    assert not covered & SENSITIVE_FIELDS
    assert covered == {f for f, c in FIELD_CATEGORY.items()
                       if str(c) == category and f not in SENSITIVE_FIELDS}
    assert covered, "a category selector that covers nothing"


def test_sensitive_fields_are_covered_only_when_named() -> None:
    everything = expand(frozenset(CATEGORY_SELECTORS))
    assert everything == set(FIELDS) - SENSITIVE_FIELDS
    assert expand({"religion", "category:demographics"}) == (
        expand({"category:demographics"}) | {"religion"})
    for field in SENSITIVE_FIELDS:
        assert is_selector(field) and expand((field,)) == {field}


@pytest.mark.parametrize("selector", [
    "", "category:", "category:bogus", "category:Contact", "Category:contact", "bogus",
    "Given_Name", " given_name", "given_name ", "category:contact ", "category:religion",
    "dpv:Marketing", "pd:Name", "category:category:contact",
])
def test_unknown_selectors_are_not_selectors(selector: str) -> None:
    assert not is_selector(selector)
    assert expand({selector}) == frozenset()
    assert expand({selector, "city"}) == {"city"}


@given(st.sets(st.sampled_from([*FIELDS, *CATEGORY_SELECTORS]), max_size=8))
def test_expand_only_ever_yields_known_fields(selectors: set[str]) -> None:
    covered = expand(selectors)
    assert covered <= set(FIELDS)
    assert covered & SENSITIVE_FIELDS == selectors & SENSITIVE_FIELDS
    assert all(is_selector(s) for s in selectors)


@given(st.text(max_size=30))
def test_random_text_is_a_selector_only_if_it_names_a_field_or_category(text: str) -> None:
    known = text in FIELD_CATEGORY or text in CATEGORY_SELECTORS
    assert is_selector(text) is known
    assert bool(expand({text})) is known
