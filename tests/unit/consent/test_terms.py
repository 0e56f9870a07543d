"""consent.terms.TermsService: a member's standing terms, data protection by default, GPC."""

from __future__ import annotations

import json

import pytest

from consent.context import Consent
from consent.events import EventTag, LedgerEntry
from consent.model import PersonalTerms
from consent.terms import MAX_DAYS
from vault.clock import FrozenClock
from vault.errors import ValidationError

from .conftest import ALL_PURPOSES, Sharing


def ledger_entries(consent: Consent, tag: EventTag | None = None) -> list[LedgerEntry]:
    entries = [consent.ledger.entry(seq) for seq in range(consent.ledger.size)]
    return [e for e in entries if tag is None or e.tag is tag]


def stored_row(consent: Consent, member_id: str):
    return consent.vault.data.one("SELECT * FROM member_terms WHERE member_id = ?", (member_id,))


@pytest.fixture
def member(sharing: Sharing) -> str:
    return sharing.member("alice@example.org")


def test_a_new_member_has_accepted_nothing(consent: Consent, member: str) -> None:
    terms = consent.terms.get(member)
    assert terms == PersonalTerms(member)
    assert terms.agreement == "SD-BASE"
    assert terms.purposes == frozenset() and terms.max_days == 0
    assert not terms.aggregate_allowed and not terms.gpc_opt_out
    assert terms.version == 0
    assert stored_row(consent, member) is None
    assert ledger_entries(consent) == []


def test_update_saves_and_reads_back(consent: Consent, member: str, clock: FrozenClock) -> None:
    saved = consent.terms.update(member, agreement="SD-BASE-A",
                                 purposes=["dpv:ServiceProvision", "dpv:ServiceOptimisation"],
                                 max_days="90", aggregate_allowed=True)
    assert saved == consent.terms.get(member)
    assert saved.agreement == "SD-BASE-A"
    assert saved.purposes == {"dpv:ServiceProvision", "dpv:ServiceOptimisation"}
    assert saved.max_days == 90 and saved.aggregate_allowed
    assert saved.version == 1 and saved.updated_at == int(clock())


def test_the_version_goes_up_on_every_change(consent: Consent, member: str,
                                             clock: FrozenClock) -> None:
    for expected in range(1, 4):
        clock.advance(60)
        terms = consent.terms.update(member, agreement="SD-BASE", purposes=[],
                                     max_days=expected, aggregate_allowed=False)
        assert terms.version == expected
        assert consent.terms.get(member).updated_at == int(clock())


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"agreement": "SD-BASE-XYZ"}, "agreement", "Choose one of the terms"),
    ({"agreement": None}, "agreement", "Choose one of the terms"),
    ({"agreement": ""}, "agreement", "Choose one of the terms"),
    ({"purposes": ["dpv:Marketing", "dpv:Spying"]}, "purposes", "Unknown purpose: dpv:Spying"),
    ({"agreement": "SD-BASE-A", "purposes": ["dpv:Personalisation"]}, "purposes",
     "Personalisation needs more than the term you offer allows"),
    ({"agreement": "SD-BASE", "purposes": ["dpv:ServiceProvision", "dpv:Marketing"]},
     "purposes", "Marketing needs more than the term you offer allows"),
    ({"agreement": "SD-BASE-AT", "purposes": ["dpv:PersonalisedAdvertising"]}, "purposes",
     "Personalised advertising needs more than the term you offer allows"),
    ({"agreement": "PDC-INTENT", "purposes": ["dpv:ServiceOptimisation"]}, "purposes",
     "Improving the service needs more than the term you offer allows"),
    ({"max_days": -1}, "max_days", f"from 0 to {MAX_DAYS}"),
    ({"max_days": MAX_DAYS + 1}, "max_days", f"from 0 to {MAX_DAYS}"),
    ({"max_days": "ninety"}, "max_days", "whole number"),
    ({"max_days": None}, "max_days", "whole number"),
    ({"max_days": "1e3"}, "max_days", "whole number"),
])
def test_invalid_terms_are_refused_naming_the_field_and_nothing_is_saved(
        consent: Consent, member: str, changes: dict, field: str, words: str) -> None:
    before = consent.terms.update(member, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                                  max_days=30, aggregate_allowed=False)
    entries = len(ledger_entries(consent))
    form = {"agreement": "SD-BASE-ATP", "purposes": ["dpv:ServiceProvision"],
            "max_days": 365, "aggregate_allowed": True} | changes

    with pytest.raises(ValidationError) as caught:
        consent.terms.update(member, **form)

    assert field in caught.value.errors
    assert words in " ".join(caught.value.errors[field])
    assert consent.terms.get(member) == before
    assert len(ledger_entries(consent)) == entries


def test_several_errors_are_reported_together(consent: Consent, member: str) -> None:
    with pytest.raises(ValidationError) as caught:
        consent.terms.update(member, agreement="nope", purposes=["dpv:Nope"], max_days=99999,
                             aggregate_allowed=False)
    assert set(caught.value.errors) == {"agreement", "purposes", "max_days"}
    assert stored_row(consent, member) is None


