"""Every way a brand's authorization ends, through the real OAuth endpoints:
the member's Sharing page says so in words, a signed receipt, a ledger entry and a webhook to
the brand record it, and the brand's tokens stop; a brand that asks again for the same purpose
replaces its earlier grant instead of adding one.

The brand's side runs on the Flask test client through Authlib's endpoints (the helpers of
``test_authorization_code_flow``); ``vrmvault brand disable`` runs as the command it is.
"""

from __future__ import annotations

import base64
import json
import re
import time
import warnings
from typing import Any

import authlib.deprecate
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.authorizations import FAMILY_LIFETIME, RefreshRefusal
from brand_gateway.storage import webhook_registry
from community.storage import community_service, membership_service
from consent.events import EventTag
from consent.grants import DAY
from consent.model import GrantStatus
from consent.receipts import DEFAULT_CONTROLLER
from tests.conftest import GOOD_PASSWORD, AuthActions
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from web.cli import main
from web.endings import record_endings
from web.vaults import get_consent

from . import test_authorization_code_flow as flow
from .pages import text_of
from .test_authorization_code_flow import (
    DETAIL_TYPE,
    EMAIL,
    Brand,
    Endpoints,
    Issued,
    assert_api_refuses,
    grants_of,
    issue,
    receipts_of,
)

# The code flow's fixtures: its brand "Velo", its member (signed in on ``client``, terms set),
# the brand's endpoints.
registry, register, velo = flow.registry, flow.register, flow.velo
member, endpoints = flow.member, flow.endpoints

with warnings.catch_warnings():     # authlib.jose warns that it is deprecated in favour of joserfc
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebSignature

PROFILE = "/api/v1/member/profile"
LONG = [{"type": DETAIL_TYPE, "purpose": "dpv:ServiceProvision",
         "datatypes": ["given_name", "pd:City"], "duration_days": 60}]


@pytest.fixture
def clock() -> FrozenClock:
    """Frozen at the real time: ``vrmvault brand disable`` runs on the system clock."""
    return FrozenClock(float(int(time.time())))


@pytest.fixture
def hook(vault: Vault, clock: FrozenClock, velo: Brand) -> int:
    """A webhook endpoint of Velo's (the operator may register a loopback one)."""
    return webhook_registry(database=vault.data, clock=clock).add(
        velo.client_id, "http://127.0.0.1:9/hook").id


@pytest.fixture
def issued(client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str,
           hook: int) -> Issued:
    return issue(client, endpoints, velo, details=LONG)


# -- what the member, the ledger and the brand are left with -------------------------------------
def grant_card(client: FlaskClient, grant_id: str) -> str:
    page = client.get("/member/consents")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    start = html.index(f'id="{grant_id}"')
    return text_of(html[start:html.index("</li>", start)])


def verified(client: FlaskClient, token: str) -> dict[str, Any]:
    """A receipt's payload, its EdDSA signature checked with the published JWKS (Authlib)."""
    jwks = client.get("/.well-known/jwks.json").get_json()
    head = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    key = JsonWebKey.import_key_set(jwks).find_by_kid(head["kid"])
    result = JsonWebSignature(algorithms=["EdDSA"]).deserialize_compact(token, key)
    return dict(json.loads(result["payload"]))


def receipt_of(app: Flask, client: FlaskClient, member_id: str, event: str) -> dict[str, Any]:
    [stored] = [r for r in receipts_of(app, member_id) if r.event == event]
    return verified(client, stored.token)


def grant_extension(receipt: dict[str, Any]) -> dict[str, Any]:
    return dict(receipt["iso27560"]["dpv:hasRecordOfActivity"]["vrmvault:grant"])


def ledger(app: Flask, tag: EventTag) -> list[dict[str, Any]]:
    with app.app_context():
        found = get_consent().ledger
        entries = [found.entry(seq) for seq in range(found.size)]
    return [dict(e.details) for e in entries if e.tag is tag]


