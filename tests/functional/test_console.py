"""The compliance console (/console) through the Flask test client: who may open it, what it
shows of the webhook delivery record, and what it never shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from flask import Flask

from brand_gateway.storage import (
    pairwise_pseudonyms,
    webhook_dispatcher,
    webhook_outbox,
    webhook_registry,
)
from brand_gateway.webhooks.delivery import HttpResult
from brand_gateway.webhooks.outbox import enqueue_grant_event
from brand_gateway.webhooks.signing import WebhookSigner
from consent.context import Consent, open_ledger
from consent.events import Event, EventTag
from consent.model import Grant, GrantEvent
from consent.spool import SpoolDirectory
from tests.brand_api_support import BrandApi
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from vault.members import MEMBER

from .conftest import SignedIn
from .pages import assert_sane, error_message, location_path, text_of

VELO_HOOK = "https://velo.example/hooks"
GROCER_HOOK = "https://grocer.example/hooks"
FLAKY_HOOK = "https://flaky.example/hooks"


@dataclass(frozen=True)
class Outbox:
    velo: str                  # client ids
    grocer: str
    flaky: str
    payloads: tuple[str, ...]  # what was queued, byte for byte
    subject: str               # Alice's pseudonym at Velo
    velo_grant: Grant


def sender(statuses: Mapping[str, int]):
    def send(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> HttpResult:
        if url == FLAKY_HOOK:
            raise ConnectionRefusedError()
        return HttpResult(statuses[url])
    return send


@pytest.fixture
def outbox(vault: Vault, consent: Consent, alice: SignedIn, clock: FrozenClock) -> Outbox:
    """Alice withdraws a grant from each of three brands: Velo's webhook is delivered (204),
    Grocer's failed once (500) and waits for its retry, Flaky's could not connect, and then the
    operator removed Flaky's endpoint, which gives up what was pending for it."""
    api = BrandApi(vault, consent)
    registry = webhook_registry(database=vault.data, clock=clock)
    pseudonyms = pairwise_pseudonyms(database=vault.data, master=vault.master)
    clients = {}
    grants = {}
    endpoints = {}
    for name, url in (("Velo Bikes", VELO_HOOK), ("Green Grocer", GROCER_HOOK),
                      ("Flaky Shop", FLAKY_HOOK)):
        client = api.brand(name)
        endpoints[name] = registry.add(client.client_id, url).public_id
        grant = api.grant(alice.id, client, "dpv:Personalisation", ["given_name"])
        enqueue_grant_event(webhook_outbox(vault.data), pseudonyms, grant, GrantEvent.WITHDRAWN,
                            int(clock()))
        clients[name] = client
        grants[name] = grant
        clock.advance(60)
    dispatcher = webhook_dispatcher(
        database=vault.data, signer=WebhookSigner.from_master(vault.master), clock=clock,
        sender=sender({VELO_HOOK: 204, GROCER_HOOK: 500}), fraction=lambda: 0.0)
    assert dispatcher.deliver_due(10).summary() == "3 attempted: 1 delivered, 2 to retry, " \
        "0 given up"
    registry.remove(endpoints["Flaky Shop"])
    payloads = tuple(r["payload"] for r in vault.data.all("SELECT payload FROM webhook_outbox"))
    return Outbox(clients["Velo Bikes"].client_id, clients["Green Grocer"].client_id,
                  clients["Flaky Shop"].client_id, payloads,
                  pseudonyms.compute(alice.id, clients["Velo Bikes"].brand_id),
                  grants["Velo Bikes"])