@pytest.mark.parametrize("days", [0, 1, MAX_DAYS])
def test_the_bounds_of_max_days_are_accepted(consent: Consent, member: str, days: int) -> None:
    assert consent.terms.update(member, agreement="SD-BASE", purposes=[], max_days=days,
                                aggregate_allowed=False).max_days == days


def test_every_change_is_a_ledger_entry_without_personal_data(
        consent: Consent, member: str) -> None:
    consent.terms.update(member, agreement="SD-BASE-ATP", purposes=["dpv:Marketing"],
                         max_days=30, aggregate_allowed=True)
    consent.terms.update(member, agreement="SD-BASE", purposes=[], max_days=0,
                         aggregate_allowed=False)
    consent.terms.record_gpc(member)

    changed = ledger_entries(consent, EventTag.CONSENT_TERMS_CHANGED)
    assert len(changed) == 3 == len(ledger_entries(consent))
    assert [e.details["version"] for e in changed] == [1, 2, 3]
    assert changed[0].details["purposes"] == ["dpv:Marketing"]
    assert [e.details["sale_sharing_opt_out"] for e in changed] == [False, False, True]
    assert changed[2].details["via_gpc"] is True
    principal = consent.principal(member)
    for entry in changed:
        assert entry.actor == principal
        body = entry.body.decode()
        assert member not in body
        assert "alice" not in body and "@" not in body


# -- GPC ------------------------------------------------------------------------------------
def test_gpc_sets_the_opt_out_once(consent: Consent, member: str, clock: FrozenClock) -> None:
    consent.terms.update(member, agreement="SD-BASE-ATP", purposes=["dpv:Marketing"],
                         max_days=30, aggregate_allowed=True)
    clock.advance(3600)
    assert consent.terms.record_gpc(member) is True
    terms = consent.terms.get(member)
    assert terms.gpc_opt_out and terms.gpc_at == int(clock())
    assert terms.version == 2
    # the rest of the terms are kept as they were
    assert terms.purposes == {"dpv:Marketing"} and terms.max_days == 30

    clock.advance(60)
    assert consent.terms.record_gpc(member) is False
    assert consent.terms.get(member) == terms
    assert len(ledger_entries(consent, EventTag.CONSENT_TERMS_CHANGED)) == 2


def test_gpc_works_for_a_member_without_terms(consent: Consent, member: str) -> None:
    assert consent.terms.record_gpc(member) is True
    terms = consent.terms.get(member)
    assert terms.gpc_opt_out and terms.purposes == frozenset() and terms.max_days == 0
    assert terms.agreement == "SD-BASE"


def test_a_later_update_keeps_the_gpc_opt_out_unless_the_member_clears_it(
        consent: Consent, member: str, clock: FrozenClock) -> None:
    consent.terms.record_gpc(member)
    signalled_at = int(clock())
    clock.advance(60)

    kept = consent.terms.update(member, agreement="SD-BASE-ATP", purposes=["dpv:Marketing"],
                                max_days=30, aggregate_allowed=False)
    assert kept.gpc_opt_out and kept.gpc_at == signalled_at

    kept = consent.terms.update(member, agreement="SD-BASE-ATP", purposes=["dpv:Marketing"],
                                max_days=30, aggregate_allowed=False, sale_sharing_opt_out=True)
    assert kept.gpc_opt_out and kept.gpc_at == signalled_at

    cleared = consent.terms.update(member, agreement="SD-BASE-ATP", purposes=["dpv:Marketing"],
                                   max_days=30, aggregate_allowed=False,
                                   sale_sharing_opt_out=False)
    assert not cleared.gpc_opt_out and cleared.gpc_at is None
    assert consent.terms.get(member) == cleared

    # a new signal opts out again
    assert consent.terms.record_gpc(member) is True
    assert consent.terms.get(member).gpc_opt_out


def test_an_explicit_opt_out_is_not_attributed_to_gpc(consent: Consent, member: str) -> None:
    terms = consent.terms.update(member, agreement="SD-BASE", purposes=[], max_days=0,
                                 aggregate_allowed=False, sale_sharing_opt_out=True)
    assert terms.gpc_opt_out and terms.gpc_at is None
    entry = ledger_entries(consent, EventTag.CONSENT_TERMS_CHANGED)[-1]
    assert entry.details["sale_sharing_opt_out"] is True
    assert entry.details["via_gpc"] is False


def test_stored_purposes_are_json_of_dpv_codes(consent: Consent, member: str) -> None:
    consent.terms.update(member, agreement="SD-BASE-A",
                         purposes=("dpv:ServiceOptimisation", "dpv:CustomerCare"),
                         max_days=7, aggregate_allowed=False)
    row = stored_row(consent, member)
    assert json.loads(row["purposes"]) == ["dpv:CustomerCare", "dpv:ServiceOptimisation"]