def webhooks(vault: Vault, event_type: str) -> list[dict[str, Any]]:
    return [json.loads(r["payload"]) for r in vault.data.all(
        "SELECT payload FROM webhook_outbox WHERE event_type = ? ORDER BY id", (event_type,))]


def only_grant(app: Flask, member_id: str) -> Any:
    [grant] = grants_of(app, member_id)
    return grant


def assert_access_ended(app: Flask, client: FlaskClient, vault: Vault, member_id: str,
                        issued: Issued, reason: str, words: str) -> None:
    """The consent stands, the brand's access ended for ``reason``; all four records agree."""
    assert_api_refuses(app, client, issued.access_token)
    grant = only_grant(app, member_id)
    assert grant.status is GrantStatus.ACTIVE and grant.access_ended.value == reason
    card = grant_card(client, grant.id)
    assert "Velo can no longer read this: its access was ended on" in card
    assert words in card
    assert "Your consent stands until" in card and "the brand must ask you again" in card
    assert "Active until" not in card and "Withdraw" in card
    assert grant_extension(receipt_of(app, client, member_id, "access-ended"))[
        "vrmvault:accessEnded"] == reason
    [entry] = ledger(app, EventTag.CONSENT_ACCESS_ENDED)
    assert entry["grant"] == grant.id and entry["reason"] == reason
    [event] = webhooks(vault, "authorization.ended")
    assert event["data"]["grant"] == grant.id
    assert event["data"]["reason"] == reason and event["data"]["consent"] == "stands"
    assert member_id not in json.dumps(event)          # the brand's pairwise subject only


# -- the endings ----------------------------------------------------------------------------------
def test_a_replayed_code_ends_the_access_and_the_member_is_told(
        app: Flask, client: FlaskClient, vault: Vault, endpoints: Endpoints, velo: Brand,
        member: str, issued: Issued, clock: FrozenClock) -> None:
    clock.advance(30)
    again = endpoints.exchange(velo, issued.code, "any verifier")
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert_access_ended(app, client, vault, member, issued, "code-replay",
                        "a one-time sign-in code it was given was used twice")
    # The refresh token of the ended authorization is dead too.
    assert endpoints.refresh(velo, issued.refresh_token).status_code == 400


def test_a_replayed_refresh_token_ends_the_access(
        app: Flask, client: FlaskClient, vault: Vault, endpoints: Endpoints, velo: Brand,
        member: str, issued: Issued) -> None:
    rotated = endpoints.refresh(velo, issued.refresh_token)
    assert rotated.status_code == 200
    replay = endpoints.refresh(velo, issued.refresh_token)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert_access_ended(app, client, vault, member, issued, "refresh-replay",
                        "a key it holds to stay connected was used twice")
    assert_api_refuses(app, client, rotated.get_json()["access_token"])


def test_a_brand_that_revokes_its_refresh_token_gives_the_consent_up(
        app: Flask, client: FlaskClient, vault: Vault, endpoints: Endpoints, velo: Brand,
        member: str, issued: Issued) -> None:
    # Revoking one access token ends that token only (RFC 7009 sec. 2.1): nothing is recorded.
    assert endpoints.revoke(velo, issued.access_token, "access_token").status_code == 200
    assert_api_refuses(app, client, issued.access_token)
    assert [r.event for r in receipts_of(app, member)] == ["given"]
    rotated = endpoints.refresh(velo, issued.refresh_token)
    assert rotated.status_code == 200
    refresh_token = rotated.get_json()["refresh_token"]

    assert endpoints.revoke(velo, refresh_token, "refresh_token").status_code == 200
    assert_api_refuses(app, client, rotated.get_json()["access_token"])
    grant = only_grant(app, member)
    assert grant.status is GrantStatus.RELEASED
    card = grant_card(client, grant.id)
    assert "Velo gave up its access itself, so this consent ended too" in card
    assert "Withdraw" not in card and "Active until" not in card
    receipt = receipt_of(app, client, member, "released")
    status = receipt["iso27560"]["dpv:hasRecordOfActivity"]["dpv:hasConsentStatus"]
    assert status["@type"] == "dpv:ConsentRevoked"
    assert [e["grant"] for e in ledger(app, EventTag.CONSENT_GRANT_RELEASED)] == [grant.id]
    [event] = webhooks(vault, "authorization.ended")
    assert event["data"]["reason"] == "revoked-by-brand" and event["data"]["consent"] == "ended"
    # Revoking again changes nothing.
    assert endpoints.revoke(velo, refresh_token, "refresh_token").status_code == 200
    assert len(receipts_of(app, member)) == 2


