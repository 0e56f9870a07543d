"""A compliance officer in real Chromium against ``vrmvault serve``: signs in with a TOTP code,
opens the consent and access log, filters it, pages through it, verifies the ledger and
downloads a filtered export whose proofs check against its checkpoint."""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from consent.checkpoints import Ed25519NoteVerifier
from consent.context import open_ledger
from consent.event_details import GrantGiven, ProfileRead
from consent.events import Event
from consent.merkle import leaf_hash, verify_inclusion
from tests.conftest import GOOD_PASSWORD, turn_on_totp
from vault.home import VaultHome
from vault.members import COMPLIANCE

from .conftest import sign_in_with_code

OFFICER = "olive.officer@vrmvault.example"
MEMBER = "member:" + "d" * 32
FIRST = 1_700_000_000.0                  # 2023: before the checkpoint, signed now


@pytest.fixture
def officer_secret(live_home: VaultHome) -> str:
    """An officer with two-step sign-in on, and 130 ledger entries: every third a grant to
    brand_velo, the others reads by brand_grocer, a checkpoint of them all."""
    with live_home.open() as vault:
        officer = vault.members.register(OFFICER, GOOD_PASSWORD)
        secret, _ = turn_on_totp(vault, officer)
        assert vault.members.set_role(officer, COMPLIANCE)
    with open_ledger(live_home, live_home.master_key({}), checkpoint_every=0) as ledger:
        for n in range(130):
            if n % 3 == 0:
                details: GrantGiven | ProfileRead = GrantGiven(
                    grant=f"grant_{n}", brand="brand_velo", purpose="dpv:Marketing",
                    fields=["city"], mode="shared", ends_at=1_900_000_000, version=1)
                actor = MEMBER
            else:
                details = ProfileRead(member=MEMBER, client="client_1",
                                      purpose="dpv:ServiceProvision", fields=["city"],
                                      grants=["grant_x"])
                actor = "brand:brand_grocer"
            ledger.record_events([Event.of(details, actor, at=FIRST + n * 60)])
        ledger.checkpoint()
    return secret


def test_an_officer_filters_pages_verifies_and_exports(officer_secret: str, page: Page) -> None:
    sign_in_with_code(page, OFFICER, GOOD_PASSWORD, officer_secret)
    page.get_by_role("navigation").get_by_role("link", name="Compliance").click()
    page.get_by_role("link", name="Consent and access log").click()
    expect(page.get_by_role("heading", name="Consent and access log")).to_be_visible()
    rows = page.locator("table.ledger tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first.locator('td[data-label="Seq"]')).to_have_text("130")
    # At desktop width the table fits the page, and a tag is on one line, not broken every few
    # letters; a pseudonym is cut short on screen only, whole in the page.
    page.set_viewport_size({"width": 1280, "height": 720})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    tag = rows.first.locator('td[data-label="Tag"] code')       # ledger:checkpoint:signed
    assert tag.bounding_box()["height"] < 30
    principal = rows.nth(1).locator('td[data-label="Principal"] a')
    expect(principal).to_have_text(re.compile(r"^member:[0-9a-f]{32}$"))
    expect(principal).to_have_attribute("title", principal.inner_text())

    # Filter: brand_velo's grants, 44 of them, on one page.
    page.get_by_label("Brand").fill("brand_velo")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(44)
    expect(rows.first.locator('td[data-label="Tag"]')).to_have_text("consent:grant:given")
    expect(page.get_by_role("link", name="Older")).to_have_count(0)

    # A tag that does not exist: the message next to the field.
    page.get_by_label("Event tag").fill("consent")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#tag-error")).to_contain_text("no ledger tag is 'consent'")

    # Reads by brand_grocer: 86, two pages, back and forth by cursor.
    page.get_by_label("Brand").fill("brand_grocer")
    page.get_by_label("Event tag").fill("access:")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(50)
    page.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(36)
    expect(rows.last.locator('td[data-label="Seq"]')).to_have_text("1")
    page.get_by_role("link", name="Newer").click()
    expect(rows).to_have_count(50)
    expect(rows.first.locator('td[data-label="Seq"]')).to_have_text("128")

    # Verify the whole ledger.
    page.get_by_role("button", name="Verify integrity").click()
    expect(page.locator(".flash")).to_contain_text("Integrity verified. OK: 131 entries")
    expect(page.locator("#verify-result")).to_be_in_viewport()     # on the first screen

    # Export the filtered set (the filter is in the address, as the form keeps it).
    page.get_by_label("Brand").fill("brand_velo")
    page.get_by_label("Event tag").fill("")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Format").select_option("csv")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO(text)))
    checkpoint, entries = exported[0], exported[1:-1]
    assert checkpoint["record"] == "checkpoint" and len(entries) == 44
    body = Ed25519NoteVerifier.from_verifier_key(checkpoint["verifier_key"]).open_checkpoint(
        checkpoint["note"])
    assert body.tree_size == 130
    for entry in entries:
        proof = [base64.b64decode(h) for h in entry["inclusion_proof"].split()]
        assert verify_inclusion(leaf_hash(entry["entry"].encode()), int(entry["seq"]),
                                body.tree_size, proof, body.root_hash)
