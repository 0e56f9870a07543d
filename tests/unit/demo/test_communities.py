"""demo.communities: communities of the demo brands with the showcase member and others in
them, joined through consent grants; a challenge with ideas and votes."""

from __future__ import annotations

from community.storage import cocreation_service, membership_service
from consent.context import Consent
from demo.communities import COMMUNITIES, SHOWCASE_IDEA, load_community_demo
from demo.consents import load_consent_demo
from demo.members import SHOWCASE_EMAIL, load_demo


def test_the_demo_communities_are_joined_through_grants(consent: Consent) -> None:
    vault = consent.vault
    load_demo(vault, members=60)
    load_consent_demo(consent)
    report = load_community_demo(consent)
    assert report.communities == len(COMMUNITIES)
    assert report.memberships > 20 and report.ideas >= 5 and report.votes > 0
    showcase = vault.accounts.find_by_index(vault.members.email_index(SHOWCASE_EMAIL))
    assert showcase is not None
    mine = membership_service(consent).communities(showcase.id)
    assert {m.community.name for m in mine} == {c[1] for c in COMMUNITIES if c[4]}
    assert all(m.in_force for m in mine)
    linked = vault.data.one("SELECT count(DISTINCT grant_id) FROM community_grants")[0]
    receipts = vault.data.one("SELECT count(*) FROM receipts r JOIN community_grants c"
                              " ON c.grant_id = r.grant_id")[0]
    assert linked > 0 and receipts >= linked
    repair = next(m for m in mine if m.community.name == COMMUNITIES[0][1])
    cocreation = cocreation_service(consent)
    [challenge] = cocreation.challenges(showcase.id, repair.community.id)
    ideas = cocreation.ideas(showcase.id, challenge.id)
    assert any(i.mine and i.text == SHOWCASE_IDEA for i in ideas)
    assert sum(i.votes for i in ideas) == report.votes
    assert sum(i.taken_up_at is not None for i in ideas) == 1
