"""demo.loop: the showcase member sees a "we did" with a figure to show and has an answered
care case; every grant it makes has its receipt, and it never doubles a live grant."""

from __future__ import annotations

from collections import Counter

from community.storage import care_service, wedid_service
from consent.context import Consent
from demo.consents import load_consent_demo
from demo.loop import LOOP_BRAND, load_loop_demo
from demo.members import SHOWCASE_EMAIL, load_demo


def test_the_showcase_member_sees_a_we_did_and_an_answered_case(consent: Consent) -> None:
    vault = consent.vault
    load_demo(vault, members=120)
    load_consent_demo(consent)
    report = load_loop_demo(consent)
    showcase = vault.accounts.find_by_index(vault.members.email_index(SHOWCASE_EMAIL))
    assert showcase is not None and report.posts == 1 and report.cases == 1
    assert report.panel >= 60
    [post] = wedid_service(consent=consent).for_member(showcase.id)
    assert {b.id: b.name for b in vault.brands.all()}[post.brand_id] == LOOP_BRAND
    assert post.release is not None and post.release["epsilon"] == 1.0
    [case] = care_service(consent=consent, accepts_term=lambda b, t: False).for_member(
        showcase.id)
    assert case.state.value == "answered" and case.answer
    grants = vault.data.all("SELECT * FROM grants")
    now = vault.clock()
    live = Counter((g["member_id"], g["brand_id"], g["purpose"]) for g in grants
                   if g["status"] == "active" and g["ends_at"] > now)
    assert max(live.values()) == 1
    receipts = Counter(r["grant_id"] for r in vault.data.all("SELECT grant_id FROM receipts"))
    assert all(receipts[g["id"]] >= 1 for g in grants)
