"""Server-side sessions: the sessions list, "sign out everywhere", lifetimes and the cookie."""

from __future__ import annotations

import re

import pytest
from werkzeug.http import parse_set_header

from tests.conftest import AuthActions
from vault.home import SESSION_ABSOLUTE, SESSION_IDLE

from .conftest import TEST_HOST_COOKIE
from .pages import count, location_path, text_of

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36")


def session_rows(page: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    return [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_sessions_page_lists_every_device_and_marks_this_one(sign_in):
    laptop = sign_in("alice@example.org", user_agent=FIREFOX_LINUX)
    # The same member on a second device.
    phone_client = laptop.client.application.test_client()
    phone_client.environ_base["HTTP_USER_AGENT"] = CHROME_WINDOWS
    assert AuthActions(phone_client).login().status_code == 302

    rows = session_rows(laptop.client.get("/member/security").get_data(as_text=True))
    assert len(rows) == 2
    assert any(r.startswith("Firefox on Linux (this device)") for r in rows), rows
    assert any(r.startswith("Chrome on Windows") and "(this device)" not in r for r in rows)

    rows = session_rows(phone_client.get("/member/security").get_data(as_text=True))
    assert any(r.startswith("Chrome on Windows (this device)") for r in rows), rows
    assert sum("(this device)" in r for r in rows) == 1


def test_sessions_page_shows_no_other_members_sessions(alice, bob):
    rows = session_rows(alice.client.get("/member/security").get_data(as_text=True))
    assert len(rows) == 1


def test_sign_out_everywhere_ends_every_session_of_the_member(sign_in, bob, vault):
    laptop = sign_in("alice@example.org", user_agent=FIREFOX_LINUX)
    phone = AuthActions(laptop.client.application.test_client())
    assert phone.login().status_code == 302
    assert count(vault, "web_sessions", laptop.id) == 2

    response = laptop.auth.post("/member/sessions/end-all", form_page="/member/security")
    assert response.status_code == 302 and location_path(response) == "/login"
    assert "You are signed out everywhere" in laptop.client.get("/login").get_data(as_text=True)

    for client in (laptop.client, phone.client):
        response = client.get("/member/")
        assert response.status_code == 302 and location_path(response) == "/login"
    assert count(vault, "web_sessions", laptop.id) == 0
    assert bob.is_signed_in(), "another member's sessions are not touched"


def test_session_ends_after_the_idle_time(alice, clock):
    clock.advance(SESSION_IDLE - 60)
    assert alice.is_signed_in()
    clock.advance(SESSION_IDLE - 60)
    assert alice.is_signed_in(), "activity keeps the session alive"
    clock.advance(SESSION_IDLE + 1)
    response = alice.client.get("/member/")
    assert response.status_code == 302 and location_path(response) == "/login"


def test_session_ends_after_the_absolute_time_despite_activity(alice, clock):
    step = SESSION_IDLE // 2
    elapsed = 0
    while elapsed + step < SESSION_ABSOLUTE:
        clock.advance(step)
        elapsed += step
        assert alice.is_signed_in(), f"signed out after {elapsed} s of activity"
    clock.advance(SESSION_ABSOLUTE - elapsed)
    assert not alice.is_signed_in()


def test_a_made_up_or_oversized_cookie_is_an_anonymous_visitor(client):
    for value in ("made-up", "x" * 5000, "\u00e4-not-ascii", '"quoted"', ""):
        response = client.get("/member/", headers={"Cookie": f"{TEST_HOST_COOKIE}={value}"})
        assert response.status_code == 302 and location_path(response) == "/login"


# -- the cookie -------------------------------------------------------------------------------


def set_cookies(response) -> dict[str, dict[str, str | bool]]:
    """The Set-Cookie headers as {name: {attribute: value or True}} (attribute names lowered)."""
    cookies: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        parsed: dict[str, str | bool] = {"value": value}
        for attribute in attributes:
            key, sep, val = attribute.partition("=")
            parsed[key.lower()] = val if sep else True
        cookies[name] = parsed
    return cookies


@pytest.mark.parametrize(("base_url", "name", "secure"), [
    ("http://localhost", "vrmvault_session", False),
    ("http://127.0.0.1:5000", "vrmvault_session", False),
    ("http://[::1]:8080", "vrmvault_session", False),
    ("https://vault.example.org", "__Host-vrmvault_session", True),
    ("https://localhost", "__Host-vrmvault_session", True),
    ("http://vault.example.org", "__Host-vrmvault_session", True),
    ("http://localhost.example.org", "__Host-vrmvault_session", True),
])
def test_session_cookie_attributes(app, client, base_url, name, secure):
    app.config["VRMVAULT_PUBLIC_URL"] = base_url
    response = client.get("/login", base_url=base_url)
    cookies = set_cookies(response)
    assert list(cookies) == [name]
    cookie = cookies[name]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert ("secure" in cookie) is secure
    # __Host- cookies must not name a domain (RFC 6265bis sec. 4.1.3.2); none do here.
    assert "domain" not in cookie
    assert "expires" not in cookie and "max-age" not in cookie, "a browser-session cookie"
    assert len(str(cookie["value"])) >= 43, "at least 256 random bits"


def test_whole_sign_in_works_over_https_with_the_host_prefixed_cookie(app, client, vault,
                                                                     member_id):
    https = "https://vault.example.org"
    app.config["VRMVAULT_PUBLIC_URL"] = https
    page = client.get("/login", base_url=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", base_url=https, data={
        "email": "alice@example.org", "password": "correct horse battery staple",
        "csrf_token": token})
    assert response.status_code == 302
    cookie = set_cookies(response)["__Host-vrmvault_session"]
    assert cookie["secure"] is True
    assert client.get("/member/", base_url=https).status_code == 200


def test_no_session_is_stored_for_a_visitor_who_needs_none(client, vault):
    response = client.get("/")
    assert "Set-Cookie" not in response.headers
    assert count(vault, "web_sessions") == 0


def test_static_files_get_no_session(client):
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        vary = parse_set_header(response.headers.get("Vary", ""))
        assert "Cookie" not in vary
