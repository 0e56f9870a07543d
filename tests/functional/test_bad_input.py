"""Hostile and broken input: bad encodings, huge bodies, wrong shapes, unknown URLs.

Whatever arrives, the answer is a 4xx with a message a person can read, nothing is stored, and
no response is a 500 or shows a stack trace.
"""

from __future__ import annotations

import io
import json
from urllib.parse import quote_plus

import pytest

from tests.conftest import GOOD_PASSWORD, csrf_from

from .pages import (
    assert_sane,
    count,
    error_message,
    error_summary,
    field_errors,
    fields_with_errors,
    location_path,
    snapshot,
)

FORM = "application/x-www-form-urlencoded"
LIMIT = 64 * 1024


@pytest.fixture
def token(client) -> str:
    return csrf_from(client.get("/signup").get_data(as_text=True))


def urlencoded(**fields: str) -> bytes:
    return "&".join(f"{k}={quote_plus(v)}" for k, v in fields.items()).encode("ascii")


# -- encodings --------------------------------------------------------------------------------

BAD_BYTES = {
    "percent-encoded FF FE": b"%FF%FE",
    "lone continuation": b"%80",
    "truncated sequence": b"%C3%28",
    "overlong slash": b"%C0%AF",
    "surrogate half": b"%ED%A0%80",
    "raw FF byte": b"\xff",
}


@pytest.mark.parametrize("bad", BAD_BYTES.values(), ids=BAD_BYTES.keys())
def test_invalid_utf8_in_signup_is_refused_and_nothing_stored(client, vault, token, bad):
    # Apart from the bad bytes this sign-up would succeed.
    body = b"email=alice" + bad + b"@example.org&password=" + \
        quote_plus(GOOD_PASSWORD).encode() + b"&csrf_token=" + token.encode()
    response = client.post("/signup", data=body, content_type=FORM)

    assert_sane(response)
    assert response.status_code == 400
    assert "not valid UTF-8" in error_message(response.get_data(as_text=True))
    assert count(vault, "members") == 0
    assert client.get("/member/").status_code == 302


def test_the_same_sign_up_without_the_bad_bytes_succeeds(client, vault, token, inbox):
    body = b"email=alice@example.org&password=" + quote_plus(GOOD_PASSWORD).encode() + \
        b"&csrf_token=" + token.encode()
    assert client.post("/signup", data=body, content_type=FORM).status_code == 200
    assert inbox.link("alice@example.org").startswith("/signup/verify?token=")


def test_invalid_utf8_in_a_field_name_is_refused(client, vault, token):
    body = b"em%FFail=alice@example.org&password=x&csrf_token=" + token.encode()
    response = client.post("/signup", data=body, content_type=FORM)
    assert response.status_code == 400
    assert count(vault, "members") == 0


@pytest.mark.parametrize(("path", "body"), [
    ("/member/profile", b"given_name=Bob%FF&city=Leiden"),
    ("/member/feedback", b"touchpoint=purchase&rating=4&occurred_on=2027-01-10&comment=%C3%28"),
    ("/login", b"email=alice%FF@example.org&password=x"),
    ("/member/delete", b"confirm=on&password=%FF"),
])
def test_invalid_utf8_on_member_forms_is_refused(alice, brand, vault, path, body):
    alice.auth.post("/member/profile", {"given_name": "Alice"})
    before = snapshot(vault, sessions=False)
    token = csrf_from(alice.client.get("/member/").get_data(as_text=True))

    response = alice.client.post(path, data=body + b"&csrf_token=" + token.encode(),
                                 content_type=FORM)
    assert_sane(response)
    assert response.status_code == 400
    assert "not valid UTF-8" in error_message(response.get_data(as_text=True))
    assert snapshot(vault, sessions=False) == before
    assert alice.is_signed_in()


def test_valid_non_ascii_text_is_kept_exactly(alice, vault):
    response = alice.auth.post("/member/profile", {"given_name": "Zoë Łukasz 山田 🚲",
                                                   "city": "Köln"})
    assert response.status_code == 302
    assert vault.profile.get(alice.id) == {"given_name": "Zoë Łukasz 山田 🚲", "city": "Köln"}


def test_decomposed_unicode_address_signs_in_as_the_composed_one(app, auth, vault, inbox):
    # "zoë" as e + diaeresis; the mail goes to the composed form (SMTPUTF8, RFC 6531)
    assert auth.register(inbox, "zoe\u0308@example.org").status_code == 302
    auth.logout()
    assert auth.login("zo\u00eb@example.org").status_code == 302


