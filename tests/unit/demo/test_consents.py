"""demo.consents: the demo's grants are one live grant per member, brand and purpose, each with
its receipt."""

from __future__ import annotations

from collections import Counter

from consent.context import Consent
from demo.consents import load_consent_demo
from demo.members import load_demo


def test_the_demo_never_holds_two_live_grants_for_one_brand_and_purpose(
        consent: Consent) -> None:
    vault = consent.vault
    load_demo(vault, members=60)
    report = load_consent_demo(consent)
    grants = vault.data.all("SELECT * FROM grants")
    assert len(grants) == report.grants > 4             # the showcase member and a few others
    now = vault.clock()
    live = Counter((g["member_id"], g["brand_id"], g["purpose"]) for g in grants
                   if g["status"] == "active" and g["ends_at"] > now)
    assert live and max(live.values()) == 1
    receipts = Counter(r["grant_id"] for r in vault.data.all("SELECT grant_id FROM receipts"))
    assert all(receipts[g["id"]] >= 1 for g in grants)
