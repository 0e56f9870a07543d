"""A member whose data key was lost, not erased: the key store restored from a backup made
before their key (here its row is deleted directly, as that restore leaves it: no key, and no
erasure listed). Their pages say what happened and what they can do (503, never the 410 of an
erased member), the brand API answers its own problem, the account can still be deleted and is
then erased for real, and ``vrmvault reapply-erasures`` names them by pseudonym and exits 3.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.clients import OAuthClient
from brand_gateway.storage import webhook_registry
from consent.context import member_principal
from consent.events import EventTag
from tests.brand_api_support import BrandApi, IssuedToken
from tests.conftest import GOOD_PASSWORD, AuthActions, next_totp_code, turn_on_totp
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from web.cli import KEYS_LOST_EXIT, main
from web.forms import CODE_UNCHECKABLE
from web.vaults import get_consent

from .conftest import SignedIn
from .pages import count, field_errors, location_path, text_of

LOST_TITLE = "Your data cannot be opened"
ERASED_TITLE = "This member's data was erased"
PROBLEM_TYPE = "https://vrmvault.example/problems/member-key-lost"


@pytest.fixture
def issued(api: BrandApi, alice: SignedIn, velo: OAuthClient, vault: Vault,
           clock: FrozenClock) -> IssuedToken:
    """Alice with a profile and a journal entry, Velo granted her given name (and told of
    erasures at an endpoint of its own)."""
    vault.profile.update(alice.id, {"given_name": "Alice", "city": "Leiden"})
    webhook_registry(database=vault.data, clock=clock).add(velo.client_id,
                                                           "http://127.0.0.1:9/hook")
    return api.member_token(alice.id, velo, {"dpv:Personalisation": ["given_name"]})


@pytest.fixture
def lost(issued: IssuedToken, vault: Vault) -> IssuedToken:
    """Alice's key gone as a restore of an older key store leaves it: no erasure listed."""
    vault.key_store.remove(issued.member_id)
    assert vault.key_store.erased_at(issued.member_id) is None
    return issued


def reapply(home: VaultHome) -> Result:
    return CliRunner().invoke(main, ["--home", str(home.root), "reapply-erasures"],
                              env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)


def ledger(app: Flask, tag: EventTag) -> list[dict[str, Any]]:
    with app.app_context():
        found = get_consent().ledger
        entries = [found.entry(seq) for seq in range(found.size)]
    return [dict(e.details) for e in entries if e.tag is tag]


@pytest.mark.parametrize("path", ["/member/", "/member/profile", "/member/feedback",
                                  "/member/consents", "/member/access", "/member/intents",
                                  "/member/requests", "/member/security"])
def test_every_member_page_says_the_key_was_lost_and_what_to_do(alice: SignedIn, lost,
                                                                path: str) -> None:
    response = alice.client.get(path)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    text = text_of(page)
    assert LOST_TITLE in text and ERASED_TITLE not in text
    assert "restored the vault's keys from a backup made before your key was" in text
    assert 'href="/member/delete"' in page
    assert 'name="given_name"' not in page            # no empty profile form