def test_disabling_the_client_ends_the_access(
        app: Flask, client: FlaskClient, vault: Vault, vault_home: VaultHome, velo: Brand,
        member: str, issued: Issued) -> None:
    result = CliRunner().invoke(
        main, ["--home", str(vault_home.root), "brand", "disable", velo.client_id],
        env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert_access_ended(app, client, vault, member, issued, "client-disabled",
                        "the vault's operator switched off its connection")


def test_an_authorization_past_its_absolute_end_is_recorded_by_the_background_pass(
        app: Flask, client: FlaskClient, vault: Vault, vault_home: VaultHome,
        auth: AuthActions, endpoints: Endpoints, velo: Brand, member: str, issued: Issued,
        clock: FrozenClock) -> None:
    clock.advance(FAMILY_LIFETIME)
    auth.login(EMAIL)                    # a month idle ends the member's session
    # Denied from the second it ends, before anything is recorded ...
    assert_api_refuses(app, client, issued.access_token)
    assert endpoints.refresh(velo, issued.refresh_token).status_code == 400
    assert [r.event for r in receipts_of(app, member)] == ["given"]
    assert "Active until" in grant_card(client, only_grant(app, member).id)
    # ... then the pass that `vrmvault consent expire` and `vrmvault serve` run records it.
    endings = record_endings(vault, vault_home, DEFAULT_CONTROLLER)
    assert (endings.grants_expired, endings.authorizations_expired) == (0, 1)
    assert_access_ended(app, client, vault, member, issued, "authorization-expired",
                        "its connection reached the 30-day limit")
    assert record_endings(vault, vault_home,
                          DEFAULT_CONTROLLER).authorizations_expired == 0      # once
    # At the grant's own end, the consent expires as any other.
    clock.advance(60 * DAY - FAMILY_LIFETIME)
    auth.login(EMAIL)
    assert record_endings(vault, vault_home, DEFAULT_CONTROLLER).grants_expired == 1
    assert "Expired" in grant_card(client, only_grant(app, member).id)
    [event] = webhooks(vault, "consent.expired")
    assert event["data"]["grant"] == only_grant(app, member).id


def test_a_member_who_withdraws_ends_the_access(
        app: Flask, client: FlaskClient, vault: Vault, auth: AuthActions, member: str,
        endpoints: Endpoints, velo: Brand, issued: Issued) -> None:
    grant = only_grant(app, member)
    response = auth.post(f"/member/consents/{grant.id}/withdraw", form_page="/member/consents")
    assert response.status_code == 302
    assert_api_refuses(app, client, issued.access_token)
    # The brand is told its authorization ended, not how: as for an erased member, below.
    assert flow.refused_refresh(endpoints.refresh(velo, issued.refresh_token)) \
        is RefreshRefusal.NOT_VALID
    assert "Withdrawn by you on" in grant_card(client, grant.id)
    assert grant_extension(receipt_of(app, client, member, "withdrawn"))[
        "vrmvault:grantId"] == grant.id
    assert [e["grant"] for e in ledger(app, EventTag.CONSENT_GRANT_WITHDRAWN)] == [grant.id]
    assert [e["data"]["grant"] for e in webhooks(vault, "consent.withdrawn")] == [grant.id]
    assert webhooks(vault, "authorization.ended") == []       # one ending, told once


def test_an_erased_member_ends_every_access(
        app: Flask, client: FlaskClient, vault: Vault, auth: AuthActions,
        endpoints: Endpoints, velo: Brand, member: str, issued: Issued) -> None:
    grant = only_grant(app, member)
    response = auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"})
    assert response.status_code == 303
    assert_api_refuses(app, client, issued.access_token)
    assert flow.refused_refresh(endpoints.refresh(velo, issued.refresh_token)) \
        is RefreshRefusal.NOT_VALID
    assert client.get("/member/consents").status_code == 302          # nobody to show it to
    assert len(ledger(app, EventTag.MEMBER_DATA_ERASED)) == 1
    [event] = webhooks(vault, "member.erased")
    assert event["data"]["grants"] == [grant.id]
    # The member's receipts went with the member (the ledger keeps the pseudonymous evidence).
    assert vault.data.one("SELECT count(*) FROM receipts")[0] == 0


def two_purposes(app: Flask, client: FlaskClient, vault: Vault, endpoints: Endpoints,
                 velo: Brand, member: str) -> dict[str, Any]:
    """One approval of two purposes (service provision, customer care); the token response."""
    flow.set_terms(app, member, purposes=["dpv:ServiceProvision", "dpv:CustomerCare"])
    vault.profile.update(member, {"given_name": "Alice", "city": "Ghent"})
    both = [LONG[0], {"type": DETAIL_TYPE, "purpose": "dpv:CustomerCare",
                      "datatypes": ["given_name"], "duration_days": 60}]
    asked = flow.authorization_request(velo, details=both)
    page = client.get(asked.url).get_data(as_text=True)
    answer = client.post(asked.url, data={**flow.form_tokens(page), "decision": "approve",
                                          "fields-0": ["given_name", "city"],
                                          "fields-1": ["given_name"]})
    code = flow.redirected_to_brand(answer)["code"]
    return dict(endpoints.exchange(velo, code, asked.verifier).get_json())


# -- asking again ---------------------------------------------------------------------------------
def test_asking_again_for_the_same_purpose_replaces_the_grant(
        app: Flask, client: FlaskClient, vault: Vault, endpoints: Endpoints, velo: Brand,
        member: str, issued: Issued, clock: FrozenClock) -> None:
    first = only_grant(app, member)
    clock.advance(60)
    second = issue(client, endpoints, velo, details=LONG)
    clock.advance(60)
    third = issue(client, endpoints, velo, details=LONG)
    grants = grants_of(app, member)
    live = [g for g in grants if g.live_at(clock())]
    assert len(grants) == 3 and len(live) == 1                       # never a pile of cards
    newest = live[0]
    assert newest.id == third.body["authorization_details"][0]["grant_id"]
    # Each earlier one was replaced by the next, with a receipt that says by which.
    middle = next(g for g in grants if g.id == second.body["authorization_details"][0][
        "grant_id"])
    assert {g.id: g.replaced_by for g in grants if g.status is GrantStatus.REPLACED} == {
        first.id: middle.id, middle.id: newest.id}
    replaced = [verified(client, r.token) for r in receipts_of(app, member)
                if r.event == "replaced"]
    assert {grant_extension(r)["vrmvault:grantId"]: grant_extension(r)["vrmvault:replacedBy"]
            for r in replaced} == {first.id: middle.id, middle.id: newest.id}
    [given] = [r for r in receipts_of(app, member) if r.event == "given"
               and r.grant_id == newest.id]
    assert grant_extension(verified(client, given.token))["vrmvault:replaces"] == [middle.id]
    assert len(ledger(app, EventTag.CONSENT_GRANT_REPLACED)) == 2
    assert [e["data"]["reason"] for e in webhooks(vault, "authorization.ended")] == [
        "replaced", "replaced"]
    # Only the newest authorization reads; the page shows one active card and two replaced.
    for old in (issued, second):
        assert_api_refuses(app, client, old.access_token)
        assert endpoints.refresh(velo, old.refresh_token).status_code == 400
    read = client.get(PROFILE, headers={"Authorization": "Bearer " + third.access_token})
    assert read.status_code == 200, read.get_data(as_text=True)
    page = text_of(client.get("/member/consents").get_data(as_text=True))
    assert page.count("Active until") == 1
    assert page.count("by your newer answer to Velo for this purpose") == 2


def replaces_notice(html: str, index: int = 0) -> str | None:
    """The consent screen's words on what approving would replace for purpose ``index``."""
    match = re.search(rf'<div class="notice replaces" id="replaces-{index}">(.*?)</div>', html,
                      re.S)
    return text_of(match.group(1)) if match else None


def test_the_consent_screen_says_first_what_approving_replaces(
        app: Flask, client: FlaskClient, endpoints: Endpoints, velo: Brand, member: str,
        clock: FrozenClock) -> None:
    first = flow.authorization_request(velo, details=LONG)
    assert replaces_notice(client.get(first.url).get_data(as_text=True)) is None  # nothing yet
    # The member shares only the name, for 60 days.
    params = flow.redirected_to_brand(flow.approve(client, first.url, ("given_name",)))
    assert endpoints.exchange(velo, params["code"], first.verifier).status_code == 200
    old = only_grant(app, member)
    clock.advance(60)

    # Velo asks again for the same purpose (and one more): the screen says what it replaces.
    again = flow.authorization_request(velo, details=[
        *LONG, {"type": DETAIL_TYPE, "purpose": "dpv:CustomerCare",
                "datatypes": ["given_name"], "duration_days": 30}])
    flow.set_terms(app, member, purposes=["dpv:ServiceProvision", "dpv:CustomerCare"])
    html = client.get(again.url).get_data(as_text=True)
    ends = time.strftime("%-d %B %Y", time.gmtime(old.ends_at))
    assert replaces_notice(html) == (
        "Allowing replaces what Velo may see now for this purpose: Given name, until "
        f"{ends} That ends when you choose Allow, and only what you leave ticked below is "
        "shared from then on, until the new end date. Choose Refuse to keep it as it is.")
    assert replaces_notice(html, 1) is None          # nothing shared yet for this purpose
    # Refusing keeps the grant; allowing replaces it, as the screen said.
    page = client.get(again.url).get_data(as_text=True)
    client.post(again.url, data={**flow.form_tokens(page), "decision": "refuse"})
    assert only_grant(app, member).status is GrantStatus.ACTIVE
    assert flow.approve(client, flow.authorization_request(velo, details=LONG).url
                        ).status_code == 302
    assert get_consent_grant(app, member, old.id).status is GrantStatus.REPLACED

    # A grant that ended (withdrawn, or past its end) is replaced by nothing: no notice.
    live = next(g for g in grants_of(app, member) if g.live_at(clock()))
    with app.app_context():
        get_consent().grants.withdraw(member, live.id)
    assert replaces_notice(client.get(flow.authorization_request(velo, details=LONG).url)
                           .get_data(as_text=True)) is None


def test_the_apps_request_never_replaces_what_a_community_membership_holds(
        app: Flask, client: FlaskClient, vault: Vault, endpoints: Endpoints, velo: Brand,
        member: str) -> None:
    """A trial found an app's authorization for a purpose replacing the member's community
    grant (aggregate only) with individual records, the screen naming it as "what Velo may
    see now", the Sharing page "Replaced" and the communities page "in force (in totals
    only)". The two live side by side; the screen says nothing of the community's."""
    brand_id = next(b.id for b in vault.brands.all() if b.name == "Velo")
    flow.set_terms(app, member, agreement="SD-BASE-A",
                   purposes=["dpv:ServiceProvision", "dpv:ServiceOptimisation"],
                   aggregate_allowed=True)
    with app.app_context():
        consent = get_consent()
        club = community_service(consent).open(brand_id, name="Repair Club",
                                               description="Fix it with us.",
                                               purposes=["dpv:ServiceOptimisation"]).id
        [held] = membership_service(consent).join(member, club).grants
    asked = flow.authorization_request(velo, details=[
        {"type": DETAIL_TYPE, "purpose": "dpv:ServiceOptimisation", "datatypes": ["city"]}])
    assert replaces_notice(client.get(asked.url).get_data(as_text=True)) is None
    params = flow.redirected_to_brand(flow.approve(client, asked.url))
    assert endpoints.exchange(velo, params["code"], asked.verifier).status_code == 200
    assert get_consent_grant(app, member, held.id).status is GrantStatus.ACTIVE
    assert "Active until" in grant_card(client, held.id)
    assert "Aggregate (anonymous totals) only" in grant_card(client, held.id)
    app_grant = next(g for g in grants_of(app, member) if g.id != held.id)
    assert app_grant.mode.value == "individual" and "Active until" in grant_card(
        client, app_grant.id)
    assert ledger(app, EventTag.CONSENT_GRANT_REPLACED) == []


def get_consent_grant(app: Flask, member_id: str, grant_id: str) -> Any:
    with app.app_context():
        return get_consent().grants.get(member_id, grant_id)


def test_replacing_one_purpose_keeps_the_other_purposes_of_an_authorization_readable(
        app: Flask, client: FlaskClient, vault: Vault, endpoints: Endpoints, velo: Brand,
        member: str, hook: int) -> None:
    first = two_purposes(app, client, vault, endpoints, velo, member)
    service, care = (d["grant_id"] for d in first["authorization_details"])

    again = issue(client, endpoints, velo, details=LONG)        # service provision only
    grants = {g.id: g for g in grants_of(app, member)}
    assert grants[service].status is GrantStatus.REPLACED
    assert grants[care].status is GrantStatus.ACTIVE and grants[care].access_ended is None
    # The first authorization still reads customer care, no longer service provision.
    old = {"Authorization": "Bearer " + first["access_token"]}
    care_read = client.get(PROFILE + "?purpose=dpv:CustomerCare", headers=old)
    assert care_read.status_code == 200, care_read.get_data(as_text=True)
    assert care_read.get_json()["profile"] == {"given_name": "Alice"}
    service_read = client.get(PROFILE + "?purpose=dpv:ServiceProvision", headers=old)
    assert service_read.status_code == 200
    assert service_read.get_json()["profile"] == {}           # the replaced grant allows nothing
    assert sorted(service_read.get_json()["withheld"]) == ["city", "given_name"]
    new = {"Authorization": "Bearer " + again.access_token}
    assert client.get(PROFILE + "?purpose=dpv:ServiceProvision", headers=new).get_json()[
        "profile"] == {"given_name": "Alice", "city": "Ghent"}
    [event] = webhooks(vault, "authorization.ended")
    assert event["data"] == event["data"] | {"grant": service, "reason": "replaced",
                                             "replaced_by": again.body[
                                                 "authorization_details"][0]["grant_id"]}


def test_withdrawing_one_purpose_keeps_the_other_purpose_of_the_authorization_readable(
        app: Flask, client: FlaskClient, vault: Vault, auth: AuthActions,
        endpoints: Endpoints, velo: Brand, member: str, hook: int) -> None:
    first = two_purposes(app, client, vault, endpoints, velo, member)
    service, care = (d["grant_id"] for d in first["authorization_details"])
    auth.post(f"/member/consents/{service}/withdraw", form_page="/member/consents")
    token = {"Authorization": "Bearer " + first["access_token"]}
    care_read = client.get(PROFILE + "?purpose=dpv:CustomerCare", headers=token)
    assert care_read.status_code == 200, care_read.get_data(as_text=True)
    assert care_read.get_json()["profile"] == {"given_name": "Alice"}
    assert client.get(PROFILE + "?purpose=dpv:ServiceProvision", headers=token).get_json()[
        "profile"] == {}
    assert "Active until" in grant_card(client, care)           # and it is so
    assert "Withdrawn by you on" in grant_card(client, service)
    assert endpoints.refresh(velo, first["refresh_token"]).status_code == 200
    # Withdrawing the last live purpose ends the authorization's tokens.
    auth.post(f"/member/consents/{care}/withdraw", form_page="/member/consents")
    assert_api_refuses(app, client, first["access_token"])
