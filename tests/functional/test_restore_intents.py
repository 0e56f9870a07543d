"""A restore never gives back what a member took away in intent casting, the insight
community or their terms: a backup of the data store is older than the ledger, and every
intent withdrawn, paused, expired or fulfilled, brand blocked from intents, offer closed, spam
report decided, community left or closed, exception for one brand narrowed or taken back and
offer of terms withdrawn or rejected that the ledger recorded since is made to hold again
(intents/, community/ and consent/after_restore.py): on SQLCipher by ``vrmvault restore``, on
PostgreSQL by ``pg_restore`` then ``vrmvault reapply-erasures``. What was given since (an
offer accepted, a brand unblocked, a join) is not given again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from community.membership import MembershipService
from community.storage import cocreation_service, community_service, membership_service
from consent.context import Consent
from consent.model import AgreementStatus
from intents.model import IntentDraft, IntentStatus, OfferStatus
from intents.service import IntentService
from intents.storage import intent_service
from tests.conftest import GOOD_PASSWORD
from tests.functional.test_restore_grants import _backed_up, _consent, _vrmvault
from vault.clock import FrozenClock
from vault.errors import ConflictError
from vault.home import Vault, VaultHome

DAY = 86_400
IMPROVING = "dpv:ServiceOptimisation"


def _intents(consent: Consent, *, logged: bool = True) -> IntentService:
    """The intent service; ``logged=False``: what brands are shown is not recorded, so that
    reading after the restore appends nothing to the ledger."""
    if logged:
        return intent_service(consent)
    return intent_service(consent, listing_log=lambda details, actor, at: None)


def _member(vault: Vault, email: str) -> str:
    member_id = vault.members.register(email, GOOD_PASSWORD)
    vault.profile.update(member_id, {"contact_email": email, "given_name": "Alice"})
    return member_id


def _draft(vault: Vault, description: str, **changes: Any) -> IntentDraft:
    today = dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()
    values: dict[str, Any] = dict(
        category="bicycles", description=description, budget_min="500", budget_max="900",
        currency="EUR", window_from=today + dt.timedelta(days=1),
        window_until=today + dt.timedelta(days=30), country="NL", region="NL-ZH",
        city="Leiden", reveal_fields=("contact_email", "given_name"), expires_on=None)
    values.update(changes)
    return IntentDraft(**values)


def _offer(intents: IntentService, vault: Vault, brand_id: str, description: str) -> str:
    """An offer of ``brand_id`` on the intent it lists with ``description``; its id."""
    pseudonym = next(item.pseudonym for item in intents.list_for_brand(brand_id).items
                     if item.description == description)
    return intents.make_offer(brand_id, pseudonym, price="700", currency="EUR",
                              terms="Delivered in a week", message="",
                              valid_until=int(vault.clock()) + 7 * DAY).id


def _listed(intents: IntentService, brand_id: str) -> list[str]:
    """What the brand is shown, by description."""
    return sorted(item.description for item in intents.list_for_brand(brand_id).items)


def test_what_a_member_took_away_from_brands_in_intent_casting_stays_away_after_a_restore(
        vault_home: VaultHome, tmp_path: Path) -> None:
    home, clock = vault_home, FrozenClock()
    with _consent(home, clock) as consent:
        vault, intents = consent.vault, _intents(consent)
        alice, bob, carol = (_member(vault, f"{name}@example.org")
                             for name in ("alice", "bob", "carol"))
        olga = vault.members.register("olga@example.org", GOOD_PASSWORD)      # an officer
        velo = vault.brands.add("Velo Bikes", ("bicycles",)).id
        spoke = vault.brands.add("Spoke & Chain", ("bicycles",)).id
        today = dt.datetime.fromtimestamp(clock(), dt.UTC).date()
        cast = {name: intents.cast(owner, _draft(vault, name, **changes)).id
                for name, owner, changes in (
                    ("withdrawn", alice, {}), ("paused", alice, {}), ("kept", alice, {}),
                    ("fulfilled", alice, {}), ("edited", alice, {}),
                    ("expiring", alice, {"expires_on": today + dt.timedelta(days=1)}),
                    ("bobs", bob, {}), ("carols", carol, {}))}
        owner = {name: bob if name == "bobs" else carol if name == "carols" else alice
                 for name in cast}
        offers = {"velo on withdrawn": _offer(intents, vault, velo, "withdrawn"),
                  "velo on kept": _offer(intents, vault, velo, "kept"),
                  "spoke on kept": _offer(intents, vault, spoke, "kept"),
                  "velo on fulfilled": _offer(intents, vault, velo, "fulfilled"),
                  "spoke on fulfilled": _offer(intents, vault, spoke, "fulfilled"),
                  "spoke on bobs": _offer(intents, vault, spoke, "bobs"),
                  "spam on bobs": _offer(intents, vault, spoke, "bobs")}
        report = intents.report_spam(bob, offers["spam on bobs"], reason="Not what I asked")
        intents.block(carol, velo)
    restore = _backed_up(home, tmp_path)
    clock.advance(3_600)
    with _consent(home, clock) as consent:
        intents = _intents(consent)
        intents.withdraw(alice, cast["withdrawn"])          # declines velo's offer on it
        intents.pause(alice, cast["paused"])
        intents.edit(alice, cast["edited"], _draft(vault, "edited, my address taken out"))
        intents.withdraw_offer(velo, offers["velo on kept"])
        intents.decline(alice, offers["spoke on kept"])
        # A reveal is a grant given since: lost with the restore, as the agreement it made.
        intents.accept(alice, offers["velo on fulfilled"], fields=["contact_email"])
        intents.block(bob, velo)
        intents.unblock(carol, velo)                        # gives: not made again
        intents.decide_report(report.id, olga, outcome="upheld")    # withdraws spoke's other
        clock.advance(2 * DAY)
        assert intents.expire() == 1
        quiet = _intents(consent, logged=False)
        before = {name: quiet.get(owner[name], intent_id) for name, intent_id in cast.items()}
        offered = {name: quiet.offer(alice if "bobs" not in name else bob, offer_id)
                   for name, offer_id in offers.items()}
        listed = {brand: _listed(quiet, brand) for brand in (velo, spoke)}
        reports = quiet.spam_reports(status=None)
    assert [before[n].status for n in ("withdrawn", "paused", "fulfilled", "expiring")] == [
        IntentStatus.WITHDRAWN, IntentStatus.PAUSED, IntentStatus.FULFILLED,
        IntentStatus.EXPIRED]
    assert listed == {velo: ["carols", "edited, my address taken out", "kept"],
                      spoke: ["bobs", "carols", "edited, my address taken out", "kept"]}
    assert offered["spoke on bobs"].status is OfferStatus.WITHDRAWN

    told = restore()
    assert ("ended or paused again 4 intents and paused 1 intent whose edit since is lost (its"
            " member checks it and resumes it), blocked again 1 brand from a member's intents,"
            " closed again 5 offers on intents and decided again 1 spam report since") in told

    def as_before() -> int:
        with _consent(home, clock) as consent:
            intents = _intents(consent, logged=False)
            for name, intent_id in cast.items():
                if name != "edited":
                    assert intents.get(owner[name], intent_id) == before[name], name
            # The edit is lost, and the intent says what its member took out of it: paused
            # until she checks it (the stricter reading), at the time of the edit.
            edited = intents.get(alice, cast["edited"])
            assert (edited.description, edited.status, edited.updated_at) == (
                "edited", IntentStatus.PAUSED, before["edited"].updated_at)
            for name, offer_id in offers.items():
                found = intents.offer(alice if "bobs" not in name else bob, offer_id)
                if name == "velo on fulfilled":     # its acceptance was lost; nobody can now
                    assert found.status is OfferStatus.OPEN and found.grant_id is None
                    with pytest.raises(ConflictError):
                        intents.accept(alice, offer_id, fields=["contact_email"])
                else:
                    assert found == offered[name], name
            # Velo sees neither the intents taken away nor bob's, who blocked it since; carol
            # unblocked it since, which the restore does not make again: she does so herself.
            assert _listed(intents, velo) == ["kept"]
            assert _listed(intents, spoke) == ["bobs", "carols", "kept"]
            assert intents.blocked(bob) == intents.blocked(carol) == [(velo, "Velo Bikes")]
            assert intents.spam_reports(status=None) == reports
            return consent.ledger.size

    entries = as_before()
    again = _vrmvault(home, "reapply-erasures")
    assert ("ended or paused again 0 intents and paused 0 intents whose edit since is lost"
            " (its member checks it and resumes it), blocked again 0 brands from a member's"
            " intents, closed again 0 offers on intents and decided again 0 spam reports"
            " since") in again
    assert as_before() == entries                   # the entries were there already


def test_an_intent_cast_after_a_restore_never_takes_a_number_a_brand_was_shown(
        vault_home: VaultHome, tmp_path: Path) -> None:
    """The backup's numbering is behind the intents cast since, which the restore loses (the
    ledger records no casting): the next intent took the lost one's number, and so its
    pseudonym, at every brand that had listed the lost one."""
    home, clock = vault_home, FrozenClock()
    with _consent(home, clock) as consent:
        vault, intents = consent.vault, _intents(consent)
        alice = _member(vault, "alice@example.org")
        velo = vault.brands.add("Velo Bikes", ("bicycles",)).id
        intents.cast(alice, _draft(vault, "before"))
    restore = _backed_up(home, tmp_path)
    with _consent(home, clock) as consent:
        intents = _intents(consent)
        intents.cast(alice, _draft(consent.vault, "lost with the restore"))
        shown = {item.description: item.pseudonym
                 for item in intents.list_for_brand(velo).items}
    restore()
    with _consent(home, clock) as consent:
        intents = _intents(consent)
        bob = _member(consent.vault, "bob@example.org")
        intents.cast(bob, _draft(consent.vault, "bob's, after"))
        listed = {item.description: item.pseudonym
                  for item in intents.list_for_brand(velo).items}
    assert set(shown) == {"before", "lost with the restore"}
    assert set(listed) == {"before", "bob's, after"}
    assert listed["before"] == shown["before"]
    assert listed["bob's, after"] != shown["lost with the restore"]


def _joined(membership: MembershipService, member_id: str) -> list[str]:
    return [joined.community.id for joined in membership.communities(member_id)]


def test_communities_left_or_closed_and_terms_taken_back_stay_so_after_a_restore(
        vault_home: VaultHome, tmp_path: Path) -> None:
    home, clock = vault_home, FrozenClock()
    with _consent(home, clock) as consent:
        vault, communities = consent.vault, community_service(consent)
        alice, bob = (vault.members.register(f"{name}@example.org", GOOD_PASSWORD)
                      for name in ("alice", "bob"))
        for member in (alice, bob):
            consent.terms.update(member, agreement="SD-BASE", purposes=[], max_days=30,
                                 aggregate_allowed=True)
        velo, grocer, north, south, east, west = (
            vault.brands.add(name, ("bikes",)).id for name in (
                "Velo Bikes", "Greenleaf Grocers", "Northwave", "Southwind", "East", "West"))
        left, closed = (communities.open(brand, name="Riders", description="Tell us.",
                                         purposes=[IMPROVING]).id for brand in (velo, grocer))
        membership = membership_service(consent)
        for community_id in (left, closed):
            membership.join(alice, community_id)
        membership.join(bob, left)
        cocreation = cocreation_service(consent)
        challenge = cocreation.open_challenge(velo, left, title="Routes",
                                              description="Which routes should we map?").id
        for member in (alice, bob):
            cocreation.post(member, challenge, "The dyke path along the river.")
        assert len(cocreation.release_ideas(velo, challenge)) == 2     # released before
        for brand in (north, south):                # exceptions to alice's terms
            consent.terms.accept_for_brand(alice, brand, agreement="SD-BASE-A",
                                           purposes=[IMPROVING, "dpv:ResearchAndDevelopment"],
                                           max_days=90)
        withdrawn = consent.agreements.proffer(alice, east, term="SD-BASE")
        rejected = consent.agreements.proffer(bob, east, term="SD-BASE")
        consent.agreements.brand_counters(rejected.id, east, "SD-BASE-A")
        for member, term in ((alice, "SD-BASE-ATP"), (bob, "SD-BASE")):
            consent.agreements.brand_accepts(
                consent.agreements.proffer(member, west, term=term).id, west)
    restore = _backed_up(home, tmp_path)
    clock.advance(3_600)
    with _consent(home, clock) as consent:
        membership, communities = membership_service(consent), community_service(consent)
        membership.leave(alice, left)
        communities.close(grocer, closed)
        consent.terms.remove_for_brand(alice, north)
        consent.terms.remove_for_brand(alice, south)        # and accepted again, narrower
        consent.terms.accept_for_brand(alice, south, agreement="SD-BASE-A",
                                       purposes=[IMPROVING], max_days=90)
        consent.agreements.member_withdraws(withdrawn.id, alice)
        consent.agreements.member_decides(rejected.id, bob, accept=False)
        # Alice narrows her agreement with West (through its counter-offer), bob widens his.
        narrowed = consent.agreements.proffer(alice, west, term="SD-BASE")
        consent.agreements.brand_counters(narrowed.id, west, "SD-BASE-A")
        consent.agreements.member_decides(narrowed.id, alice, accept=True)
        widened = consent.agreements.proffer(bob, west, term="SD-BASE-A")
        consent.agreements.brand_accepts(widened.id, west)
        joined = {member: _joined(membership, member) for member in (alice, bob)}
        ideas = [idea.id for idea in cocreation_service(consent).release_ideas(velo, challenge)]
        before = {"closed": communities.get(grocer, closed),
                  "open to bob": [c.id for c in membership.open_to_join(bob)],
                  "exceptions": consent.terms.brand_terms(alice),
                  "for north": consent.terms.for_brand(alice, north),
                  "agreements": [consent.agreements.for_member(m) for m in (alice, bob)],
                  "in force": consent.agreements.in_force(alice, west)}
    assert joined == {alice: [closed], bob: [left]} and before["open to bob"] == []
    assert len(ideas) == 1                          # leaving deleted alice's idea
    assert before["closed"].closed_at is not None
    assert [(t.brand_id, t.purposes) for t in before["exceptions"]
            if t.brand_id == south] == [(south, frozenset({IMPROVING}))]

    told = restore()
    assert "narrowed or took back again 2 exceptions to a member's terms for one brand" in told
    assert ("withdrew or rejected again 2 offers of terms ended since and made again 1"
            " agreement made since that narrowed the one in force") in told
    assert ("took 1 member out again of a community left since and closed again 1 community"
            " closed since") in told

    def as_before() -> int:
        with _consent(home, clock) as consent:
            membership, communities = membership_service(consent), community_service(consent)
            assert {m: _joined(membership, m) for m in (alice, bob)} == joined
            # Nor is her idea back: the brand is shown bob's alone.
            cocreation = cocreation_service(consent)
            assert [i.id for i in cocreation.release_ideas(velo, challenge)] == ideas
            assert cocreation.member_ideas(alice) == []
            assert communities.get(grocer, closed) == before["closed"]
            assert [c.id for c in membership.open_to_join(bob)] == []
            with pytest.raises(ConflictError):
                membership.join(bob, closed)
            assert consent.terms.brand_terms(alice) == before["exceptions"]
            assert consent.terms.for_brand(alice, north) == before["for north"]
            # Alice's narrower agreement is made again, the very record West holds; bob's
            # wider one is lost with the restore (it gave), and his older one stands.
            assert consent.agreements.for_member(alice) == before["agreements"][0]
            assert consent.agreements.in_force(alice, west) == before["in force"]
            assert consent.signer.verify(before["in force"].signature)["sha256"] == \
                before["in force"].record_hash
            assert consent.agreements.for_member(bob) == [
                a for a in before["agreements"][1] if a.id != widened.id]
            assert consent.agreements.in_force(bob, west).agreed == "SD-BASE"
            # The brand can no longer accept what the member took back.
            with pytest.raises(ConflictError):
                consent.agreements.brand_accepts(withdrawn.id, east)
            assert consent.agreements.get(withdrawn.id).status is AgreementStatus.WITHDRAWN
            assert consent.agreements.get(rejected.id).status is AgreementStatus.REJECTED
            return consent.ledger.size

    entries = as_before()
    again = _vrmvault(home, "reapply-erasures")
    assert "narrowed or took back again 0 exceptions" in again
    assert "withdrew or rejected again 0 offers of terms ended since and made again 0" in again
    assert "took 0 members out again of a community left since and closed again 0" in again
    assert as_before() == entries