def test_a_member_page_asked_for_json_answers_the_problem(alice: SignedIn, lost) -> None:
    response = alice.client.get("/member/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == PROBLEM_TYPE


def test_the_brand_api_answers_that_the_data_cannot_be_opened_not_erased(
        brand_client: FlaskClient, lost: IssuedToken) -> None:
    response = brand_client.get("/api/v1/member/profile", headers=lost.headers)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == PROBLEM_TYPE and problem["status"] == 503
    assert problem["title"] == "This member's data cannot be opened"
    assert "Nothing was erased" in problem["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert documented(brand_client, "/member/profile", 503) == "MemberDataUnavailable"


def documented(brand_client: FlaskClient, path: str, status: int) -> str:
    """The response component the OpenAPI document names for ``status`` of ``GET path``."""
    document = brand_client.get("/api/v1/openapi.json").get_json()
    reference = document["paths"][path]["get"]["responses"][str(status)]["$ref"]
    name = reference.rpartition("/")[2]
    assert name in document["components"]["responses"]
    return name


def test_an_erased_members_key_still_answers_410(brand_client: FlaskClient,
                                                 issued: IssuedToken, vault: Vault) -> None:
    """The contrast: a key destroyed with its erasure listed (a crash between key and rows)."""
    vault.key_store.destroy(issued.member_id, erased_at=1)
    response = brand_client.get("/api/v1/member/profile", headers=issued.headers)
    assert response.status_code == 410
    assert response.get_json()["type"].endswith("/member-erased")
    assert documented(brand_client, "/member/profile", 410) == "MemberErased"


def test_the_member_can_still_delete_the_account_and_is_erased_for_real(
        app: Flask, alice: SignedIn, lost: IssuedToken, vault: Vault, vault_home: VaultHome,
        brand_client: FlaskClient) -> None:
    page = alice.client.get("/member/delete")
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "You can still delete your account" in text
    assert alice.email not in page.get_data(as_text=True)
    assert "download your data" not in text

    response = alice.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"})
    assert response.status_code == 303 and location_path(response) == "/account-deleted"
    for table in ("members", "profile_values", "web_sessions"):
        assert count(vault, table, alice.id) == 0, table
    assert count(vault, "erasures") == 1
    assert vault.key_store.erased_at(alice.id) is not None          # listed in the key store
    [erased] = ledger(app, EventTag.MEMBER_DATA_ERASED)
    assert erased["key_destroyed"] is False                          # there was none
    [hook] = [json.loads(r["payload"]) for r in vault.data.all(
        "SELECT payload FROM webhook_outbox WHERE event_type = 'member.erased'")]
    assert hook["data"]["grants"] == [lost.grant.id]
    assert alice.client.get("/member/").status_code == 302
    assert AuthActions(app.test_client()).login().status_code == 401
    response = brand_client.get("/api/v1/member/profile", headers=lost.headers)
    assert response.status_code == 401
    assert reapply(vault_home).exit_code == 0                      # nobody left to report


def test_a_wrong_password_on_the_delete_page_deletes_nothing(alice: SignedIn, lost,
                                                             vault: Vault) -> None:
    response = alice.auth.post("/member/delete", {"password": "not my passphrase at all",
                                                  "confirm": "on"})
    assert response.status_code == 401
    assert count(vault, "members", alice.id) == 1


def test_reapply_erasures_names_the_members_without_a_key_and_exits_3(
        lost: IssuedToken, bob: SignedIn, vault: Vault, vault_home: VaultHome) -> None:
    result = reapply(vault_home)
    assert result.exit_code == KEYS_LOST_EXIT == 3
    assert "Deleted again the rows of 0 erased members" in result.stdout
    assert "warning: 1 member has an account but no data key, and no erasure listed" \
        in result.stderr
    assert "Restore a newer backup of the key store" in result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == "  " + member_principal(vault, lost.member_id)
    assert member_principal(vault, bob.id) not in result.stderr
    assert "alice@example.org" not in result.output + result.stderr
    assert count(vault, "members", lost.member_id) == 1                # nothing deleted


def test_with_two_step_sign_in_a_recovery_code_still_signs_in(app: Flask, vault: Vault,
                                                              clock: FrozenClock) -> None:
    """The authenticator's secret is sealed under the lost key; recovery codes are keyed
    hashes, so one still signs the member in, to be told and to delete the account."""
    member = vault.members.register("totp@example.org", GOOD_PASSWORD)
    secret, codes = turn_on_totp(vault, member)
    vault.key_store.remove(member)
    browser = AuthActions(app.test_client())
    assert location_path(browser.login("totp@example.org")) == "/login/code"
    response = browser.post("/login/code", {"code": next_totp_code(secret, clock.now)})
    assert response.status_code == 503
    [said] = field_errors(response.get_data(as_text=True), "code")
    assert said.endswith(CODE_UNCHECKABLE)
    response = browser.post("/login/code", {"code": codes[0]})
    assert response.status_code == 302 and location_path(response) == "/member/"
    assert browser.client.get("/member/").status_code == 503
    assert browser.client.get("/member/delete").status_code == 200