# -- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/signup", "/login"])
def test_a_body_over_64_kib_is_413_for_anonymous_forms(client, vault, token, path):
    body = urlencoded(email="a" * LIMIT + "@example.org", password=GOOD_PASSWORD,
                      csrf_token=token)
    response = client.post(path, data=body, content_type=FORM)
    assert_sane(response)
    assert response.status_code == 413
    assert error_message(response.get_data(as_text=True))
    assert count(vault, "members") == 0


@pytest.mark.parametrize("path", ["/member/profile", "/member/feedback"])
def test_a_body_over_64_kib_is_413_for_member_forms(alice, vault, path):
    before = snapshot(vault, sessions=False)
    token = csrf_from(alice.client.get("/member/").get_data(as_text=True))
    body = urlencoded(given_name="b" * (LIMIT + 1), comment="c", csrf_token=token)
    response = alice.client.post(path, data=body, content_type=FORM)
    assert_sane(response)
    assert response.status_code == 413
    assert snapshot(vault, sessions=False) == before


def test_a_multipart_body_is_refused_before_it_is_read(alice, vault):
    # Page forms are urlencoded only: multipart would skip the strict UTF-8 check.
    before = snapshot(vault, sessions=False)
    token = csrf_from(alice.client.get("/member/").get_data(as_text=True))
    response = alice.client.post("/member/profile", data={
        "csrf_token": token, "given_name": "Bob",
        "upload": (io.BytesIO(b"x" * (LIMIT + 1)), "big.bin")})
    assert_sane(response)
    assert response.status_code == 415
    assert snapshot(vault, sessions=False) == before


def test_a_body_just_under_the_limit_is_read_and_validated(client, vault, token):
    email = "a" * (LIMIT - 1000) + "@example.org"
    body = urlencoded(email=email, password=GOOD_PASSWORD, csrf_token=token)
    assert len(body) < LIMIT
    response = client.post("/signup", data=body, content_type=FORM)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "email")
    assert count(vault, "members") == 0


def test_thousands_of_fields_are_refused_without_a_server_error(client, vault, token):
    body = b"&".join(f"f{i}=1".encode() for i in range(5000)) + b"&csrf_token=" + \
        token.encode()
    assert len(body) < LIMIT
    response = client.post("/signup", data=body, content_type=FORM)
    assert_sane(response)
    assert 400 <= response.status_code < 500
    assert count(vault, "members") == 0


@pytest.mark.parametrize(("email", "password"), [
    ("a" * 250 + "@example.org", GOOD_PASSWORD),
    ("alice@example.org", "p" * 2000),
])
def test_over_long_fields_are_refused_with_a_message(auth, vault, email, password):
    response = auth.signup(email, password)
    assert_sane(response)
    assert response.status_code == 422
    assert fields_with_errors(response.get_data(as_text=True))
    assert count(vault, "members") == 0


def test_an_over_long_password_at_sign_in_is_just_wrong(auth, member_id):
    response = auth.login("alice@example.org", "p" * 5000)
    assert response.status_code == 401


# -- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["email", "password"])
def test_a_repeated_signup_field_is_refused(client, vault, token, field):
    data = {"email": "alice@example.org", "password": GOOD_PASSWORD, "csrf_token": token}
    data[field] = [data[field], "second" + data[field]]
    response = client.post("/signup", data=data)

    assert_sane(response)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), field)
    assert count(vault, "members") == 0


def test_a_repeated_profile_field_is_refused(alice, vault):
    response = alice.auth.post("/member/profile", {"given_name": ["Alice", "Mallory"]})
    assert_sane(response)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "given_name")
    assert vault.profile.get(alice.id) == {}


def test_a_repeated_feedback_field_is_refused(alice, brand, vault):
    response = alice.auth.post("/member/feedback", {
        "brand_id": brand.id, "touchpoint": "purchase", "rating": ["5", "1"],
        "occurred_on": "2027-01-10"})
    assert_sane(response)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "rating")
    assert count(vault, "feedback") == 0


@pytest.mark.parametrize("extra", ["is_admin", "member_id", "role", "email_index"])
def test_unknown_signup_fields_are_refused(auth, vault, extra):
    response = auth.post("/signup", {"email": "alice@example.org", "password": GOOD_PASSWORD,
                                     extra: "1"})
    assert_sane(response)
    assert response.status_code == 422
    summary = error_summary(response.get_data(as_text=True))
    assert "The form was sent with something it does not have." in summary
    assert count(vault, "members") == 0


def test_missing_signup_fields_are_named(auth, vault):
    response = auth.post("/signup", {})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "email") and field_errors(page, "password")
    assert count(vault, "members") == 0


