"""The console's consent and access log (/console/ledger) through the Flask test client: who may
open it, the filters and their messages, paging by cursor, the integrity section, verifying a
sound and a tampered ledger, and exports with proofs; never anything personal."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re

import pytest
from flask import Flask

from consent.checkpoints import Ed25519NoteVerifier
from consent.context import Consent
from consent.event_details import GrantGiven, ProfileRead
from consent.events import Event
from consent.merkle import leaf_hash, node_count, verify_inclusion
from consent.tiles import TileDirectory, publish_latest
from vault.home import VaultHome

from .conftest import SignedIn
from .pages import assert_sane, error_message, field_errors, flashes, location_path, text_of

PATH = "/console/ledger/"
MEMBER = "member:" + "a" * 32
OTHER = "member:" + "b" * 32
FIRST = 1_800_000_000.0 - 60 * 3600      # 2027-01-12T20:00:00Z


@pytest.fixture
def entries(consent: Consent) -> int:
    """120 entries every half hour from 2027-01-12T20:00Z (their own times: the clock, and the
    sessions with it, stand still at 2027-01-15T08:00Z): grants by MEMBER to brand_velo (every
    third), reads of OTHER by brand_grocer; then a checkpoint of the 120, its own record 121st.
    """
    ledger = consent.ledger
    for n in range(120):
        if n % 3 == 0:
            event = Event.of(GrantGiven(
                grant=f"grant_{n}", brand="brand_velo", purpose="dpv:Marketing",
                fields=["city"], mode="shared", ends_at=1_900_000_000, version=1), MEMBER,
                at=FIRST + n * 1800)
        else:
            event = Event.of(ProfileRead(
                member=OTHER, client="client_1", purpose="dpv:ServiceProvision",
                fields=["city"], grants=["grant_x"]), "brand:brand_grocer", at=FIRST + n * 1800)
        ledger.record_events([event])
    ledger.checkpoint()
    return ledger.size


def seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'<td data-label="Seq">(\d+)</td>', page)]


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.parametrize("method, path", [("GET", PATH), ("POST", PATH + "verify"),
                                          ("POST", PATH + "export")])
def test_only_officers_get_in(app: Flask, alice: SignedIn, officer: SignedIn, method: str,
                              path: str, entries: int) -> None:
    anonymous = app.test_client().open(path, method=method)
    assert anonymous.status_code in (302, 400)      # a POST without a session: no CSRF token
    if method == "GET":
        assert location_path(anonymous) == "/login"
    token = alice.auth.csrf("/member/")
    member = alice.client.open(path, method=method, data={"csrf_token": token, "format": "csv"})
    assert member.status_code == 403
    assert "for compliance officers only" in error_message(member.get_data(as_text=True))
    token = officer.auth.csrf("/member/")
    allowed = officer.client.open(path, method=method,
                                  data={"csrf_token": token, "format": "csv"})
    assert allowed.status_code == 200


def test_the_console_links_to_the_log(officer: SignedIn) -> None:
    assert f'href="{PATH}"' in officer.client.get("/console/").get_data(as_text=True)


def test_the_newest_entries_first_and_pages_by_cursor(officer: SignedIn, entries: int) -> None:
    first = officer.client.get(PATH).get_data(as_text=True)
    assert seqs(first) == list(range(entries - 1, entries - 51, -1))
    assert link(first, "prev") is None
    older = link(first, "next")
    assert older is not None
    second = officer.client.get(older).get_data(as_text=True)
    assert seqs(second) == list(range(entries - 51, entries - 101, -1))
    third = officer.client.get(link(second, "next")).get_data(as_text=True)
    assert seqs(third) == list(range(entries - 101, -1, -1))
    assert link(third, "next") is None
    back = officer.client.get(link(third, "prev")).get_data(as_text=True)
    assert seqs(back) == seqs(second)


def test_filters_narrow_the_log(officer: SignedIn, entries: int) -> None:
    def shown(**query: str) -> list[int]:
        response = officer.client.get(PATH, query_string=query)
        assert response.status_code == 200, text_of(response.get_data(as_text=True))[:500]
        return seqs(response.get_data(as_text=True))

    grants = [n for n in range(119, -1, -1) if n % 3 == 0]
    assert shown(brand="brand_velo") == grants
    assert shown(tag="consent:") == grants
    assert shown(tag="consent:grant:given", principal=MEMBER) == grants
    assert shown(purpose="dpv:ServiceProvision", brand="brand_grocer")[:3] == [119, 118, 116]
    reads = shown(principal=OTHER, tag="access:profile:read")      # 80: a page of 50
    assert len(reads) == 50 and reads[:2] == [119, 118] and reads[-1] == 46
    assert shown(brand="brand_velo", purpose="dpv:ServiceProvision") == []
    # From 2027-01-12T20:00Z, every half hour: the 13th holds entries 8 to 55.
    assert shown(since="2027-01-13", until="2027-01-13") == list(range(55, 7, -1))
    assert shown(since="2027-01-14", brand="brand_velo")[-1] == 57
    assert shown(until="2027-01-12") == list(range(7, -1, -1))
    page = officer.client.get(PATH, query_string={"brand": "brand_velo"}).get_data(
        as_text=True)
    assert 'value="brand_velo"' in page                  # the form keeps the filter
    older = link(page, "next")
    assert older is None                                 # 40 grants: one page


@pytest.mark.parametrize("query, field, message", [
    ("tag=consent", "tag", "no ledger tag is 'consent' or starts with it"),
    ("since=2027-02-01&until=2027-01-01", "until", "To must be on or after From."),
    ("since=yesterday", "since", "From must be a date as YYYY-MM-DD."),
    ("brand=" + "b" * 101, "brand", "Brand must be at most 100 characters."),
    ("brand=a&brand=b", "brand", "Brand is given more than once."),
])
def test_a_bad_filter_is_shown_next_to_its_field(officer: SignedIn, query: str, field: str,
                                                 message: str, entries: int) -> None:
    response = officer.client.get(PATH + "?" + query)
    assert response.status_code == 400
    assert_sane(response)
    page = response.get_data(as_text=True)
    assert any(message in m for m in field_errors(page, field)), field_errors(page, field)
    assert seqs(page) == []


def test_an_unknown_parameter_is_named(officer: SignedIn) -> None:
    response = officer.client.get(PATH + "?page=2")
    assert response.status_code == 400
    assert "page is not part of this filter" in response.get_data(as_text=True)


@pytest.mark.parametrize("change", ["cut", "flip", "other_filter"])
def test_a_tampered_cursor_is_a_clean_400(officer: SignedIn, entries: int, change: str) -> None:
    older = link(officer.client.get(PATH).get_data(as_text=True), "next")
    assert older is not None
    cursor = re.search(r"cursor=([^&]+)", older).group(1)
    if change == "cut":
        path = older.replace(cursor, cursor[:-3])
    elif change == "flip":
        path = older.replace(cursor, ("B" if cursor[0] != "B" else "C") + cursor[1:])
    else:
        path = older + "&brand=brand_velo"
    response = officer.client.get(path)
    assert response.status_code == 400
    assert_sane(response)
    assert "start again from the first page" in error_message(response.get_data(as_text=True))


def test_the_integrity_section_shows_the_root_and_the_latest_checkpoint(
        officer: SignedIn, consent: Consent, entries: int) -> None:
    page = officer.client.get(PATH).get_data(as_text=True)
    ledger = consent.ledger
    assert f'<dd id="tree-size">{ledger.size}</dd>' in page
    assert base64.b64encode(ledger.root()).decode() in page
    checkpoint = ledger.latest_checkpoint()
    assert checkpoint is not None and checkpoint.tree_size == 120
    assert '<span id="checkpoint-size">120</span>' in page
    note = re.search(r'<pre id="checkpoint-note">(.*?)</pre>', page, re.S).group(1)
    assert html.unescape(note) == checkpoint.note
    Ed25519NoteVerifier.from_verifier_key(ledger.verifier_key).open_checkpoint(checkpoint.note)
    assert "Verify integrity" in page and "about 1 s for 121 entries" in page


def test_verify_reports_a_sound_ledger_then_the_first_tampered_entry(
        officer: SignedIn, consent: Consent, entries: int) -> None:
    response = officer.auth.post(PATH + "verify", form_page=PATH)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert flashes(page)[0].startswith("Integrity verified. OK: 121 entries, 1 checkpoints")
    # The result first, on the screen the click leads to: above the filter and the entries.
    assert page.index('id="verify-result"') < page.index('class="filters"')
    # Someone with the store's key changes one entry's body in place.
    database = consent.ledger.database
    body = bytes(database.one("SELECT body FROM entries WHERE seq = 43")[0])
    assert b"dpv:ServiceProvision" in body
    with database.transaction():
        database.execute("UPDATE entries SET body = ? WHERE seq = 43",
                         (body.replace(b"dpv:ServiceProvision", b"dpv:Marketing"),))
    page = officer.auth.post(PATH + "verify", form_page=PATH).get_data(as_text=True)
    assert page.index('id="verify-result"') < page.index('class="filters"')
    assert flashes(page)[0].startswith(
        "Integrity check failed: ledger damaged at seq 43: its body does not match its stored"
        " leaf hash")


def test_verify_holds_the_ledger_to_the_published_checkpoint(
        officer: SignedIn, consent: Consent, entries: int, vault_home: VaultHome) -> None:
    """Entries removed with the checkpoint that signed them leave a ledger that verifies by
    itself; the checkpoint the home published names the removal."""
    ledger = consent.ledger
    publish_latest(ledger.tree, ledger.latest_checkpoint(), TileDirectory.of_home(
        vault_home.root))                                   # 120 entries, published
    database = ledger.database
    with database.transaction():
        database.execute("DELETE FROM entries WHERE seq >= 100")
        database.execute("DELETE FROM tree_nodes WHERE position >= ?", (node_count(100),))
        database.execute("DELETE FROM checkpoints")
        searched = ["search_index", "search_purposes"] + (
            ["search_recent"] if database.engine == "sqlcipher" else [])
        for table in searched:
            database.execute(f"DELETE FROM {table} WHERE seq >= 100")
    page = officer.auth.post(PATH + "verify", form_page=PATH).get_data(as_text=True)
    assert flashes(page)[0].startswith(
        "Integrity check failed: ledger damaged: the ledger holds 100 entries, fewer than the"
        " 120 of the checkpoint this home published: entries were removed.")


def test_verify_needs_the_csrf_token(officer: SignedIn) -> None:
    assert officer.client.post(PATH + "verify").status_code == 400


def test_exports_download_every_match_with_proofs(officer: SignedIn, consent: Consent,
                                                  entries: int) -> None:
    response = officer.auth.post(PATH + "export", {"brand": "brand_velo", "format": "json"},
                                 form_page=PATH)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ledger-')
    document = json.loads(response.get_data(as_text=True))
    # The checkpoint of 120 covers every entry but its own record: none signed for this.
    assert document["checkpoint"]["tree_size"] == 120
    assert consent.ledger.size == 121
    body = Ed25519NoteVerifier.from_verifier_key(document["verifier_key"]).open_checkpoint(
        document["checkpoint"]["note"])
    assert [e["seq"] for e in document["entries"]] == [n for n in range(119, -1, -1)
                                                        if n % 3 == 0]
    for entry in document["entries"]:
        proof = [base64.b64decode(h) for h in entry["inclusion_proof"]]
        assert verify_inclusion(leaf_hash(entry["entry"].encode()), entry["seq"],
                                body.tree_size, proof, body.root_hash)
    as_csv = officer.auth.post(PATH + "export", {"tag": "access:", "format": "csv"},
                               form_page=PATH)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert rows[0]["record"] == "checkpoint" and len(rows) == 2 + 80
    assert rows[-1]["record"] == "left_out" and rows[-1]["seq"] == "0"


def test_a_bad_export_form_is_shown_on_the_page(officer: SignedIn, entries: int) -> None:
    response = officer.auth.post(PATH + "export", {"format": "xml", "tag": "x:"},
                                 form_page=PATH)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page, "format") == ["Format must be CSV or JSON."]


def test_nothing_personal_is_shown_or_exported(officer: SignedIn, alice: SignedIn,
                                               consent: Consent, entries: int) -> None:
    consent.ledger.record_event(actor=consent.principal(alice.id), details=GrantGiven(
        grant="grant_a1", brand="brand_velo", purpose="dpv:Marketing", fields=["city"],
        mode="shared", ends_at=1_900_000_000, version=1))
    page = officer.client.get(PATH).get_data(as_text=True)
    export = officer.auth.post(PATH + "export", {"format": "json"}, form_page=PATH)
    for text in (page, export.get_data(as_text=True)):
        assert alice.email not in text and "alice" not in text.lower()
        assert alice.id not in text
    assert consent.principal(alice.id) in page


def test_past_the_limit_the_page_sends_the_officer_to_the_command_line(
        officer: SignedIn, entries: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web.console_ledger.VERIFY_IN_PAGE_LIMIT", 100)
    monkeypatch.setattr("web.console_ledger.VERIFY_RATE", 10)
    page = officer.client.get(PATH).get_data(as_text=True)
    assert "Verify integrity" not in page
    assert "a full check takes about 12 s, too long for a page" in text_of(page)
    assert "vrmvault ledger verify" in page
