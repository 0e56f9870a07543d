"""demo.surveys: the demo community is asked real surveys and answers them through the
product's services; the showcase member has something waiting on the Asked page."""

from __future__ import annotations

from community.storage import attribute_request_service, survey_service
from consent.context import Consent
from demo.consents import load_consent_demo
from demo.members import SHOWCASE_EMAIL, load_demo
from demo.surveys import load_survey_demo
from vault.clock import FrozenClock


def test_the_demo_community_answers_and_the_showcase_member_is_asked(consent: Consent) -> None:
    vault = consent.vault
    load_demo(vault, members=60)
    load_consent_demo(consent)
    report = load_survey_demo(consent)
    assert report.surveys == 4 and report.members > 10
    assert report.answers == vault.data.one(
        "SELECT count(*) FROM (SELECT DISTINCT survey_id, member_num FROM survey_answers)")[0]
    assert report.answers > report.members // 2
    journal_links = vault.data.one("SELECT count(*) FROM survey_journal_entries")[0]
    assert journal_links > 0
    showcase = vault.members.find(SHOWCASE_EMAIL)
    assert showcase is not None
    waiting = [a for a in survey_service(consent=consent).asked(showcase) if not a.answers]
    assert [a.survey.record.title for a in waiting] == [
        "How was delivery?", "Riding through winter", "Your next bike"]
    assert attribute_request_service(consent=consent).asked(showcase)


def test_the_surveys_are_published_while_the_clock_moves_on(consent: Consent, monkeypatch
                                                            ) -> None:
    """On a large store, telling the community of a survey takes seconds: publishing checks
    the opening time against a clock that has moved on since the demo read it."""
    vault = consent.vault
    load_demo(vault, members=60)
    load_consent_demo(consent)

    def ticking(self: FrozenClock) -> float:
        self.now += 1
        return self.now

    monkeypatch.setattr(FrozenClock, "__call__", ticking)
    assert load_survey_demo(consent).surveys == 4
