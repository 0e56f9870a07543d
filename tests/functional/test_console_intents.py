"""The officers' queue of spam reports on intent offers (web/console_intents.py): a member's
report lands in it with the member's reason and without the member; an officer dismisses it
(the offers stand) or upholds it (the brand's open offers on that intent are withdrawn, and
only those); each decision is a ledger entry naming the officer by pseudonym. A malformed or
unknown report id is a 404 page, a second decision a 409 page, a form without the session's
CSRF token or a valid outcome is refused; nothing of a member is in a link or a redirect.

Members cast, brands offer and members report through the intent service the member pages
and the brand API use (``brand_gateway.intents_wiring.intent_service``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from brand_gateway.intents_wiring import intent_service
from consent.context import Consent
from consent.events import EventTag
from intents.model import IntentDraft, OfferStatus, ReportStatus, SpamReport
from intents.service import IntentService
from tests.conftest import GOOD_PASSWORD, csrf_from
from vault.clock import FrozenClock
from vault.home import Vault

from .conftest import SignedIn
from .pages import assert_sane, error_message, error_summary, flashes, location_path, text_of

DAY = 86_400
QUEUE = "/console/intents/reports"
REASON = "They offer <b>crypto</b> coaching, not a bike: and again every hour."


@pytest.fixture
def service(consent: Consent) -> IntentService:
    return intent_service(consent)


@dataclass(frozen=True)
class Market:
    service: IntentService
    clock: Callable[[], float]
    mia: str                    # the member who casts and reports
    spam: str                   # the brand reported, and the other brand of the category
    velo: str

    def cast(self, description: str = "A cargo bike for two children.") -> str:
        """Mia's new intent, under the spam brand's pseudonym."""
        today = dt.datetime.fromtimestamp(self.clock(), dt.UTC).date()
        self.service.cast(self.mia, IntentDraft(
            category="bicycles", description=description, budget_min="1500",
            budget_max="3000", currency="EUR", window_from=today + dt.timedelta(days=1),
            window_until=today + dt.timedelta(days=30), country="NL", region="NL-ZH",
            city="Leiden", reveal_fields=("given_name",)))
        return self.pseudonym(self.spam)

    def pseudonym(self, brand_id: str) -> str:
        """``brand_id``'s pseudonym of Mia's newest intent."""
        return self.service.list_for_brand(brand_id, limit=1).items[0].pseudonym

    def offer(self, brand_id: str, pseudonym: str, price: str = "2000") -> str:
        return self.service.make_offer(
            brand_id, pseudonym, price=price, currency="EUR", terms="Buy now.", message="",
            valid_until=int(self.clock()) + DAY).id

    def report(self, offer_id: str, reason: str = REASON) -> SpamReport:
        return self.service.report_spam(self.mia, offer_id, reason=reason)

    def status(self, brand_id: str, offer_id: str) -> OfferStatus:
        return self.service.brand_offer(brand_id, offer_id).status


@pytest.fixture
def market(service: IntentService, vault: Vault) -> Market:
    mia = vault.members.register("mia@example.org", GOOD_PASSWORD)
    spam = vault.brands.add("Spam Cycles", ("bicycles",)).id
    velo = vault.brands.add("Velo Bikes", ("bicycles",)).id
    return Market(service, vault.clock, mia, spam, velo)


def decide(officer: SignedIn, report_id: str, outcome: str, **extra: str):
    return officer.auth.post(f"{QUEUE}/{report_id}/decide", {"outcome": outcome, **extra},
                             form_page=QUEUE)


def rows(page: str) -> list[str]:
    return re.findall(r'data-report="(spr_[0-9a-f]{24})"', page)


def links(page: str) -> list[str]:
    """Every URL the page holds: links, form actions, hidden fields' values."""
    return re.findall(r'(?:href|action)="([^"]*)"', page) + \
        re.findall(r'name="next" value="([^"]*)"', page)


