"""A member's consent journey in a real browser: edit personal terms, withdraw a grant, download
a signed receipt and check it with the keys the server publishes.

The store is seeded through the consent services before the server starts: a member with terms,
an IEEE 7012 agreement with Velo Bikes and one grant (with its receipt).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import authlib.deprecate
import pytest
from playwright.sync_api import Page, expect

from consent.context import open_consent
from consent.grants import BrandRequest
from consent.model import GrantStatus, Mode
from consent.vocabulary import PURPOSES
from tests.conftest import TEST_HASHING
from vault.home import VaultHome

from .conftest import LiveServer

with warnings.catch_warnings():     # authlib.jose warns that it is deprecated in favour of joserfc
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebSignature
    from authlib.jose.errors import JoseError as AuthlibJoseError

pytestmark = pytest.mark.browser

EMAIL = "consenting.member@example.org"
PASSWORD = "lantern orchard velvet compass"
PURPOSE = "dpv:Personalisation"


@dataclass(frozen=True)
class Seed:
    member_id: str
    brand_id: str
    grant_id: str
    receipt_id: str


@pytest.fixture
def seed(live_home: VaultHome) -> Seed:
    """A member who shares something with Velo Bikes, made through the consent services."""
    with live_home.open(hashing=TEST_HASHING) as vault:
        consent = open_consent(vault, live_home)
        try:
            member_id = vault.members.register(EMAIL, PASSWORD)
            [brand] = [b for b in vault.brands.all() if b.name == "Velo Bikes"]
            consent.terms.update(member_id, agreement="SD-BASE-ATP",
                                 purposes=[p.code for p in PURPOSES], max_days=365,
                                 aggregate_allowed=False)
            offer = consent.agreements.proffer(member_id, brand.id)
            consent.agreements.brand_accepts(offer.id, brand.id)
            grant, receipt = consent.grants.grant(member_id, BrandRequest(
                brand.id, PURPOSE, frozenset({"given_name", "category:interests"}), days=90))
        finally:
            consent.close()
    return Seed(member_id, brand.id, grant.id, receipt.id)


@pytest.fixture
def server(seed: Seed, live_home: VaultHome) -> Iterator[LiveServer]:
    """The conftest's server, started only once the store is seeded."""
    live = LiveServer(live_home.root)
    live.start()
    yield live
    live.stop()


def store_decision(home: VaultHome, seed: Seed, field: str = "given_name"):
    """What the decision point says now, read from the live store."""
    with home.open() as vault:
        consent = open_consent(vault, home)
        try:
            return consent.decisions.decide(seed.brand_id, PURPOSE, seed.member_id, field,
                                            Mode.INDIVIDUAL, time.time())
        finally:
            consent.close()


def stored_terms(home: VaultHome, seed: Seed):
    with home.open() as vault:
        consent = open_consent(vault, home)
        try:
            return consent.terms.get(seed.member_id)
        finally:
            consent.close()


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()


def purpose_box(page: Page, code: str):
    return page.locator(f'input[name="purposes"][value="{code}"]')


def test_edit_personal_terms(page: Page, live_home: VaultHome, seed: Seed) -> None:
    sign_in(page)
    page.get_by_role("navigation").get_by_role("link", name="My terms").click()
    expect(page.get_by_role("heading", name="My terms")).to_be_visible()
    term = page.get_by_label("The term I offer brands")
    expect(term).to_have_value("SD-BASE-ATP")

    # An invalid combination: profiling under a term without P.
    term.select_option("SD-BASE-A")
    boxes = page.locator('input[name="purposes"]')
    for index in range(boxes.count()):
        boxes.nth(index).uncheck()
    purpose_box(page, "dpv:ServiceOptimisation").check()
    purpose_box(page, "dpv:Personalisation").check()
    page.get_by_label("Longest grant I allow, in days").fill("120")
    page.get_by_role("button", name="Save my terms").click()
    error = page.locator("#purposes #purposes-error")
    expect(error).to_contain_text("Personalisation needs more than the term you offer allows")
    expect(page.get_by_label("The term I offer brands")).to_have_value("SD-BASE-A")
    assert stored_terms(live_home, seed).agreement == "SD-BASE-ATP"   # nothing saved

    # Corrected: untick the purpose the term does not allow, and save.
    purpose_box(page, "dpv:Personalisation").uncheck()
    page.get_by_label("Brands may ask to count me into anonymous totals").check()
    page.get_by_role("button", name="Save my terms").click()
    expect(page.get_by_text("Your terms are saved.")).to_be_visible()

    page.reload()
    expect(page.get_by_label("The term I offer brands")).to_have_value("SD-BASE-A")
    expect(purpose_box(page, "dpv:ServiceOptimisation")).to_be_checked()
    expect(purpose_box(page, "dpv:Personalisation")).not_to_be_checked()
    expect(page.get_by_label("Longest grant I allow, in days")).to_have_value("120")
    expect(page.get_by_label("Brands may ask to count me into anonymous totals")).to_be_checked()
    terms = stored_terms(live_home, seed)
    assert (terms.agreement, terms.purposes, terms.max_days, terms.aggregate_allowed) == (
        "SD-BASE-A", {"dpv:ServiceOptimisation"}, 120, True)