@pytest.mark.parametrize("email", ["alice\x00@example.org", "alice@exa\nmple.org",
                                   "no-at-sign.example.org", "alice@localhost", " "])
def test_malformed_addresses_are_refused_next_to_the_field(auth, vault, email):
    response = auth.signup(email)
    assert_sane(response)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "email")
    assert count(vault, "members") == 0


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", json.dumps({"email": "alice@example.org", "password": GOOD_PASSWORD})),
    ("text/plain", "email=alice@example.org"),
    ("application/xml", "<signup/>"),
    (FORM, ""),
    ("multipart/form-data; boundary=nope", "garbage"),
    ("multipart/form-data", "no boundary at all"),
])
def test_bodies_of_the_wrong_kind_get_a_4xx(client, vault, token, content_type, body):
    response = client.post("/signup", data=body, content_type=content_type)
    assert_sane(response)
    assert 400 <= response.status_code < 500
    assert count(vault, "members") == 0


def test_a_file_where_text_is_expected_is_refused(client, vault, token):
    response = client.post("/signup", data={
        "csrf_token": token, "password": GOOD_PASSWORD,
        "email": (io.BytesIO(b"alice@example.org"), "email.txt")})
    assert_sane(response)
    assert response.status_code == 415
    assert count(vault, "members") == 0


def test_sign_in_ignores_a_next_parameter(auth, member_id):
    response = auth.post("/login?next=https://evil.example/", {
        "email": "alice@example.org", "password": GOOD_PASSWORD}, form_page="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/member/"


# 4,301 digits: more than int() converts from a string (a ValueError, which was a 500).
@pytest.mark.parametrize("entry_id", ["99999999999999999999", str(2**63), str(2**64 + 1),
                                      "1" * 4301])
def test_an_entry_id_too_big_for_the_store_is_not_found(alice, entry_id):
    response = alice.client.get(f"/member/feedback/{entry_id}/edit")
    assert_sane(response)
    assert response.status_code == 404
    response = alice.auth.post(f"/member/feedback/{entry_id}/delete", form_page="/member/")
    assert_sane(response)
    assert response.status_code == 404
    response = alice.client.get(f"/member/care/ask/{entry_id}")
    assert_sane(response)
    assert response.status_code == 404


# -- unknown URLs and methods -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("accept", ["application/json", "application/problem+json", "*/*",
                                    "text/html"])
def test_unknown_api_urls_answer_with_problem_json(client, method, accept):
    response = client.open("/api/v1/no-such-thing", method=method, headers={"Accept": accept})
    assert_sane(response)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    problem = response.get_json(force=True)
    assert problem["status"] == 404
    assert problem["title"] == "Not Found"
    assert problem["type"] == "about:blank" or problem["type"].startswith("https://")
    assert set(problem) <= {"type", "title", "status", "detail", "instance"}


def test_json_preferring_request_for_an_unknown_page_gets_problem_json(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json(force=True)["status"] == 404


def test_browser_request_for_an_unknown_page_gets_an_html_page(client):
    response = client.get("/no/such/page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert error_message(response.get_data(as_text=True))


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    response = client.delete("/login", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("headers", [
    {"Accept": "this is not a media type"},
    {"Accept-Language": "\x7f\x7f"},
    {"User-Agent": "x" * 10000},
    {"User-Agent": "\u00ff\u00fe"},
    {"Content-Type": "multipart/form-data; boundary="},
])
def test_odd_headers_do_not_break_the_pages(client, headers):
    for path in ("/", "/login", "/member/", "/api/x"):
        assert_sane(client.get(path, headers=headers))


def test_odd_user_agent_is_stored_only_as_a_coarse_label(app, vault, member_id):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Evil <script> " + "A" * 3000
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"email": "alice@example.org",
                                           "password": GOOD_PASSWORD,
                                           "csrf_token": csrf_from(page)})
    assert location_path(response) == "/member/"
    devices = [r["device"] for r in vault.data.all(
        "SELECT device FROM web_sessions WHERE member_id = ?", (member_id,))]
    assert devices == ["A browser"]


def test_a_multipart_form_with_invalid_utf8_is_refused(alice, vault):
    before = snapshot(vault, sessions=False)
    token = csrf_from(alice.client.get("/member/").get_data(as_text=True))
    body = (f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b\r\nContent-Disposition: form-data; name="city"\r\n\r\n').encode() + \
        b"Utr\xffcht\r\n--b--\r\n"
    response = alice.client.post("/member/profile", data=body,
                                 content_type="multipart/form-data; boundary=b")
    assert_sane(response)
    assert response.status_code == 415
    assert snapshot(vault, sessions=False) == before
