"""Intent casting on the brand API, end to end below the browser: members cast intents through
the service the member pages use (with the gateway's observers), brands list them and offer
through HTTP with client credentials tokens.

Two brands of a category see one intent under two pseudonyms, a brand of another category does
not see it at all; filters and cursors page; an expired, withdrawn or blocked intent is gone on
the next call; offers are made, limited, listed, withdrawn; an accepted offer names the member
by the brand's pairwise subject and its profile read returns the revealed fields only, to that
brand only; webhooks are opt-in for intent.created and always sent for the offer's status.
Every bad input is an RFC 9457 problem naming what is wrong.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pytest
from flask.testing import FlaskClient

from brand_gateway.clients import OAuthClient
from brand_gateway.intents_wiring import intent_service
from brand_gateway.storage import webhook_dispatcher, webhook_registry
from brand_gateway.webhooks.delivery import HttpResult
from brand_gateway.webhooks.signing import WebhookSigner, verify, webhook_public_key
from consent.context import Consent
from consent.spool import SpoolDirectory
from intents.model import IntentDraft
from intents.service import IntentService
from tests.brand_api_support import CALLBACK, BrandApi, bearer
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from web.erasures import finish_erasure
from web.mailing import maildir_path

PROBLEM = "application/problem+json"
DAY = 86_400


@pytest.fixture
def intents(consent: Consent) -> IntentService:
    return intent_service(consent)


def brand(api: BrandApi, name: str, *categories: str) -> OAuthClient:
    client, _ = api.clients.create(name, [CALLBACK], list(categories))
    return client


def headers(api: BrandApi, client: OAuthClient,
            scope: str = "intents:read offers:write webhooks:manage") -> dict[str, str]:
    return bearer(api.brand_token(client, scope))


def today(vault: Vault) -> dt.date:
    return dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()


def draft(vault: Vault, **changes: Any) -> IntentDraft:
    start = today(vault)
    fields: dict[str, Any] = dict(
        category="bicycles", description="A city bike with a child seat, for daily commuting.",
        budget_min="500", budget_max="900", currency="EUR",
        window_from=start + dt.timedelta(days=1), window_until=start + dt.timedelta(days=30),
        country="NL", region="NL-ZH", city="Leiden", reveal_fields=("contact_email",
                                                                     "given_name"),
        expires_on=None)
    fields.update(changes)
    return IntentDraft(**fields)


def member(vault: Vault, email: str) -> str:
    return vault.members.register(email, "correct horse battery staple")


def listing(client: FlaskClient, head: Mapping[str, str], query: str = "") -> Any:
    response = client.get("/api/v1/intents" + ("?" + query if query else ""), headers=head)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    return body


def valid_until(vault: Vault, days: int = 7) -> str:
    moment = dt.datetime.fromtimestamp(vault.clock() + days * DAY, dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


def offer_body(vault: Vault, **changes: Any) -> dict[str, Any]:
    return {"price": "749.00", "currency": "EUR", "terms": "Delivered and fitted, 2 years"
            " warranty.", "message": "We have it in stock.", "valid_until": valid_until(vault),
            **changes}


# -- discovery ------------------------------------------------------------------------------------
def test_two_brands_of_the_category_see_one_intent_under_two_pseudonyms(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, consent: Consent,
        intents: IntentService) -> None:
    alice = member(vault, "alice@example.org")
    cast = intents.cast(alice, draft(vault))
    velo, spokes = brand(api, "Velo Bikes", "bicycles"), brand(api, "Spokes", "bicycles")
    travel = brand(api, "Far Away", "travel")
    seen = {}
    for name, client in (("velo", velo), ("spokes", spokes)):
        page = listing(brand_client, headers(api, client))
        assert page["next_cursor"] is None
        [shown] = page["intents"]
        assert shown["category"] == "bicycles"
        assert shown["description"] == "A city bike with a child seat, for daily commuting."
        assert shown["budget"] == {"min": "500.00", "max": "900.00", "currency": "EUR"}
        assert shown["location"] == {"country": "NL", "region": "NL-ZH", "city": "Leiden"}
        assert shown["your_offers"] == 0
        seen[name] = shown["id"]
        # Nothing that names or links the member.
        text = json.dumps(page)
        for secret in (alice, cast.id, "contact_email", api.subject(alice, client)):
            assert secret not in text
    assert seen["velo"] != seen["spokes"]
    assert listing(brand_client, headers(api, travel))["intents"] == []
    # One brand's pseudonym does not open the intent for another.
    assert brand_client.get(f"/api/v1/intents/{seen['velo']}",
                            headers=headers(api, velo)).status_code == 200
    problem(brand_client.get(f"/api/v1/intents/{seen['velo']}",
                             headers=headers(api, spokes)), 404)
    problem(brand_client.get(f"/api/v1/intents/{seen['velo']}",
                             headers=headers(api, travel)), 404)


def test_each_returned_intent_is_a_ledger_entry_of_its_member(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, consent: Consent,
        vault_home: Any, intents: IntentService) -> None:
    alice = member(vault, "alice@example.org")
    cast = intents.cast(alice, draft(vault))
    velo = brand(api, "Velo Bikes", "bicycles")
    size = consent.ledger.size
    listing(brand_client, headers(api, velo))
    # Written to the worker's access spool before the answer left; merged as serve merges.
    spools = SpoolDirectory(vault_home, vault_home.master_key({}))
    assert spools.merge_all(consent.ledger) == 1
    entry = consent.ledger.entry(size)
    assert entry.tag.value == "intent:listing:returned"
    assert entry.actor == "brand:" + velo.brand_id
    assert dict(entry.details) == {"member": consent.principal(alice), "brand": velo.brand_id,
                                   "intent": cast.id, "via": "api"}
    assert "Leiden" not in entry.body.decode() and alice not in entry.body.decode()


def test_a_brand_lists_only_the_categories_it_is_registered_for(
        brand_client: FlaskClient, api: BrandApi, vault: Vault,
        intents: IntentService) -> None:
    alice = member(vault, "alice@example.org")
    intents.cast(alice, draft(vault))
    intents.cast(alice, draft(vault, category="travel", description="Two weeks in Portugal."))
    both = brand(api, "Both", "bicycles", "travel")
    head = headers(api, both)
    assert {i["category"] for i in listing(brand_client, head)["intents"]} == {"bicycles",
                                                                                "travel"}
    assert [i["category"] for i in listing(brand_client, head, "category=travel")["intents"]
            ] == ["travel"]
    body = problem(brand_client.get("/api/v1/intents?category=insurance", headers=head), 400)
    assert "category" in body["errors"]
    body = problem(brand_client.get("/api/v1/intents?category=no-such-thing", headers=head),
                   400)
    assert "category" in body["errors"]


def test_filters_by_currency_budget_window_and_region(
        brand_client: FlaskClient, api: BrandApi, vault: Vault,
        intents: IntentService) -> None:
    alice, bob = member(vault, "alice@example.org"), member(vault, "bob@example.org")
    start = today(vault)
    intents.cast(alice, draft(vault))                                  # EUR 500-900, NL-ZH
    intents.cast(bob, draft(vault, budget_min="100", budget_max="200", currency="GBP",
                            country="GB", region=None, city="York",
                            window_from=start + dt.timedelta(days=40),
                            window_until=start + dt.timedelta(days=50)))
    head = headers(api, brand(api, "Velo Bikes", "bicycles"))

    def currencies(query: str) -> list[str]:
        return sorted(i["budget"]["currency"] for i in listing(brand_client, head,
                                                               query)["intents"])

    assert currencies("") == ["EUR", "GBP"]
    assert currencies("currency=GBP") == ["GBP"]
    assert currencies("currency=EUR&budget_min=800") == ["EUR"]
    assert currencies("currency=EUR&budget_min=950") == []
    assert currencies("currency=EUR&budget_max=400") == []
    assert currencies("region=NL") == ["EUR"]
    assert currencies("region=NL-ZH") == ["EUR"]
    assert currencies("region=NL-NH") == []
    assert currencies(f"from={start + dt.timedelta(days=35)}") == ["GBP"]
    assert currencies(f"until={start + dt.timedelta(days=10)}") == ["EUR"]


@pytest.mark.parametrize(("query", "named"), [
    ("colour=red", "colour"),
    ("from=2027-13-01", "from"),
    ("until=yesterday", "until"),
    ("budget_min=-5&currency=EUR", "budget_min"),
    ("budget_min=5", "budget_min"),
    ("budget_min=900&budget_max=100&currency=EUR", "budget_max"),
    ("currency=XYZ", "currency"),
    ("currency=eur", "currency"),
    ("region=ZZ", "region"),
    ("region=Leiden", "region"),
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("cursor=not-a-cursor", "cursor"),
    ("limit=5&limit=6", "limit"),
])
def test_bad_queries_are_problems_naming_the_parameter(
        brand_client: FlaskClient, api: BrandApi, query: str, named: str) -> None:
    head = headers(api, brand(api, "Velo Bikes", "bicycles"))
    body = problem(brand_client.get("/api/v1/intents?" + query, headers=head), 400)
    assert named in body["errors"], body


def test_cursor_pages_through_every_intent_once(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, clock: FrozenClock,
        intents: IntentService) -> None:
    cast = []
    for n in range(5):
        cast.append(intents.cast(member(vault, f"m{n}@example.org"), draft(vault)))
        clock.advance(1)
    head = headers(api, brand(api, "Velo Bikes", "bicycles"))
    seen: list[str] = []
    query = "limit=2"
    pages = 0
    while True:
        page = listing(brand_client, head, query)
        seen += [i["id"] for i in page["intents"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        query = "limit=2&cursor=" + page["next_cursor"]
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    published = [i["published_at"] for i in listing(brand_client, head)["intents"]]
    assert published == sorted(published, reverse=True)
    # A cursor is bound to its filters.
    first = listing(brand_client, head, "limit=2")["next_cursor"]
    body = problem(brand_client.get(f"/api/v1/intents?limit=2&currency=EUR&cursor={first}",
                                    headers=head), 400)
    assert "cursor" in body["errors"]


def test_a_cursor_is_each_brands_own_and_a_foreign_or_altered_one_is_a_problem(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, clock: FrozenClock,
        intents: IntentService) -> None:
    for n in range(3):
        intents.cast(member(vault, f"m{n}@example.org"), draft(vault))
        clock.advance(1)
    velo, spokes = brand(api, "Velo Bikes", "bicycles"), brand(api, "Spokes", "bicycles")
    heads = {client.brand_id: headers(api, client) for client in (velo, spokes)}
    cursors = {brand_id: listing(brand_client, head, "limit=1")["next_cursor"]
               for brand_id, head in heads.items()}
    assert cursors[velo.brand_id] != cursors[spokes.brand_id]
    nums = [row[0] for row in vault.data.all("SELECT num FROM intents")]
    for cursor in cursors.values():             # opaque: no row number in it, anywhere
        sealed = base64.urlsafe_b64decode(cursor + "==")
        assert not any(num.to_bytes(8, "big") in sealed for num in nums)
    own = cursors[velo.brand_id]
    for wrong in (cursors[spokes.brand_id], own[:20] + ("A" if own[20] != "A" else "B")
                  + own[21:]):
        body = problem(brand_client.get(f"/api/v1/intents?limit=1&cursor={wrong}",
                                        headers=heads[velo.brand_id]), 400)
        assert "cursor" in body["errors"]
    assert len(listing(brand_client, heads[velo.brand_id], f"limit=1&cursor={own}")[
        "intents"]) == 1


def test_expiry_withdrawal_and_blocking_remove_the_intent_on_the_next_call(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, clock: FrozenClock,
        intents: IntentService) -> None:
    alice, bob, carol = (member(vault, f"{n}@example.org") for n in ("alice", "bob", "carol"))
    velo = brand(api, "Velo Bikes", "bicycles")
    head = headers(api, velo)
    withdrawn = intents.cast(alice, draft(vault))
    intents.cast(bob, draft(vault))
    expiring = intents.cast(carol, draft(vault, expires_on=today(vault) + dt.timedelta(days=2)))
    ids = {i["id"] for i in listing(brand_client, head)["intents"]}
    assert len(ids) == 3
    intents.withdraw(alice, withdrawn.id)
    assert len(listing(brand_client, head)["intents"]) == 2
    intents.block(bob, velo.brand_id)
    remaining = listing(brand_client, head)["intents"]
    assert len(remaining) == 1
    for gone in ids - {remaining[0]["id"]}:
        problem(brand_client.get(f"/api/v1/intents/{gone}", headers=head), 404)
    clock.advance(3 * DAY)                      # past its expiry; the keeper has not run
    head = headers(api, velo)                   # the first token expired meanwhile
    assert listing(brand_client, head)["intents"] == []
    problem(brand_client.get(f"/api/v1/intents/{remaining[0]['id']}", headers=head), 404)
    assert intents.get(carol, expiring.id).status == "open"     # until the keeper records it


# -- offers ---------------------------------------------------------------------------------------
def _offer(client: FlaskClient, head: Mapping[str, str], intent: str, body: dict[str, Any]
           ) -> Any:
    return client.post(f"/api/v1/intents/{intent}/offers", headers=head, json=body)


def test_a_brand_makes_lists_reads_and_withdraws_offers(
        brand_client: FlaskClient, api: BrandApi, vault: Vault,
        intents: IntentService) -> None:
    alice = member(vault, "alice@example.org")
    cast = intents.cast(alice, draft(vault))
    velo = brand(api, "Velo Bikes", "bicycles")
    head = headers(api, velo)
    [shown] = listing(brand_client, head)["intents"]
    made = _offer(brand_client, head, shown["id"], offer_body(vault))
    assert made.status_code == 201, made.get_json()
    offer = made.get_json()["offer"]
    assert made.headers["Location"].endswith("/api/v1/offers/" + offer["id"])
    assert offer["intent"] == shown["id"] and offer["status"] == "open"
    assert offer["price"] == "749.00" and offer["currency"] == "EUR"
    assert offer["subject"] is None and offer["grant"] is None and offer["fields"] == []
    assert listing(brand_client, head)["intents"][0]["your_offers"] == 1
    # The member has it, signed.
    [received] = intents.offers(alice, cast.id)
    assert received.id == offer["id"] and received.signed.count(".") == 2
    listed = brand_client.get("/api/v1/offers", headers=head).get_json()
    assert [o["id"] for o in listed["offers"]] == [offer["id"]]
    assert listed["next_offset"] is None
    assert brand_client.get("/api/v1/offers?status=accepted",
                            headers=head).get_json()["offers"] == []
    one = brand_client.get(made.headers["Location"], headers=head)
    assert one.status_code == 200 and one.get_json()["offer"] == offer
    withdrawn = brand_client.post(f"/api/v1/offers/{offer['id']}/withdraw", headers=head)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["offer"]["status"] == \
        "withdrawn"
    problem(brand_client.post(f"/api/v1/offers/{offer['id']}/withdraw", headers=head), 409)
    other = headers(api, brand(api, "Spokes", "bicycles"))
    problem(brand_client.get(f"/api/v1/offers/{offer['id']}", headers=other), 404)
    problem(brand_client.post(f"/api/v1/offers/{offer['id']}/withdraw", headers=other), 404)


@pytest.mark.parametrize(("changes", "named"), [
    ({"price": "-1"}, "price"),
    ({"price": "0"}, "price"),
    ({"price": "1.234"}, "price"),
    ({"currency": "GBP"}, "currency"),
    ({"currency": "XYZ"}, "currency"),
    ({"terms": ""}, "terms"),
    ({"terms": "x" * 2001}, "terms"),
    ({"message": "x" * 1001}, "message"),
    ({"valid_until": "2020-01-01T00:00:00Z"}, "valid_until"),
    ({"valid_until": "tomorrow"}, "valid_until"),
    ({"valid_until": "2027-03-01T00:00:00"}, "valid_until"),
    ({"colour": "red"}, "colour"),
])
def test_bad_offers_are_problems_and_change_nothing(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, intents: IntentService,
        changes: dict[str, Any], named: str) -> None:
    alice = member(vault, "alice@example.org")
    cast = intents.cast(alice, draft(vault))
    head = headers(api, brand(api, "Velo Bikes", "bicycles"))
    [shown] = listing(brand_client, head)["intents"]
    body = problem(_offer(brand_client, head, shown["id"], offer_body(vault, **changes)), 400)
    assert named in body["errors"], body
    assert intents.offers(alice, cast.id) == []


def not_rfc3339(moment: dt.datetime) -> list[str]:
    """``moment`` as ISO 8601 writes it but RFC 3339's date-time does not (Python's
    ``fromisoformat`` reads each): a week date, the basic format, a space for T, no seconds,
    an offset without its colon, a comma for the fraction."""
    return [moment.strftime("%G-W%V-%uT%H:%M:%SZ"), moment.strftime("%Y%m%dT%H%M%SZ"),
            moment.strftime("%Y-%m-%d %H:%M:%SZ"), moment.strftime("%Y-%m-%dT%H:%MZ"),
            moment.strftime("%Y-%m-%dT%H:%M:%S+0000"), moment.strftime("%Y-%m-%dT%H:%M:%S,5Z")]


def test_valid_until_is_an_rfc_3339_date_time(
        brand_client: FlaskClient, api: BrandApi, vault: Vault,
        intents: IntentService) -> None:
    """The API documents valid_until as RFC 3339 (OpenAPI's date-time): other ISO 8601 forms
    of a good moment are refused naming it; RFC 3339's lower-case t and z are taken."""
    alice = member(vault, "alice@example.org")
    cast = intents.cast(alice, draft(vault))
    head = headers(api, brand(api, "Velo Bikes", "bicycles"))
    [shown] = listing(brand_client, head)["intents"]
    moment = dt.datetime.fromtimestamp(vault.clock() + 7 * DAY, dt.UTC).replace(microsecond=0)
    for written in not_rfc3339(moment):
        body = problem(_offer(brand_client, head, shown["id"],
                              offer_body(vault, valid_until=written)), 400)
        assert body["errors"] == {"valid_until": [
            "Give an RFC 3339 date-time with its offset, such as 2027-01-20T18:00:00Z."]}, \
            written
    assert intents.offers(alice, cast.id) == []
    made = _offer(brand_client, head, shown["id"], offer_body(
        vault, valid_until=moment.strftime("%Y-%m-%dt%H:%M:%S.25z")))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["offer"]["valid_until"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_offer_about_to_end_far_ahead_or_on_another_brands_pseudonym_is_refused(
        brand_client: FlaskClient, api: BrandApi, vault: Vault,
        intents: IntentService) -> None:
    intents.cast(member(vault, "alice@example.org"), draft(vault))
    velo, spokes = brand(api, "Velo Bikes", "bicycles"), brand(api, "Spokes", "bicycles")
    [shown] = listing(brand_client, headers(api, velo))["intents"]
    problem(_offer(brand_client, headers(api, spokes), shown["id"], offer_body(vault)), 404)
    problem(_offer(brand_client, headers(api, velo), "i-" + "A" * 32, offer_body(vault)), 404)
    body = problem(_offer(brand_client, headers(api, velo), shown["id"],
                          offer_body(vault, valid_until=valid_until(vault, 91))), 400)
    assert "valid_until" in body["errors"]
    for seconds in (2, 3599):                   # gone before the member could act on it
        soon = dt.datetime.fromtimestamp(vault.clock() + seconds, dt.UTC)
        body = problem(_offer(brand_client, headers(api, velo), shown["id"], offer_body(
            vault, valid_until=soon.isoformat().replace("+00:00", "Z"))), 400)
        assert body["errors"]["valid_until"] == ["At least 1 hour and at most 90 days ahead."]
    problem(brand_client.post(f"/api/v1/intents/{shown['id']}/offers",
                              headers=headers(api, velo), data="price=1"), 415)


def test_offer_limits_are_429_with_retry_after(
        brand_client: FlaskClient, api: BrandApi, vault: Vault,
        intents: IntentService) -> None:
    intents.cast(member(vault, "alice@example.org"), draft(vault))
    head = headers(api, brand(api, "Velo Bikes", "bicycles"))
    [shown] = listing(brand_client, head)["intents"]
    for _ in range(3):          # Limits().offers_per_intent
        assert _offer(brand_client, head, shown["id"], offer_body(vault)).status_code == 201
    refused = _offer(brand_client, head, shown["id"], offer_body(vault))
    problem(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1


def test_an_accepted_offer_reveals_the_chosen_fields_to_that_brand_only(
        brand_client: FlaskClient, api: BrandApi, vault: Vault,
        intents: IntentService) -> None:
    alice = member(vault, "alice@example.org")
    vault.profile.update(alice, {"given_name": "Alice", "family_name": "Liddell",
                                 "contact_email": "alice.contact@example.org"})
    api.accept_everything(alice)
    cast = intents.cast(alice, draft(vault))
    velo, spokes = brand(api, "Velo Bikes", "bicycles"), brand(api, "Spokes", "bicycles")
    velo_head, spokes_head = headers(api, velo), headers(api, spokes)
    offers = {}
    for client, head in ((velo, velo_head), (spokes, spokes_head)):
        [shown] = listing(brand_client, head)["intents"]
        made = _offer(brand_client, head, shown["id"], offer_body(vault))
        assert made.status_code == 201, made.get_json()
        offers[client.brand_id] = made.get_json()["offer"]["id"]
    accepted, grant, _ = intents.accept(alice, offers[velo.brand_id],
                                        fields=["contact_email"])
    velo_offer = brand_client.get(f"/api/v1/offers/{offers[velo.brand_id]}",
                                  headers=velo_head).get_json()["offer"]
    assert velo_offer["status"] == "accepted"
    assert velo_offer["subject"] == api.subject(alice, velo)
    assert velo_offer["grant"] == grant.id and velo_offer["fields"] == ["contact_email"]
    spokes_offer = brand_client.get(f"/api/v1/offers/{offers[spokes.brand_id]}",
                                    headers=spokes_head).get_json()["offer"]
    assert spokes_offer["status"] == "declined"
    assert spokes_offer["subject"] is None and spokes_offer["grant"] is None
    assert spokes_offer["fields"] == []
    assert alice not in json.dumps(spokes_offer)

    read = brand_client.get(f"/api/v1/offers/{offers[velo.brand_id]}/profile",
                            headers=velo_head)
    assert read.status_code == 200, read.get_json()
    assert read.get_json() == {"subject": api.subject(alice, velo),
                               "offer": offers[velo.brand_id], "grant": grant.id,
                               "profile": {"contact_email": "alice.contact@example.org"},
                               "withheld": []}
    problem(brand_client.get(f"/api/v1/offers/{offers[spokes.brand_id]}/profile",
                             headers=spokes_head), 404)
    problem(brand_client.get(f"/api/v1/offers/{offers[velo.brand_id]}/profile",
                             headers=spokes_head), 404)
    # The intent is fulfilled: no longer listed.
    assert listing(brand_client, velo_head)["intents"] == []
    assert accepted.status == "accepted" and cast.id


# -- webhooks -------------------------------------------------------------------------------------
def test_intent_created_goes_to_subscribed_endpoints_of_the_category_only(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, consent: Consent,
        clock: FrozenClock, intents: IntentService, app: Any) -> None:
    app.config["VRMVAULT_WEBHOOK_ALLOW_LOOPBACK"] = True
    velo = brand(api, "Velo Bikes", "bicycles", "travel")
    spokes = brand(api, "Spokes", "bicycles")
    travel = brand(api, "Far Away", "travel")
    plain = brand(api, "Plain", "bicycles")
    for client, body in ((velo, {"events": ["intent.created"], "categories": ["bicycles"]}),
                         (spokes, {"events": ["intent.created"]}),
                         (travel, {"events": ["intent.created"]}), (plain, {})):
        made = brand_client.post("/api/v1/webhooks", headers=headers(api, client), json={
            "url": f"http://127.0.0.1:9/{client.brand_id}", **body})
        assert made.status_code == 201, made.get_json()
    listed = brand_client.get("/api/v1/webhooks", headers=headers(api, velo)).get_json()
    assert listed["webhooks"][0]["events"] == ["intent.created"]
    assert listed["webhooks"][0]["categories"] == ["bicycles"]
    alice = member(vault, "alice@example.org")
    cast = intents.cast(alice, draft(vault))
    rows = vault.data.all("SELECT client_id, payload FROM webhook_outbox"
                          " WHERE event_type = 'intent.created' ORDER BY id")
    assert {r["client_id"] for r in rows} == {velo.client_id, spokes.client_id}
    for row in rows:
        event = json.loads(row["payload"])
        assert event["type"] == "intent.created"
        own = listing(brand_client, headers(api, velo if row["client_id"] == velo.client_id
                                             else spokes))["intents"][0]
        assert event["data"] == own
        assert alice not in row["payload"] and cast.id not in row["payload"]
    # Each delivery is a listing of the intent to that brand, in the member's ledger.
    entries = [consent.ledger.entry(n) for n in range(consent.ledger.size)]
    webhooked = {e.details["brand"] for e in entries
                 if e.tag.value == "intent:listing:returned" and e.details["via"] == "webhook"}
    assert webhooked == {velo.brand_id, spokes.brand_id}
    # Signed as every webhook: what a brand's receiver checks.
    sent: list[tuple[str, bytes, Mapping[str, str]]] = []

    def sender(url: str, body: bytes, head: Mapping[str, str], timeout: float) -> HttpResult:
        sent.append((url, body, head))
        return HttpResult(204)

    webhook_dispatcher(database=vault.data, signer=WebhookSigner.from_master(vault.master),
                         clock=clock, sender=sender).deliver_due(10)
    assert sent
    key = webhook_public_key(vault.master)
    for _, body, head in sent:
        assert verify(head, body, key, now=clock())["type"] == "intent.created"


def test_intent_created_is_not_sent_to_a_brand_the_member_blocked(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, consent: Consent,
        intents: IntentService, app: Any) -> None:
    app.config["VRMVAULT_WEBHOOK_ALLOW_LOOPBACK"] = True
    velo, spokes = brand(api, "Velo Bikes", "bicycles"), brand(api, "Spokes", "bicycles")
    for client in (velo, spokes):
        made = brand_client.post("/api/v1/webhooks", headers=headers(api, client), json={
            "url": f"http://127.0.0.1:9/{client.brand_id}", "events": ["intent.created"]})
        assert made.status_code == 201, made.get_json()
    alice = member(vault, "alice@example.org")
    intents.block(alice, velo.brand_id)
    intents.cast(alice, draft(vault, description="Blocked brands must not read this."))
    rows = vault.data.all("SELECT client_id, payload FROM webhook_outbox"
                          " WHERE event_type = 'intent.created'")
    assert [r["client_id"] for r in rows] == [spokes.client_id]
    assert listing(brand_client, headers(api, velo))["intents"] == []
    entries = [consent.ledger.entry(n) for n in range(consent.ledger.size)]
    assert [e.details["brand"] for e in entries
            if e.tag.value == "intent:listing:returned"] == [spokes.brand_id]


def offers_with_webhooks(brand_client: FlaskClient, api: BrandApi, vault: Vault,
                         clients: tuple[OAuthClient, ...]) -> dict[str, Any]:
    """Each client registers a webhook endpoint and offers on the one intent it is shown: the
    offers by client id."""
    registry = webhook_registry(database=vault.data, clock=vault.clock)
    offers = {}
    for client in clients:
        registry.add(client.client_id, f"https://{client.brand_id}.example/hooks")
        head = headers(api, client)
        [shown] = listing(brand_client, head)["intents"]
        offers[client.client_id] = _offer(brand_client, head, shown["id"],
                                          offer_body(vault)).get_json()["offer"]
    return offers


def test_an_erasure_declines_the_open_offers_on_the_members_intents_and_says_no_more(
        brand_client: FlaskClient, api: BrandApi, vault: Vault, vault_home: VaultHome,
        consent: Consent, intents: IntentService) -> None:
    alice, bob = member(vault, "alice@example.org"), member(vault, "bob@example.org")
    intents.cast(alice, draft(vault))
    velo, spokes = brand(api, "Velo Bikes", "bicycles"), brand(api, "Spokes", "bicycles")
    offers = offers_with_webhooks(brand_client, api, vault, (velo, spokes))
    intents.decline(alice, offers[spokes.client_id]["id"])      # told once, already
    kept = intents.cast(bob, draft(vault))
    [shown] = [i for i in listing(brand_client, headers(api, velo))["intents"]
               if i["id"] != offers[velo.client_id]["intent"]]
    bobs_offer = _offer(brand_client, headers(api, velo), shown["id"],
                        offer_body(vault)).get_json()["offer"]

    def sent() -> list[tuple[str, str, Any]]:
        return [(r["client_id"], r["event_type"], json.loads(r["payload"])["data"])
                for r in vault.data.all("SELECT client_id, event_type, payload"
                                        " FROM webhook_outbox WHERE event_type LIKE 'offer.%'"
                                        " ORDER BY id")]

    before = sent()
    finish_erasure(vault, consent, vault.erasure.begin(alice),
                   maildir=maildir_path(vault_home.root))
    offer = offers[velo.client_id]
    assert sent()[len(before):] == [(velo.client_id, "offer.declined", {
        "offer": offer["id"], "intent": offer["intent"], "status": "declined"})]
    declined = [e.details for e in (consent.ledger.entry(n) for n in range(consent.ledger.size))
                if e.tag.value == "intent:offer:declined"]
    assert (declined[-1]["offer"], declined[-1]["brand"]) == (offer["id"], velo.brand_id)
    problem(brand_client.get(f"/api/v1/offers/{offer['id']}", headers=headers(api, velo)), 404)
    # Another member's intent and the offer on it are as they were.
    assert intents.get(bob, kept.id).status == "open"
    assert intents.offer(bob, bobs_offer["id"]).status == "open"


@pytest.mark.parametrize(("body", "named"), [
    ({"events": ["consent.withdrawn"]}, "events"),
    ({"events": "intent.created"}, "events"),
    # Events that are no list, with categories: said of the events (not a 500, as once).
    ({"events": 12405923, "categories": ["bicycles"]}, "events"),
    ({"events": None, "categories": ["bicycles"]}, "events"),
    ({"categories": ["bicycles"]}, "categories"),
    ({"events": ["intent.created"], "categories": ["travel"]}, "categories"),
    ({"events": ["intent.created"], "categories": []}, "categories"),
])
def test_bad_subscriptions_are_problems(brand_client: FlaskClient, api: BrandApi, app: Any,
                                        body: dict[str, Any], named: str) -> None:
    app.config["VRMVAULT_WEBHOOK_ALLOW_LOOPBACK"] = True
    head = headers(api, brand(api, "Velo Bikes", "bicycles"))
    answer = problem(brand_client.post("/api/v1/webhooks", headers=head, json={
        "url": "http://127.0.0.1:9/hooks", **body}), 400)
    assert named in answer["errors"], answer


def test_offer_decisions_are_sent_to_the_offering_brand_saying_no_more_than_needed(
        brand_client: FlaskClient, api: BrandApi, vault: Vault,
        intents: IntentService) -> None:
    alice = member(vault, "alice@example.org")
    api.accept_everything(alice)
    intents.cast(alice, draft(vault))
    velo, spokes = brand(api, "Velo Bikes", "bicycles"), brand(api, "Spokes", "bicycles")
    offers = offers_with_webhooks(brand_client, api, vault, (velo, spokes))
    _, grant, _ = intents.accept(alice, offers[velo.client_id]["id"], fields=["given_name"])
    rows = {r["client_id"]: (r["event_type"], json.loads(r["payload"])) for r in vault.data.all(
        "SELECT client_id, event_type, payload FROM webhook_outbox"
        " WHERE event_type LIKE 'offer.%'")}
    assert rows[velo.client_id][0] == "offer.accepted"
    assert rows[velo.client_id][1]["data"] == {
        "offer": offers[velo.client_id]["id"], "intent": offers[velo.client_id]["intent"],
        "status": "accepted", "subject": api.subject(alice, velo), "grant": grant.id,
        "fields": ["given_name"]}
    assert rows[spokes.client_id][0] == "offer.declined"
    assert rows[spokes.client_id][1]["data"] == {
        "offer": offers[spokes.client_id]["id"], "intent": offers[spokes.client_id]["intent"],
        "status": "declined"}
