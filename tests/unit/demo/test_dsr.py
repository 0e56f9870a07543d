"""demo.dsr: the showcase member's access request is open and forwarded to the brands holding
their data; the other demo members' requests have the vault's part done."""

from __future__ import annotations

from consent.context import Consent
from demo.consents import load_consent_demo
from demo.dsr import OTHER_KINDS, load_dsr_demo
from demo.members import SHOWCASE_EMAIL, load_demo
from web.config import from_environment


def test_the_showcase_request_is_open_and_the_others_fulfilled(consent: Consent) -> None:
    vault = consent.vault
    load_demo(vault, members=120)
    load_consent_demo(consent)
    report = load_dsr_demo(consent, from_environment({}), callback_base="http://localhost")
    assert report.requests == 1 + len(OTHER_KINDS) and report.forwarded >= report.requests
    showcase = vault.members.find(SHOWCASE_EMAIL)
    rows = vault.data.all("SELECT r.kind, r.state, r.fulfilled_at, m.id AS member"
                          " FROM dsr_requests r JOIN members m ON m.num = r.member_num")
    mine = [r for r in rows if r["member"] == showcase]
    assert [(r["kind"], r["state"]) for r in mine] == [("access", "in_progress")]
    assert all(r["fulfilled_at"] is not None for r in rows)
    assert sorted(r["kind"] for r in rows if r["member"] != showcase) == sorted(OTHER_KINDS)
