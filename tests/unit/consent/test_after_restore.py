"""After a restore, an exception for one brand is never more than the member's latest choice,
and offers of terms taken back stay so (consent/after_restore.py); a store that was not
restored is left as it is."""

from __future__ import annotations

from typing import Any

import pytest

from consent.after_restore import _kept
from consent.context import Consent, RestoredChanges
from consent.model import BrandTerms

from .conftest import Sharing

A, B = "dpv:ServiceOptimisation", "dpv:ResearchAndDevelopment"
HELD = BrandTerms("mem_1", "brand_1", frozenset({A, B}), 90, 3, 100)


@pytest.mark.parametrize(("newest", "kept"), [
    ({"purposes": [A, B], "max_days": 90, "version": 3}, HELD),
    ({"purposes": [A, B], "max_days": 365, "version": 4}, HELD),     # widened since: not given
    ({"purposes": [], "max_days": 0, "version": 4, "removed": True}, None),
    ({"purposes": [A], "max_days": 90, "version": 1},                # taken back, accepted again
     BrandTerms("mem_1", "brand_1", frozenset({A}), 90, 1, 500)),
    ({"purposes": [A, "dpv:Marketing"], "max_days": 30, "version": 2},
     BrandTerms("mem_1", "brand_1", frozenset({A}), 30, 2, 500)),
    ({"purposes": ["dpv:Marketing"], "max_days": 0, "version": 2}, None),
], ids=["as held", "widened", "taken back", "narrowed", "partly other", "nothing left"])
def test_an_exception_keeps_only_what_the_newest_entry_still_holds(
        newest: dict[str, Any], kept: BrandTerms | None) -> None:
    assert _kept(HELD, newest, 500) == kept


def test_a_store_that_was_not_restored_is_left_as_it_is(consent: Consent,
                                                         sharing: Sharing) -> None:
    alice, bob = sharing.member("alice@example.org"), sharing.member("bob@example.org")
    velo, grocer = sharing.brand("Velo Bikes"), sharing.brand("Greenleaf Grocers")
    for brand in (velo, grocer):
        consent.terms.accept_for_brand(alice, brand.id, agreement="SD-BASE-A",
                                       purposes=[A, B], max_days=90)
    consent.terms.remove_for_brand(alice, velo.id)
    consent.terms.accept_for_brand(alice, velo.id, agreement="SD-BASE-A", purposes=[A])
    consent.agreements.member_withdraws(consent.agreements.proffer(alice, velo.id).id, alice)
    countered = consent.agreements.proffer(bob, velo.id, term="SD-BASE")
    consent.agreements.brand_counters(countered.id, velo.id, "SD-BASE-A")
    consent.agreements.member_decides(countered.id, bob, accept=False)
    consent.agreements.brand_rejects(consent.agreements.proffer(bob, grocer.id).id, grocer.id)
    for term in ("SD-BASE-ATP", "SD-BASE"):                 # narrowed: the newest in force
        consent.agreements.brand_accepts(
            consent.agreements.proffer(alice, grocer.id, term=term).id, grocer.id)
    exceptions = consent.terms.brand_terms(alice)
    agreements = [consent.agreements.for_member(member) for member in (alice, bob)]
    assert consent.reapply_recorded_changes() == RestoredChanges(
        grants=0, roles=0, terms=0, exceptions=0, agreements=0, narrower_agreements=0)
    assert consent.terms.brand_terms(alice) == exceptions
    assert [consent.agreements.for_member(member) for member in (alice, bob)] == agreements