def test_withdraw_a_grant(page: Page, live_home: VaultHome, seed: Seed) -> None:
    assert store_decision(live_home, seed).allowed
    sign_in(page)
    page.get_by_role("navigation").get_by_role("link", name="Sharing").click()
    grant = page.locator(f"li#{seed.grant_id}")
    expect(grant).to_contain_text("Velo Bikes")
    expect(grant).to_contain_text("Active until")

    grant.get_by_role("button", name="Withdraw grant to Velo Bikes").click()

    expect(page.get_by_text("Withdrawn. The brand can no longer see this data")).to_be_visible()
    grant = page.locator(f"li#{seed.grant_id}")
    expect(grant).to_contain_text("Withdrawn")
    expect(grant.get_by_role("button", name="Withdraw grant to Velo Bikes")).to_have_count(0)
    decision = store_decision(live_home, seed)
    assert not decision.allowed
    assert decision.reason == "the member withdrew the grant"
    with live_home.open() as vault:
        row = vault.data.one("SELECT status FROM grants WHERE id = ?", (seed.grant_id,))
        assert GrantStatus(row["status"]) is GrantStatus.WITHDRAWN
        events = [r["event"] for r in vault.data.all(
            "SELECT event FROM receipts WHERE grant_id = ?", (seed.grant_id,))]
        assert sorted(events) == ["given", "withdrawn"]


def authlib_verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    key = JsonWebKey.import_key(jwks["keys"][0])
    result = JsonWebSignature(algorithms=["EdDSA"]).deserialize_compact(token, key)
    return json.loads(result["payload"])


def test_download_a_receipt(page: Page, seed: Seed, tmp_path: Path) -> None:
    sign_in(page)
    page.get_by_role("navigation").get_by_role("link", name="Sharing").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download receipt: given, Velo Bikes").click()
    download = download_info.value
    assert download.suggested_filename == f"consent-receipt-{seed.receipt_id}.jwt"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    token = target.read_text()

    jwks = page.request.get("/.well-known/jwks.json").json()
    assert all("d" not in key for key in jwks["keys"])
    receipt = authlib_verify(token, jwks)
    assert receipt["consentReceiptID"] == seed.receipt_id
    assert receipt["version"] == "KI-CR-v1.1.0"
    record = receipt["iso27560"]["dpv:hasRecordOfActivity"]
    assert record["dct:identifier"] == seed.grant_id
    assert record["dpv:hasConsentStatus"]["@type"] == "dpv:ConsentGiven"
    assert EMAIL not in token

    # The same receipt with its entry in the public log, to prove it is there.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Log entry of the receipt: given, Velo Bikes").click()
    entry_download = download_info.value
    assert entry_download.suggested_filename == f"consent-receipt-{seed.receipt_id}-entry.json"
    entry_file = tmp_path / entry_download.suggested_filename
    entry_download.save_as(entry_file)
    proof = json.loads(entry_file.read_text())
    assert proof["receipt"] == token
    assert proof["ledger"]["index"] == receipt["ledgerPosition"]["index"]
    assert json.loads(proof["ledger"]["entry"])["details"]["receipt"] == seed.receipt_id
    assert EMAIL not in entry_file.read_text()

    header, payload, signature = token.split(".")
    changed = payload[:20] + ("A" if payload[20] != "A" else "B") + payload[21:]
    with pytest.raises(AuthlibJoseError):
        authlib_verify(".".join((header, changed, signature)), jwks)
