"""Portability (the zip download) and erasure (deleting the account) through the pages."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import GOOD_PASSWORD, AuthActions

from .pages import (
    assert_sane,
    count,
    error_summary,
    field_errors,
    location_path,
    session_row_exists,
    text_of,
)

# -- export -----------------------------------------------------------------------------------


@pytest.fixture
def filled_in(alice, bob, brand):
    alice.auth.post("/member/profile", {"given_name": "Alice", "country": "NL",
                                        "interests": ["cycling", "books"],
                                        "household_size": "2"})
    alice.add_feedback(brand, rating="5", comment="=1+1 looks like a formula")
    alice.add_feedback(brand, rating="2", nps="", comment="", touchpoint="support")
    bob.auth.post("/member/profile", {"given_name": "Bob"})
    bob.add_feedback(brand, comment="Bob's entry")
    return alice


def download(member) -> zipfile.ZipFile:
    response = member.auth.post("/member/export", form_page="/member/")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="vrmvault-export-20270115\.zip"', disposition)
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def test_export_is_a_zip_attachment_with_document_schema_csv_and_readme(filled_in):
    archive = download(filled_in)
    assert archive.testzip() is None
    assert set(archive.namelist()) == {
        "vrmvault-export.json", "vrmvault-export.schema.json", "profile.csv", "feedback.csv",
        "sessions.csv", "disclosures.csv", "agreements.csv", "grants.csv", "receipts.csv",
        "authorizations.csv", "care_cases.csv", "data_subject_requests.csv", "intents.csv",
        "README.txt"}


def test_export_document_holds_the_members_profile_and_feedback(filled_in, brand):
    document = json.loads(download(filled_in).read("vrmvault-export.json"))

    assert document["member"]["email"] == "alice@example.org"
    assert document["member"]["id"] == filled_in.id
    profile = {p["attribute"]: p["value"] for p in document["profile"]}
    assert profile == {"given_name": "Alice", "country": "NL",
                       "interests": ["cycling", "books"], "household_size": 2}
    feedback = sorted((f["rating"], f["nps"], f["comment"], f["brand"], f["touchpoint"])
                      for f in document["feedback"])
    assert feedback == [(2, None, "", "Velo Bikes", "support"),
                        (5, 8, "=1+1 looks like a formula", "Velo Bikes", "purchase")]
    assert len(document["sessions"]) == 1


def test_export_holds_nothing_of_other_members(filled_in):
    archive = download(filled_in)
    for name in archive.namelist():
        text = archive.read(name).decode()
        assert "Bob" not in text and "bob@example.org" not in text, name


def test_export_document_validates_against_the_schema_in_the_zip(filled_in):
    archive = download(filled_in)
    schema = json.loads(archive.read("vrmvault-export.schema.json"))
    document = json.loads(archive.read("vrmvault-export.json"))

    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []

    # The schema is strict enough to notice a stray field.
    document["member"]["password_hash"] = "x"
    assert not validator.is_valid(document)


def test_export_of_an_empty_vault_validates_too(alice):
    archive = download(alice)
    schema = json.loads(archive.read("vrmvault-export.schema.json"))
    document = json.loads(archive.read("vrmvault-export.json"))
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER
                         ).validate(document)
    assert document["profile"] == [] and document["feedback"] == []


def test_export_csv_files_match_the_document_and_defuse_formulas(filled_in):
    archive = download(filled_in)
    rows = list(csv.DictReader(io.StringIO(archive.read("feedback.csv").decode())))
    assert len(rows) == 2
    assert "'=1+1 looks like a formula" in {r["comment"] for r in rows}
    profile = {r["attribute"]: r["value"]
               for r in csv.DictReader(io.StringIO(archive.read("profile.csv").decode()))}
    assert profile["interests"] == "cycling; books"


# -- deleting the account ---------------------------------------------------------------------


@pytest.fixture
def alice_everywhere(alice, app, brand):
    """Alice with data in every table and a second signed-in browser."""
    alice.auth.post("/member/profile", {"given_name": "Alice", "interests": ["cycling"]})
    alice.add_feedback(brand)
    phone = AuthActions(app.test_client())
    assert phone.login().status_code == 302
    return alice, phone


def test_delete_page_explains_what_happens(alice):
    page = alice.client.get("/member/delete").get_data(as_text=True)
    assert "This cannot be undone." in page
    assert 'name="confirm"' in page and 'name="password"' in page


def test_delete_page_says_what_backups_and_key_copies_do_as_the_readme_does(alice):
    """The key is destroyed in the live key store only: the vault's backups never hold it and
    a restore erases again (vault/backup.py), but a copy of keys.db made earlier still holds it.
    The page promises no more than that, and the README says the same."""
    page = text_of(alice.client.get("/member/delete").get_data(as_text=True))
    assert "not even from backups" not in page
    assert "the vault's backups never hold your key" in page
    assert "restoring a backup made before today deletes your records again" in page
    assert "a copy of the vault's key file made before today" in page
    assert "still holds your key" in page
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    assert "`restore` re-applies the erasure list" in readme
    assert "a copy of `keys.db` made before an erasure still holds that member's key" in readme


def assert_nothing_deleted(vault, member_id: str, *clients) -> None:
    assert count(vault, "members", member_id) == 1
    assert count(vault, "profile_values", member_id) == 2
    assert count(vault, "feedback", member_id) == 1
    assert vault.keys_database.one(
        "SELECT count(*) FROM member_keys WHERE member_id = ?", (member_id,))[0] == 1
    for client in clients:
        assert client.get("/member/").status_code == 200


def test_delete_without_the_confirm_box_deletes_nothing(alice_everywhere, vault):
    alice, phone = alice_everywhere
    response = alice.auth.post("/member/delete", {"password": GOOD_PASSWORD})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "confirm") == [
        "Tick “I understand that my account and all my data will be deleted for good” to"
        " delete your account."]
    assert 'aria-invalid="true"' in page
    assert_nothing_deleted(vault, alice.id, alice.client, phone.client)


@pytest.mark.parametrize("confirm", ["yes", "off", "", "on "])
def test_delete_with_anything_but_a_ticked_box_deletes_nothing(alice_everywhere, vault,
                                                               confirm):
    alice, phone = alice_everywhere
    response = alice.auth.post("/member/delete", {"password": GOOD_PASSWORD,
                                                  "confirm": confirm})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "confirm")
    assert_nothing_deleted(vault, alice.id, alice.client, phone.client)


def test_delete_with_a_wrong_password_deletes_nothing(alice_everywhere, vault):
    alice, phone = alice_everywhere
    response = alice.auth.post("/member/delete", {"password": "not my passphrase at all",
                                                  "confirm": "on"})
    assert response.status_code == 401
    assert field_errors(response.get_data(as_text=True), "password") == [
        "Your password, to confirm it is you: That is not your password."]
    assert_nothing_deleted(vault, alice.id, alice.client, phone.client)


def test_delete_without_a_password_deletes_nothing(alice_everywhere, vault):
    alice, phone = alice_everywhere
    response = alice.auth.post("/member/delete", {"confirm": "on"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "password")
    assert_nothing_deleted(vault, alice.id, alice.client, phone.client)


def test_guessing_the_password_on_the_delete_page_is_throttled(alice_everywhere, vault):
    alice, phone = alice_everywhere
    for _ in range(5):
        alice.auth.post("/member/delete", {"password": "a wrong guess, again", "confirm": "on"})
    response = alice.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"})
    assert_sane(response)
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert "Too many attempts" in response.get_data(as_text=True)
    assert_nothing_deleted(vault, alice.id, alice.client, phone.client)


def test_delete_with_box_and_password_erases_the_member(alice_everywhere, app, vault, bob):
    alice, phone = alice_everywhere
    bob_rows = count(vault, "profile_values", bob.id), count(vault, "web_sessions", bob.id)
    token = alice.cookie

    response = alice.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"})
    # Post/redirect/get: the confirmation is a page of its own, so a reload posts nothing.
    assert response.status_code == 303 and location_path(response) == "/account-deleted"
    done = alice.client.get("/account-deleted")
    assert done.status_code == 200
    assert "Your account is deleted" in done.get_data(as_text=True)
    assert not session_row_exists(vault, token)
    # Said once, to this browser; anyone else (or a second visit) goes to the start page.
    again = alice.client.get("/account-deleted")
    assert again.status_code == 302 and location_path(again) == "/"
    stranger = app.test_client().get("/account-deleted")
    assert stranger.status_code == 302 and location_path(stranger) == "/"

    # Every session of the member is gone, this one and the other browser's.
    for client in (alice.client, phone.client):
        response = client.get("/member/")
        assert response.status_code == 302 and location_path(response) == "/login"

    # The rows and the key are gone.
    for table in ("members", "profile_values", "feedback", "web_sessions"):
        assert count(vault, table, alice.id) == 0, table
    assert vault.keys_database.one(
        "SELECT count(*) FROM member_keys WHERE member_id = ?", (alice.id,))[0] == 0
    assert count(vault, "erasures") == 1

    # The address cannot sign in again; the answer is the ordinary wrong-credentials one.
    again = AuthActions(app.test_client())
    response = again.login("alice@example.org", GOOD_PASSWORD)
    assert response.status_code == 401
    assert "Wrong e-mail address or password." in error_summary(response.get_data(as_text=True))

    # Other members are untouched.
    assert (count(vault, "profile_values", bob.id), count(vault, "web_sessions", bob.id)) == \
        bob_rows
    assert bob.is_signed_in()


def test_the_address_of_a_deleted_account_can_sign_up_afresh(alice, app, vault, inbox):
    alice.auth.post("/member/delete", {"password": GOOD_PASSWORD, "confirm": "on"})
    fresh = AuthActions(app.test_client())
    assert fresh.register(inbox, "alice@example.org").status_code == 302
    assert fresh.client.get("/member/profile").status_code == 200
    assert count(vault, "members") == 1
    assert count(vault, "members", alice.id) == 0
