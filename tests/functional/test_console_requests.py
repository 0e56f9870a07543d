"""The officers' queue of data subject requests: by time left, overdue first, coloured by
urgency; a request's page with its history and each brand's task; the extension with its
reasoned notice mailed (through a real SMTP server) to the member; charts of requests by state
and time to close. An officer without a reveal sees no identity; with one, for that request
only."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from brand_gateway.dsr import dsr_service
from compliance.deadlines import HolidayCalendar
from compliance.requests import RequestService
from consent.context import Consent
from tests.brand_api_support import BrandApi
from tests.conftest import AuthActions, Inbox
from vault.clock import FrozenClock
from vault.home import Vault
from vault.mail import SmtpEndpoint, SmtpMailer

from .conftest import SignedIn
from .pages import error_message, field_errors, flashes, text_of

DAY = 86_400


@pytest.fixture
def service(consent: Consent) -> RequestService:
    return dsr_service(consent, callback_base="http://localhost", calendar=HolidayCalendar())


@pytest.fixture
def mia(vault: Vault, api: BrandApi) -> str:
    member = vault.members.register("mia@example.org", "correct horse battery staple")
    api.grant(member, api.brand("Velo Bikes"), "dpv:ServiceProvision", ["city"])
    return member


def test_the_queue_is_by_time_left_with_urgency_and_no_identity(
        service: RequestService, mia: str, clock: FrozenClock, consent: Consent,
        request: pytest.FixtureRequest) -> None:
    gdpr = service.file(mia, kind="access")          # 15 January: due 15 February
    clock.advance(DAY)
    know = service.file(mia, kind="know")            # 16 January: due 2 March (45 days)
    clock.advance(24 * DAY)
    # 9 February: 15 business days of California's calendar (15 February is Presidents'
    # Day): due 3 March.
    late = service.file(mia, kind="opt_out_sale_sharing")
    clock.advance(22 * DAY)                          # 3 March
    officer: SignedIn = request.getfixturevalue("officer")      # signed in now
    page = officer.client.get("/console/requests").get_data(as_text=True)
    order = re.findall(r'data-request="(dsr_[0-9a-f]{24})"', page)
    assert order == [gdpr.id, know.id, late.id]
    urgencies = re.findall(r'data-urgency="(\w+)"', page)
    assert urgencies == ["overdue", "overdue", "red"]             # due today: red, in time
    assert "16 days overdue" in page and "due today" in page
    assert "mia@example.org" not in page and consent.principal(mia) in page
    overdue = officer.client.get("/console/requests?overdue=1").get_data(as_text=True)
    assert re.findall(r'data-request="(dsr_[0-9a-f]{24})"', overdue) == [gdpr.id, know.id]
    assert officer.client.get("/console/requests?page=0").status_code == 400


def test_charts_write_their_values_with_a_table(service: RequestService, mia: str,
                                                clock: FrozenClock,
                                                request: pytest.FixtureRequest) -> None:
    done = service.file(mia, kind="access", brands=[])
    clock.advance(2 * DAY)
    service.fulfilled(done.id, "export")
    service.file(mia, kind="know")
    officer: SignedIn = request.getfixturevalue("officer")
    page = officer.client.get("/console/requests").get_data(as_text=True)
    assert '<svg' in page and 'id="by-state-title"' in page and 'id="time-to-close-title"' in page
    text = text_of(page)
    assert "Closed: 1" in page and "GDPR: median 2.0 days over 1 requests" in page
    assert "Median days" in text


def test_an_extension_mails_the_reasoned_notice_once(
        officer: SignedIn, service: RequestService, mia: str, inbox: Inbox,
        consent: Consent) -> None:
    filed = service.file(mia, kind="access")
    detail = officer.client.get(f"/console/requests/{filed.id}")
    assert detail.status_code == 200
    assert "mia@example.org" not in detail.get_data(as_text=True)
    short = officer.auth.post(f"/console/requests/{filed.id}/extend", {"reason": "busy"})
    assert short.status_code == 422 and 'id="reason-error"' in short.get_data(as_text=True)
    reason = "Velo Bikes must search its archived orders."
    done = officer.auth.post(f"/console/requests/{filed.id}/extend", {"reason": reason})
    assert done.status_code == 303
    notice = inbox.last("mia@example.org")
    assert reason in notice.get_content() and "2027-04-15" in notice.get_content()
    again = officer.auth.post(f"/console/requests/{filed.id}/extend", {"reason": reason})
    assert again.status_code == 409 and "extended once" in again.get_data(as_text=True)
    assert len(inbox.messages("mia@example.org")) == 1
    page = text_of(officer.client.get(f"/console/requests/{filed.id}").get_data(as_text=True))
    assert "extended" in page and reason in page


def test_a_reveal_shows_the_address_for_that_request_only(
        officer: SignedIn, service: RequestService, mia: str, consent: Consent) -> None:
    first = service.file(mia, kind="access")
    second = service.file(mia, kind="know")
    revealed = officer.auth.post("/console/reveal", {
        "case": first.id, "principal": consent.principal(mia),
        "reason": "The member asked us to confirm the request by phone.",
        "next": f"/console/requests/{first.id}"})
    assert revealed.status_code == 302
    assert "mia@example.org" in officer.client.get(
        f"/console/requests/{first.id}").get_data(as_text=True)
    assert "mia@example.org" not in officer.client.get(
        f"/console/requests/{second.id}").get_data(as_text=True)
    assert "mia@example.org" not in officer.client.get("/console/requests").get_data(
        as_text=True)


def test_a_reveal_on_the_request_page_stays_on_it(
        officer: SignedIn, service: RequestService, mia: str) -> None:
    filed = service.file(mia, kind="access")
    path = f"/console/requests/{filed.id}"
    short = officer.auth.post(path + "/reveal", {"reason": "phone"})
    assert short.status_code == 422
    page = short.get_data(as_text=True)
    # The request's own page, its message next to its field, and what was typed kept.
    assert "<h1>Access" in page and "Reveal a member's address" not in page
    assert field_errors(page, "reveal-reason") == [
        "Why you need this member's identity for this case: Write the reason, in 10 characters"
        " at least."]
    assert ">phone</textarea>" in page and "mia@example.org" not in page
    done = officer.auth.post(path + "/reveal", {"reason": "The member asked us to confirm."})
    assert done.status_code == 303 and done.headers["Location"].endswith(path)
    assert "mia@example.org" in officer.client.get(path).get_data(as_text=True)


LENGTH = "Give the member the reason, in 10 to 500 characters."


@pytest.mark.parametrize(("reason", "message"), [
    ("", LENGTH), ("busy", LENGTH), ("x" * 501, LENGTH),
    # Long enough, but with a NUL: the NUL is the fault, not the length.
    ("Archive search\x00needed", "Remove the control characters: they are not allowed."),
    (["Archived orders to search.", "The member never sees this."],
     "Send this field once."),
])
def test_an_extension_reason_refused_names_its_field(
        officer: SignedIn, service: RequestService, mia: str, reason: str | list[str],
        message: str) -> None:
    filed = service.file(mia, kind="access")
    refused = officer.auth.post(f"/console/requests/{filed.id}/extend", {"reason": reason})
    assert refused.status_code == 422
    assert field_errors(refused.get_data(as_text=True), "reason") == [
        f"Why the request needs more time: {message}"]
    assert service.officer_view(filed.id).row.extended_at is None


def test_an_extension_reason_of_500_characters_with_line_breaks_is_taken(
        officer: SignedIn, service: RequestService, mia: str) -> None:
    """The textarea's maxlength of 500 counts a line break once; the browser sends it as
    CR LF, and what it let through is taken."""
    filed = service.file(mia, kind="access")
    page = officer.client.get(f"/console/requests/{filed.id}").get_data(as_text=True)
    assert 'name="reason" rows="3" maxlength="500"' in page
    reason = ("The archive is large." + "x" * 77 + "\r\n") * 4 + "y" * 104
    done = officer.auth.post(f"/console/requests/{filed.id}/extend", {"reason": reason})
    assert done.status_code == 303
    assert service.officer_view(filed.id).row.extended_at is not None


def test_a_reveal_reason_sent_twice_is_refused(
        officer: SignedIn, service: RequestService, mia: str) -> None:
    """A field sent twice is refused, as on every other form, not cut to its first value."""
    filed = service.file(mia, kind="access")
    path = f"/console/requests/{filed.id}"
    refused = officer.auth.post(path + "/reveal", {
        "reason": ["The member asked us to confirm.", "Something else entirely."]})
    assert refused.status_code == 422
    assert field_errors(refused.get_data(as_text=True), "reveal-reason") == [
        "Why you need this member's identity for this case: Send this field once."]
    assert "mia@example.org" not in officer.client.get(path).get_data(as_text=True)


def test_another_members_request_is_no_case_for_a_reveal(
        officer: SignedIn, service: RequestService, mia: str, consent: Consent,
        vault: Vault) -> None:
    noah = vault.members.register("noah@example.org", "correct horse battery staple")
    filed = service.file(mia, kind="access")
    refused = officer.auth.post("/console/reveal", {
        "case": filed.id, "principal": consent.principal(noah),
        "reason": "Trying another member under this case."})
    assert refused.status_code == 404
    assert "noah@example.org" not in refused.get_data(as_text=True)


def test_unknown_requests_are_404(officer: SignedIn) -> None:
    assert officer.client.get("/console/requests/dsr_" + "0" * 24).status_code == 404
    assert officer.auth.post("/console/requests/dsr_" + "0" * 24 + "/extend",
                             {"reason": "Long enough reason."}).status_code == 404


def test_an_extension_says_when_no_notice_went_out(
        officer: SignedIn, service: RequestService, mia: str, inbox: Inbox, vault: Vault,
        app: Flask) -> None:
    """The page said "the member is told why by mail" after a notice that was not sent, below
    a message saying it could not be: the officer must tell the member another way."""
    reason = "Velo Bikes must search its archived orders."
    unsent = service.file(mia, kind="access")
    app.extensions["vrmvault_mailer"] = SmtpMailer(SmtpEndpoint.parse("smtp://127.0.0.1:9"))
    officer.auth.post(f"/console/requests/{unsent.id}/extend", {"reason": reason})
    said = flashes(officer.client.get(f"/console/requests/{unsent.id}").get_data(as_text=True))
    assert said == ["Extended to 2027-04-15; the notice could not be mailed: tell the member"
                    " another way, with the reason."]
    noah = vault.members.register("noah@example.org", "correct horse battery staple")
    lost = service.file(noah, kind="portability")
    vault.key_store.remove(noah)        # a key store restored from before the member's key
    response = officer.auth.post(f"/console/requests/{lost.id}/extend", {"reason": reason})
    assert response.status_code == 303          # extended: not an error page after the fact
    said = flashes(officer.client.get(f"/console/requests/{lost.id}").get_data(as_text=True))
    assert said == ["Extended to 2027-04-15; the notice could not be mailed: tell the member"
                    " another way, with the reason."]
    erased = service.file(mia, kind="know")
    vault.erasure.erase(mia)
    officer.auth.post(f"/console/requests/{erased.id}/extend", {"reason": reason})
    said = flashes(officer.client.get(f"/console/requests/{erased.id}").get_data(as_text=True))
    assert said == ["Extended to 2027-04-15; the member's account was erased, so there is no"
                    " address to tell them at."]
    assert inbox.messages("mia@example.org") == []


@pytest.mark.parametrize(("query", "says"), [
    ("/console/requests?overdue=yes", "overdue must be 1"),
    ("/console/requests?overdue=1&overdue=0", "overdue is given more than once"),
    ("/console/requests?page=1&page=2", "page is given more than once"),
    ("/console/requests?kind=access", "kind is not a parameter of this page (it takes page"
                                      " and overdue)"),
    ("/console/reveals?page=abc", "page must be a whole number from 1 to 100000"),
    ("/console/reveals?page=-3", "page must be a whole number"),
    # More digits than int() converts from a string: a ValueError, which was a 500.
    ("/console/reveals?page=" + "9" * 4301, "page must be a whole number from 1 to 100000"),
    ("/console/reveals?case=dsr_1", "case is not a parameter of this page"),
    ("/console/intents/reports?status=open&status=all", "status is given more than once"),
    ("/console/intents/reports?state=upheld", "state is not a parameter of this page"),
])
def test_a_console_list_refuses_a_query_it_does_not_take(officer: SignedIn, query: str,
                                                         says: str) -> None:
    """Each parameter once, and one the page takes, as the pages with a filter form answer:
    an overdue=yes listed every open request under the overdue link's address."""
    response = officer.client.get(query)
    assert response.status_code == 400
    assert says in error_message(response.get_data(as_text=True))


@pytest.mark.parametrize("query", [
    "/console/requests", "/console/requests?overdue=1&page=1", "/console/reveals?page=1",
    "/console/intents/reports?status=all&page=1"])
def test_a_console_list_takes_its_own_query(officer: SignedIn, query: str) -> None:
    assert officer.client.get(query).status_code == 200


def test_an_unconfirmed_erasure_says_what_it_waits_for(
        officer: SignedIn, service: RequestService, mia: str, app: Flask) -> None:
    """An erasure request waits for the member to confirm the erasure of their vault: the
    member's page said only "not done yet", with no way back to the confirmation, and the
    officer's only "not done", while the request ran on to overdue."""
    filed = service.file(mia, kind="erasure")
    mine = app.test_client()
    AuthActions(mine).login("mia@example.org", "correct horse battery staple")
    page = mine.get("/member/requests").get_data(as_text=True)
    assert re.search(r'waiting for you: <a href="/member/delete">confirm the erasure of your'
                     r' vault</a>', page)
    detail = text_of(officer.client.get(f"/console/requests/{filed.id}").get_data(
        as_text=True))
    assert "not done: the member has not yet confirmed the erasure of their vault" in detail