def rows(html: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    assert body, "the page has no table"
    return [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


# -- who may open it ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/console/", "/console/webhooks"])
def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302 and location_path(response) == "/login"


@pytest.mark.parametrize("path", ["/console/", "/console/webhooks", "/console/webhooks?page=2"])
def test_members_without_the_role_get_a_403_page(alice: SignedIn, path: str) -> None:
    response = alice.client.get(path)
    assert_sane(response)
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert error_message(response.get_data(as_text=True)) == \
        "This page is for compliance officers only."


@pytest.mark.parametrize("path", ["/console/", "/console/webhooks"])
def test_officers_sign_in_on_the_normal_page_and_open_it(officer: SignedIn, path: str) -> None:
    response = officer.client.get(path)
    assert_sane(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_only_officers_see_the_link(officer: SignedIn, alice: SignedIn, app: Flask) -> None:
    assert 'href="/console/"' in officer.client.get("/member/").get_data(as_text=True)
    assert 'href="/console/"' not in alice.client.get("/member/").get_data(as_text=True)
    assert 'href="/console/"' not in app.test_client().get("/login").get_data(as_text=True)


def test_an_officers_own_pages_stay_theirs_and_others_stay_closed(officer: SignedIn,
                                                                  alice: SignedIn,
                                                                  vault: Vault) -> None:
    brand = vault.brands.add("Velo Bikes")
    entry = alice.add_feedback(brand, comment="Alice's entry")
    page = officer.client.get("/member/")
    assert page.status_code == 200 and "olive@example.org" in page.get_data(as_text=True)
    response = officer.client.get(f"/member/feedback/{entry}/edit")
    assert response.status_code == 404
    assert "Alice's entry" not in response.get_data(as_text=True)
    assert "Alice's entry" not in officer.client.get("/member/feedback").get_data(as_text=True)


def test_revoking_the_role_closes_the_console_in_open_sessions(officer: SignedIn,
                                                               vault: Vault) -> None:
    assert officer.client.get("/console/").status_code == 200
    assert vault.members.set_role(officer.id, MEMBER)
    assert officer.client.get("/console/").status_code == 403
    assert officer.is_signed_in()                  # still an ordinary member


def test_unsafe_methods_are_not_routes(officer: SignedIn) -> None:
    token = officer.auth.csrf("/member/")
    response = officer.client.post("/console/webhooks", data={"csrf_token": token})
    assert response.status_code == 405


# -- what it shows --------------------------------------------------------------------------------
def test_the_overview_counts_events_per_brand_and_state(officer: SignedIn,
                                                        outbox: Outbox) -> None:
    html = officer.client.get("/console/").get_data(as_text=True)
    assert rows(html) == [f"Flaky Shop {outbox.flaky} 0 0 1",
                          f"Green Grocer {outbox.grocer} 1 0 0",
                          f"Velo Bikes {outbox.velo} 0 1 0"]
    assert f'href="/console/webhooks?client={outbox.grocer}"' in html
    assert 'href="/console/webhooks?status=pending">1</a>' in html


def test_the_overview_introduces_every_event_a_brand_may_be_sent(officer: SignedIn) -> None:
    from brand_gateway.webhooks import outbox as events

    html = officer.client.get("/console/").get_data(as_text=True)
    for event_type in (events.CONSENT_WITHDRAWN, events.CONSENT_EXPIRED,
                       events.AUTHORIZATION_ENDED, events.MEMBER_ERASED):
        assert f"<code>{event_type}</code>" in html


def test_the_overview_says_whether_brand_reads_reach_the_ledger_in_time(
        officer: SignedIn, vault_home: VaultHome, clock: FrozenClock) -> None:
    def ledger_section() -> str:
        html = officer.client.get("/console/").get_data(as_text=True)
        return text_of(html[html.index('id="ledger-heading"'):])

    assert "No reads waiting: every brand read is in the ledger." in ledger_section()
    spools = SpoolDirectory(vault_home, vault_home.master_key({}))
    writer = spools.writer()
    writer.append(Event(EventTag.ACCESS_PROFILE_READ, "brand:brand_1",
                        {"member": "member:" + "e" * 32}), at=clock() - 0.5)
    assert "1 read waiting, the oldest for 0.5 s: within the delay." in ledger_section()
    clock.advance(3)                      # no keeper runs in this test: it falls behind
    section = ledger_section()
    assert "The ledger is behind: 1 read waiting, the oldest for 3.5 s." in section
    with open_ledger(vault_home, vault_home.master_key({})) as ledger:
        assert spools.pending(ledger) == 1    # the page looked; it merged nothing
        spools.merge_all(ledger)
    assert "No reads waiting" in ledger_section()
    writer.close()


def test_the_webhooks_page_lists_every_event_newest_first(officer: SignedIn,
                                                          outbox: Outbox) -> None:
    html = officer.client.get("/console/webhooks").get_data(as_text=True)
    assert "Events (3)" in html
    flaky, grocer, velo = rows(html)
    assert flaky.startswith("2027-01-15 08:02 UTC Flaky Shop consent.withdrawn")
    assert " dead 1 ConnectionRefusedError - https://flaky.example/hooks" in flaky
    assert grocer.startswith("2027-01-15 08:01 UTC Green Grocer consent.withdrawn")
    assert grocer.endswith(" pending 1 500 2027-01-15 08:03 UTC https://grocer.example/hooks")
    assert velo.startswith("2027-01-15 08:00 UTC Velo Bikes consent.withdrawn")
    assert " delivered 2027-01-15 08:03 UTC 1 204 - https://velo.example/hooks" in velo


@pytest.mark.parametrize(("query", "brands"), [
    ({"status": "pending"}, ["Green Grocer"]),
    ({"status": "dead"}, ["Flaky Shop"]),
    ({"status": "delivered", "client": "velo"}, ["Velo Bikes"]),
    ({"status": "pending", "client": "velo"}, []),
    ({"status": "", "client": ""}, ["Flaky Shop", "Green Grocer", "Velo Bikes"]),
])
def test_the_listing_filters_by_state_and_brand(officer: SignedIn, outbox: Outbox,
                                                query: dict[str, str], brands: list[str]) -> None:
    if query.get("client") == "velo":
        query = {**query, "client": outbox.velo}
    html = officer.client.get("/console/webhooks", query_string=query).get_data(as_text=True)
    if not brands:
        assert "No webhook events match." in html
        return
    assert [" ".join(row.split()[3:5]) for row in rows(html)] == brands
    if query.get("status"):
        assert f'<option value="{query["status"]}" selected>' in html


TAKES = "(it takes status, client and page)"


@pytest.mark.parametrize(("query", "problem"), [
    ("status=lost", "status must be pending, delivered or dead (or blank for any)"),
    ("status=zzz&page=x", "page must be a whole number from 1 to 100000; status must be"
                          " pending, delivered or dead (or blank for any)"),
    ("page=0", "page must be a whole number from 1 to 100000"),
    ("page=x", "page must be a whole number from 1 to 100000"),
    ("page=100001", "page must be a whole number from 1 to 100000"),
    ("page=" + "9" * 400, "page must be a whole number from 1 to 100000"),
    ("client=" + "c" * 101, "client must be a client id of at most 100 characters"),
    ("colour=red", f"colour is not a parameter of this page {TAKES}"),
    ("limit=abc", f"limit is not a parameter of this page {TAKES}"),
    ("status=dead&status=pending", "status is given more than once"),
])
def test_a_bad_filter_is_a_400_page_naming_the_parameter(officer: SignedIn, query: str,
                                                         problem: str) -> None:
    response = officer.client.get("/console/webhooks?" + query)
    assert_sane(response)
    assert response.status_code == 400
    assert error_message(response.get_data(as_text=True)) == (
        f"This filter is not valid: {problem}.")


def test_nothing_personal_or_from_the_payload_is_shown(officer: SignedIn, alice: SignedIn,
                                                       outbox: Outbox, vault: Vault) -> None:
    grants = [r["id"] for r in vault.data.all("SELECT id FROM grants")]
    for path in ("/console/", "/console/webhooks"):
        html = officer.client.get(path).get_data(as_text=True)
        for secret in (alice.id, alice.email, outbox.subject, *outbox.payloads, *grants):
            assert secret not in html, path


def test_the_listing_is_paginated(officer: SignedIn, outbox: Outbox, vault: Vault,
                                  clock: FrozenClock) -> None:
    pseudonyms = pairwise_pseudonyms(database=vault.data, master=vault.master)
    for _ in range(50):                # 53 events in all, within the officer's idle limit
        clock.advance(20)
        enqueue_grant_event(webhook_outbox(vault.data), pseudonyms, outbox.velo_grant,
                            GrantEvent.EXPIRED, int(clock()))
    first = officer.client.get("/console/webhooks").get_data(as_text=True)
    assert "Events (53)" in first and "Page 1 of 2" in first and len(rows(first)) == 50
    assert all("consent.expired" in row for row in rows(first))
    assert 'href="/console/webhooks?page=2" rel="next"' in first
    second = officer.client.get("/console/webhooks?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and 'href="/console/webhooks?page=1" rel="prev"' in second
    assert [" ".join(row.split()[3:5]) for row in rows(second)] == [
        "Flaky Shop", "Green Grocer", "Velo Bikes"]
    filtered = officer.client.get(f"/console/webhooks?client={outbox.velo}&status=pending"
                                  ).get_data(as_text=True)
    assert "Events (50)" in filtered and "Page 1 of 1" not in filtered
    beyond = officer.client.get("/console/webhooks?page=3").get_data(as_text=True)
    assert "No webhook events match." in beyond