def test_a_reported_offer_lands_in_the_queue_with_the_reason_and_without_the_member(
        officer: SignedIn, market: Market, consent: Consent) -> None:
    offer = market.offer(market.spam, market.cast())
    report = market.report(offer)
    response = officer.client.get(QUEUE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert rows(page) == [report.id]
    text = text_of(page)
    assert "Spam Cycles" in text and REASON in text and "Declined" in text
    assert "<b>crypto</b>" not in page                     # the member's words, escaped
    for member in ("mia@example.org", market.mia, consent.principal(market.mia)):
        assert member not in page
    assert 'value="dismissed"' in page and 'value="upheld"' in page
    home = officer.client.get("/console/").get_data(as_text=True)
    assert f'href="{QUEUE}">Spam reports on offers</a>: 1 open' in home


def test_dismissing_lets_the_offers_stand_and_is_a_ledger_entry(
        officer: SignedIn, market: Market, consent: Consent, service: IntentService) -> None:
    pseudonym = market.cast()
    reported, other = market.offer(market.spam, pseudonym), market.offer(market.spam, pseudonym)
    report = market.report(reported)
    response = decide(officer, report.id, "dismissed", next=QUEUE + "?status=all")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(QUEUE + "?status=all")
    assert market.status(market.spam, other) is OfferStatus.OPEN
    assert service.spam_reports(status="dismissed")[0].id == report.id
    last = consent.ledger.entry(consent.ledger.size - 1)
    assert last.tag is EventTag.INTENT_REPORT_DECIDED
    assert dict(last.details) == {"report": report.id, "brand": market.spam,
                                  "outcome": "dismissed"}
    assert last.actor == consent.principal(officer.id)
    page = officer.client.get(QUEUE + "?status=all").get_data(as_text=True)
    assert "Dismissed: Spam Cycles's offers stand." in " ".join(flashes(page))
    assert "Dismissed" in text_of(page) and "olive@example.org (you)" in text_of(page)
    assert rows(officer.client.get(QUEUE).get_data(as_text=True)) == []


def test_upholding_withdraws_the_brands_open_offers_on_that_intent_only(
        officer: SignedIn, market: Market, consent: Consent) -> None:
    elsewhere = market.offer(market.spam, market.cast("A road bike."))
    pseudonym = market.cast()
    reported, second = market.offer(market.spam, pseudonym), market.offer(market.spam, pseudonym)
    velos = market.offer(market.velo, market.pseudonym(market.velo))
    report = market.report(reported)
    before = consent.ledger.size
    response = decide(officer, report.id, "upheld")
    assert response.status_code == 303 and location_path(response) == QUEUE
    assert market.status(market.spam, second) is OfferStatus.WITHDRAWN
    assert market.status(market.spam, reported) is OfferStatus.DECLINED   # on the report
    assert market.status(market.velo, velos) is OfferStatus.OPEN          # another brand's
    assert market.status(market.spam, elsewhere) is OfferStatus.OPEN      # another intent
    entries = [consent.ledger.entry(seq) for seq in range(before, consent.ledger.size)]
    assert [(e.tag, e.actor) for e in entries] == [
        (EventTag.INTENT_OFFER_WITHDRAWN, consent.principal(officer.id)),
        (EventTag.INTENT_REPORT_DECIDED, consent.principal(officer.id))]
    assert entries[0].details["offer"] == second and entries[0].details["by"] == "officer"
    assert entries[1].details["outcome"] == "upheld"
    page = officer.client.get(QUEUE + "?status=upheld").get_data(as_text=True)
    assert rows(page) == [report.id] and "Withdrawn" not in text_of(page)
    assert "Upheld: Spam Cycles's open offers on that intent are withdrawn." in \
        " ".join(flashes(page))


def test_a_second_decision_is_a_409_page_and_changes_nothing(
        officer: SignedIn, market: Market, consent: Consent) -> None:
    report = market.report(market.offer(market.spam, market.cast()))
    assert decide(officer, report.id, "upheld").status_code == 303
    size = consent.ledger.size
    again = decide(officer, report.id, "dismissed")
    assert_sane(again)
    assert again.status_code == 409
    assert "This report was upheld already." in error_summary(again.get_data(as_text=True))
    assert consent.ledger.size == size


@pytest.mark.parametrize("report_id", [
    "spr_" + "0" * 24,                  # the form of an id, no such report
    "spr_" + "A" * 24,                  # upper case: not how ids are made
    "spr_" + "0" * 23, "spr_" + "0" * 25, "spr_" + "g" * 24, "off_" + "0" * 24,
    "%F0%9F%98%80", "x" * 5000,
])
def test_a_bad_or_unknown_report_id_is_a_404_page(officer: SignedIn, market: Market,
                                                  consent: Consent, report_id: str) -> None:
    market.report(market.offer(market.spam, market.cast()))
    size = consent.ledger.size
    response = decide(officer, report_id, "upheld")
    assert_sane(response)
    assert response.status_code == 404
    assert error_message(response.get_data(as_text=True)) == "There is no such spam report."
    assert consent.ledger.size == size and market.service.count_reports("open") == 1


def test_a_report_id_holding_nul_is_a_bad_request(officer: SignedIn, market: Market,
                                                 consent: Consent) -> None:
    # NUL in a path is refused before routing (web/limits.py), as in a query or a body.
    market.report(market.offer(market.spam, market.cast()))
    size = consent.ledger.size
    response = decide(officer, "spr_%00" + "0" * 21, "upheld")
    assert_sane(response)
    assert response.status_code == 400
    assert consent.ledger.size == size and market.service.count_reports("open") == 1


@pytest.mark.parametrize("form", [
    {}, {"outcome": ""}, {"outcome": "maybe"}, {"outcome": "open"},
    {"outcome": "upheld", "member": "mia@example.org"},
    {"outcome": ["upheld", "dismissed"]},
], ids=["nothing", "blank", "unknown", "open", "a field too many", "both outcomes"])
def test_a_form_without_a_valid_outcome_is_a_422_page(officer: SignedIn, market: Market,
                                                      consent: Consent, form: dict) -> None:
    report = market.report(market.offer(market.spam, market.cast()))
    size = consent.ledger.size
    response = officer.auth.post(f"{QUEUE}/{report.id}/decide", form, form_page=QUEUE)
    assert response.status_code == 422
    assert "Choose Dismiss or Uphold" in error_summary(response.get_data(as_text=True))
    assert consent.ledger.size == size and market.service.count_reports("open") == 1


@pytest.mark.parametrize("token", [None, "", "not-the-sessions-token"])
def test_a_decision_without_the_sessions_csrf_token_is_refused(
        officer: SignedIn, market: Market, consent: Consent, token: str | None) -> None:
    report = market.report(market.offer(market.spam, market.cast()))
    size = consent.ledger.size
    data = {"outcome": "upheld"} | ({} if token is None else {"csrf_token": token})
    response = officer.client.post(f"{QUEUE}/{report.id}/decide", data=data)
    assert_sane(response)
    assert response.status_code == 400
    assert consent.ledger.size == size and market.service.count_reports("open") == 1
    token = csrf_from(officer.client.get(QUEUE).get_data(as_text=True))
    assert officer.client.post(f"{QUEUE}/{report.id}/decide", data={
        "outcome": "upheld", "csrf_token": token}).status_code == 303


@pytest.mark.parametrize("query", ["status=closed", "status=", "page=0", "page=abc",
                                   "page=10001", "page=%EF%BC%91"])
def test_a_bad_filter_is_a_400_page_naming_the_parameter(officer: SignedIn, query: str
                                                         ) -> None:
    response = officer.client.get(f"{QUEUE}?{query}")
    assert_sane(response)
    assert response.status_code == 400
    assert query.split("=")[0] + " must be" in error_message(response.get_data(as_text=True))


def test_the_queue_is_newest_first_a_page_at_a_time_by_state(
        officer: SignedIn, market: Market, clock: FrozenClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web.console_intents.PER_PAGE", 2)
    reports = []
    for price in ("1000", "1100", "1200"):
        reports.append(market.report(market.offer(market.spam, market.cast(), price)))
        clock.advance(60)
    first = officer.client.get(QUEUE).get_data(as_text=True)
    assert rows(first) == [reports[2].id, reports[1].id]
    assert "3 open reports" in text_of(first) and "Page 1 of 2" in text_of(first)
    assert f'href="{QUEUE}?status=open&amp;page=2"' in first
    second = officer.client.get(QUEUE + "?page=2").get_data(as_text=True)
    assert rows(second) == [reports[0].id] and "Newer" in text_of(second)
    assert decide(officer, reports[1].id, "dismissed").status_code == 303
    assert rows(officer.client.get(QUEUE + "?status=dismissed").get_data(as_text=True)) == \
        [reports[1].id]
    assert rows(officer.client.get(QUEUE + "?status=upheld").get_data(as_text=True)) == []
    assert rows(officer.client.get(QUEUE + "?status=all").get_data(as_text=True)) == \
        [reports[2].id, reports[1].id]
    empty = officer.client.get(QUEUE + "?page=9").get_data(as_text=True)
    assert rows(empty) == [] and "No open report on this page." in text_of(empty)


def test_nothing_of_the_member_is_in_a_link_or_a_redirect(
        officer: SignedIn, market: Market, consent: Consent) -> None:
    decided = market.report(market.offer(market.spam, market.cast()))
    market.report(market.offer(market.spam, market.cast("A folding bike.")))
    redirect = decide(officer, decided.id, "upheld", next=QUEUE + "?status=all")
    urls = [redirect.headers["Location"]]
    for state in ("open", "dismissed", "upheld", "all"):
        urls += links(officer.client.get(f"{QUEUE}?status={state}").get_data(as_text=True))
    assert any("/decide" in url for url in urls)
    for url in urls:
        for personal in (market.mia, consent.principal(market.mia), "mia", "crypto"):
            assert personal not in url, url


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/console/",
                                    "/member/", "/console/../member/"])
def test_the_way_back_stays_in_the_console(officer: SignedIn, market: Market,
                                           target: str) -> None:
    report = market.report(market.offer(market.spam, market.cast()))
    response = decide(officer, report.id, "dismissed", next=target)
    assert response.status_code == 303 and response.headers["Location"].endswith(QUEUE)


def test_an_erased_members_report_stays_decidable_without_its_reason(
        officer: SignedIn, market: Market, vault: Vault) -> None:
    pseudonym = market.cast()
    report = market.report(market.offer(market.spam, pseudonym))
    vault.erasure.erase(market.mia)
    page = text_of(officer.client.get(QUEUE).get_data(as_text=True))
    assert REASON not in page
    assert "Gone: the member erased their account." in page and "Gone with the member" in page
    assert decide(officer, report.id, "upheld").status_code == 303
    assert market.service.spam_reports(status="upheld")[0].status is ReportStatus.UPHELD
