"""Sign-up, sign-in, sign-out, throttling and the TOTP second step, through the pages."""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.conftest import GOOD_PASSWORD, AuthActions
from vault.throttle import FREE_FAILURES

from .conftest import TEST_HOST_COOKIE
from .pages import (
    assert_sane,
    count,
    error_summary,
    field_errors,
    location_path,
    session_row_exists,
)

# -- sign-up ----------------------------------------------------------------------------------


def test_signup_mails_a_link_that_makes_the_account_and_signs_in(auth, client, vault, inbox):
    response = auth.signup("alice@example.org")
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    assert count(vault, "members") == 0, "no account before the link is followed"
    assert client.get("/member/").status_code == 302

    response = auth.verify(inbox.link("alice@example.org"))
    assert response.status_code == 302
    assert location_path(response) == "/member/"
    assert count(vault, "members") == 1

    dashboard = client.get("/member/")
    assert dashboard.status_code == 200
    assert "Signed in as <strong>alice@example.org</strong>" in dashboard.get_data(as_text=True)


def test_signup_address_is_stored_in_canonical_form(auth, client, vault, inbox):
    assert auth.register(inbox, "  Alice@Example.ORG ").status_code == 302
    assert "<strong>alice@example.org</strong>" in client.get("/member/").get_data(as_text=True)


@pytest.mark.parametrize(("password", "reason"), [
    ("short pass", "Use at least 15 characters (you have 10)"),
    ("fourteen chars", "Use at least 15 characters (you have 14)"),
    ("qwertyuiop12345", "This password is on a list of commonly used passwords."),
    ("1qaz2wsx3edc4rfv", "This password is on a list of commonly used passwords."),
    ("alice is my name", "Do not use your e-mail address or the name of this site"),
    ("my vrmvault password", "Do not use your e-mail address or the name of this site"),
    ("x" * 257, "Use at most 256 characters."),
])
def test_signup_refuses_a_weak_password_with_the_reason_next_to_the_field(
        auth, client, vault, password, reason):
    response = auth.signup("alice@example.org", password)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    messages = field_errors(page, "password")
    assert len(messages) == 1 and messages[0].startswith("Password: " + reason), messages
    assert 'aria-describedby="password-help password-error"' in page
    assert 'value="alice@example.org"' in page, "the address typed is kept in the form"
    assert count(vault, "members") == 0
    assert vault.keys_database.one("SELECT count(*) FROM member_keys")[0] == 0
    assert client.get("/member/").status_code == 302, "a refused sign-up signs nobody in"


def test_signup_refuses_passwordpassword_with_a_reason(auth, vault):
    response = auth.signup("alice@example.org", "passwordpassword")

    assert response.status_code == 422
    messages = field_errors(response.get_data(as_text=True), "password")
    assert len(messages) == 1 and "guess" in messages[0], messages
    assert count(vault, "members") == 0


def test_duplicate_signup_in_other_case_tells_only_the_owner(app, auth, vault, inbox):
    assert auth.register(inbox, "alice@example.org").status_code == 302
    inbox.messages().clear()

    other = AuthActions(app.test_client())
    response = other.signup("ALICE@Example.ORG", "a different but fine passphrase here")

    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    assert count(vault, "members") == 1
    assert count(vault, "signup_requests") == 0, "nothing waits to be verified"
    assert other.client.get("/member/").status_code == 302
    notice = inbox.last("alice@example.org")
    assert notice["Subject"] == "Someone tried to sign up with your address"
    assert "/password/forgot" in notice.get_content()


PASSPHRASES = {
    "100 characters": ("seven purple elephants dance slowly across frozen northern lakes "
                       "while distant owls sing quiet songs")[:100],
    "256 characters": (
        "amber kettle drifts past violet harbour cranes while a sleepy walrus hums old "
        "sea shanties; copper lanterns flicker above the wet cobbles of Ostend and nine "
        "grey pigeons argue about breadcrumbs near the tram depot until the baker finally "
        "opens his blue door and the whole street smells of warm rye"
    )[:256],
    "unicode": "Ünïcödé pässphrâse: 猫は窓辺で眠る 🐈‍⬛ και ο σκύλος γαβγίζει",
    "spaces": "  tram   lantern  pickle   orbit  ",
}


@pytest.mark.parametrize("password", PASSPHRASES.values(), ids=PASSPHRASES.keys())
def test_long_unicode_and_spaced_passphrases_are_accepted_as_typed(app, auth, vault, password,
                                                                   inbox):
    response = auth.signup("alice@example.org", password)
    assert_sane(response)
    assert response.status_code == 200, field_errors(response.get_data(as_text=True),
                                                     "password")
    assert auth.verify(inbox.link("alice@example.org")).status_code == 302
    auth.logout()

    # Signing in needs exactly what was typed: no trimming, no truncation.
    fresh = AuthActions(app.test_client())
    assert fresh.login("alice@example.org", password).status_code == 302
    assert fresh.login("alice@example.org", password.strip() + "!").status_code == 401
    if len(password) > 72:
        assert fresh.login("alice@example.org", password[:72]).status_code == 401


# -- sign-in ----------------------------------------------------------------------------------


def test_sign_in_with_the_right_password(auth, client, member_id):
    response = auth.login("alice@example.org", GOOD_PASSWORD)
    assert response.status_code == 302
    assert location_path(response) == "/member/"
    assert client.get("/member/").status_code == 200


def test_sign_in_address_is_case_insensitive(auth, member_id):
    assert auth.login("ALICE@example.org", GOOD_PASSWORD).status_code == 302


def test_wrong_password_and_unknown_address_get_the_same_answer(app, member_id):
    wrong = AuthActions(app.test_client())
    unknown = AuthActions(app.test_client())

    wrong_password = wrong.login("alice@example.org", "not the right passphrase at all")
    unknown_address = unknown.login("nobody@example.org", GOOD_PASSWORD)

    assert wrong_password.status_code == unknown_address.status_code == 401
    summary = error_summary(wrong_password.get_data(as_text=True))
    assert "Wrong e-mail address or password." in summary
    assert summary == error_summary(unknown_address.get_data(as_text=True))
    assert wrong.client.get("/member/").status_code == 302
    assert unknown.client.get("/member/").status_code == 302


def test_sign_in_gives_a_new_session_cookie_and_kills_the_old_one(app, auth, client, vault,
                                                                 member_id):
    client.get("/login")
    before = client.get_cookie(TEST_HOST_COOKIE)
    assert before is not None, "the sign-in form needs a session (its CSRF token)"
    assert session_row_exists(vault, before.value)

    assert auth.login().status_code == 302
    after = client.get_cookie(TEST_HOST_COOKIE)
    assert after is not None and after.value != before.value
    assert not session_row_exists(vault, before.value)

    # An attacker who planted the pre-login cookie gets nothing.
    planted = app.test_client()
    planted.set_cookie(TEST_HOST_COOKIE, before.value)
    response = planted.get("/member/")
    assert response.status_code == 302 and location_path(response) == "/login"
    assert client.get("/member/").status_code == 200


def test_logout_ends_the_session_on_the_server(app, auth, client, vault, member_id):
    auth.login()
    token = client.get_cookie(TEST_HOST_COOKIE).value

    response = auth.logout()
    assert response.status_code == 302 and location_path(response) == "/login"
    assert not session_row_exists(vault, token)
    assert count(vault, "web_sessions", member_id) == 0

    replay = app.test_client()
    replay.set_cookie(TEST_HOST_COOKIE, token)
    response = replay.get("/member/")
    assert response.status_code == 302 and location_path(response) == "/login"
    client.set_cookie(TEST_HOST_COOKIE, token)
    assert client.get("/member/").status_code == 302


def test_logout_shows_a_confirmation(auth, client, member_id):
    auth.login()
    auth.logout()
    assert "You are signed out." in client.get("/login").get_data(as_text=True)


# -- throttling -------------------------------------------------------------------------------


def test_sixth_attempt_after_five_wrong_passwords_is_throttled_until_the_lock_ends(
        auth, clock, member_id):
    for _ in range(FREE_FAILURES):
        assert auth.login("alice@example.org", "wrong passphrase, not hers").status_code == 401

    # Locked now, even with the right password: the lock must not reveal which one is right.
    response = auth.login("alice@example.org", GOOD_PASSWORD)
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert retry_after > 0
    summary = error_summary(response.get_data(as_text=True))
    assert f"Too many attempts. Try again in {retry_after} seconds." in summary

    clock.advance(retry_after - 1)
    response = auth.login("alice@example.org", GOOD_PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert "Too many attempts. Try again in 1 second." in error_summary(
        response.get_data(as_text=True))

    clock.advance(2)
    response = auth.login("alice@example.org", GOOD_PASSWORD)
    assert response.status_code == 302 and location_path(response) == "/member/"


def test_lock_grows_with_further_failures(auth, clock, member_id):
    waits = []
    for _ in range(3):
        for _ in range(FREE_FAILURES if not waits else 1):
            auth.login("alice@example.org", "wrong passphrase, not hers")
        response = auth.login("alice@example.org", GOOD_PASSWORD)
        assert response.status_code == 429
        waits.append(int(response.headers["Retry-After"]))
        clock.advance(waits[-1] + 1)
    assert waits[0] < waits[1] < waits[2]


def test_one_client_trying_many_addresses_is_throttled(auth, member_id):
    for n in range(FREE_FAILURES):
        assert auth.login(f"guess{n}@example.org", "wrong passphrase, not hers"
                          ).status_code == 401
    response = auth.login("alice@example.org", GOOD_PASSWORD)
    assert response.status_code == 429
    assert "Retry-After" in response.headers


# -- the TOTP second step ---------------------------------------------------------------------


def enable_totp(auth: AuthActions, clock) -> str:
    """Turn on two-step sign-in through the security page; the secret."""
    response = auth.post("/member/totp/start", form_page="/member/security")
    assert response.status_code == 302 and location_path(response) == "/member/security"
    page = auth.client.get("/member/security").get_data(as_text=True)
    match = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert match, "the security page shows no key to type in"
    secret = match.group(1)
    assert "<svg" in page, "the QR code is shown"

    code = pyotp.TOTP(secret).at(clock.now)
    response = auth.post("/member/totp/confirm", {"code": code}, form_page="/member/security")
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    assert "Two-step sign-in is on." in shown
    assert len(re.findall(r"<li><code>[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}</code></li>", shown)) == 10
    page = auth.client.get("/member/security").get_data(as_text=True)
    assert "Turn two-step sign-in off" in page
    assert "10 of your recovery codes are" in page
    assert "<li><code>" not in page, "the codes are shown once, never again"
    return secret


def wrong_code(secret: str, at: float) -> str:
    good = {pyotp.TOTP(secret).at(at + step * 30) for step in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def test_totp_confirm_with_a_wrong_code_does_not_enable_it(auth, client, clock, member_id,
                                                           vault):
    auth.login()
    auth.post("/member/totp/start", form_page="/member/security")
    page = client.get("/member/security").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)

    response = auth.post("/member/totp/confirm", {"code": wrong_code(secret, clock.now)},
                         form_page="/member/security")
    # Next to the field, with the key and QR code still there to try again.
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page, "code") == [
        "6-digit code: That code is not right. Enter the 6 digits your app shows now."]
    assert f'<code class="secret">{secret}</code>' in page
    assert not vault.members.get(member_id).totp_enabled


def test_with_totp_sign_in_needs_a_fresh_right_code_used_only_once(app, auth, client, clock,
                                                                  member_id, vault):
    auth.login()
    secret = enable_totp(auth, clock)
    assert vault.members.get(member_id).totp_enabled
    auth.logout()
    clock.advance(30)  # the code used to turn it on is spent

    response = auth.login()
    assert response.status_code == 302 and location_path(response) == "/login/code"
    assert client.get("/member/").status_code == 302, "the password alone is not enough"
    assert client.get("/login/code").status_code == 200

    response = auth.post("/login/code", {"code": wrong_code(secret, clock.now)})
    assert response.status_code == 401
    assert field_errors(response.get_data(as_text=True), "code") == [
        "6-digit code: That code is not right. Enter the 6 digits your app shows now."]
    assert client.get("/member/").status_code == 302

    pending_cookie = client.get_cookie(TEST_HOST_COOKIE).value
    code = pyotp.TOTP(secret).at(clock.now)
    response = auth.post("/login/code", {"code": code})
    assert response.status_code == 302 and location_path(response) == "/member/"
    assert client.get("/member/").status_code == 200
    assert client.get_cookie(TEST_HOST_COOKIE).value != pending_cookie, "new token at sign-in"

    # The same code a second time, even from another browser, within its 30 seconds: refused.
    other = AuthActions(app.test_client())
    assert location_path(other.login()) == "/login/code"
    response = other.post("/login/code", {"code": code})
    assert response.status_code == 401
    assert other.client.get("/member/").status_code == 302

    clock.advance(30)
    response = other.post("/login/code", {"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 302 and location_path(response) == "/member/"


@pytest.mark.parametrize("typed", ["abc", "12345", "1234567", "abcd-efgh"])
def test_a_code_of_the_wrong_shape_at_setup_is_told_its_shape(auth, client, clock, member_id,
                                                               vault, typed):
    auth.login()
    auth.post("/member/totp/start", form_page="/member/security")
    response = auth.post("/member/totp/confirm", {"code": typed}, form_page="/member/security")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "code") == [
        "6-digit code: Enter the 6 digits your authenticator app shows, digits only."]
    assert not vault.members.get(member_id).totp_enabled


def at_the_code_step(auth: AuthActions, clock) -> str:
    """Two-step sign-in turned on, signed out, then the password given again: the page that
    asks for the code is next. The authenticator's secret."""
    auth.login()
    secret = enable_totp(auth, clock)
    auth.logout()
    clock.advance(30)            # the code that turned it on is spent
    assert location_path(auth.login()) == "/login/code"
    return secret


def test_at_sign_in_each_kind_of_code_gets_its_own_answer(auth, client, clock, member_id):
    secret = at_the_code_step(auth, clock)

    # Neither 6 digits nor a recovery code: its shape is explained, and it is no guess.
    for _ in range(FREE_FAILURES + 1):
        response = auth.post("/login/code", {"code": "abc"})
        assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "code") == [
        "6-digit code: Enter the 6 digits your authenticator app shows, or a recovery code of"
        " 16 letters and digits like abcd-efgh-ijkl-mnop."]
    # A recovery code that is not one of the member's: said about recovery codes.
    response = auth.post("/login/code", {"code": "aaaa-bbbb-cccc-dddd"})
    assert response.status_code == 401
    assert field_errors(response.get_data(as_text=True), "code") == [
        "6-digit code: That recovery code is not right, or it was used already. Check it, or"
        " enter the 6 digits your app shows now."]
    response = auth.post("/login/code", {"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 302 and location_path(response) == "/member/"


def test_guessing_codes_is_throttled(auth, client, clock, member_id):
    secret = at_the_code_step(auth, clock)

    for _ in range(FREE_FAILURES):
        assert auth.post("/login/code", {"code": wrong_code(secret, clock.now)}
                         ).status_code == 401
    response = auth.post("/login/code", {"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many attempts" in field_errors(response.get_data(as_text=True), "code")[0]
    assert client.get("/member/").status_code == 302


def test_the_code_step_expires(auth, client, clock, member_id):
    auth.login()
    enable_totp(auth, clock)
    auth.logout()
    clock.advance(30)
    assert location_path(auth.login()) == "/login/code"

    clock.advance(301)
    response = client.get("/login/code")
    assert response.status_code == 302 and location_path(response) == "/login"
    assert "Please sign in again." in client.get("/login").get_data(as_text=True)


def test_login_code_without_a_password_step_goes_back_to_sign_in(auth, client):
    response = client.get("/login/code")
    assert response.status_code == 302 and location_path(response) == "/login"
    response = auth.post("/login/code", {"code": "123456"}, form_page="/login")
    assert response.status_code == 302 and location_path(response) == "/login"


def test_turning_totp_off_goes_back_to_password_only(auth, clock, member_id, vault):
    auth.login()
    enable_totp(auth, clock)
    response = auth.post("/member/totp/disable", {"password": "not my password at all"},
                         form_page="/member/security")
    assert response.status_code == 401
    assert field_errors(response.get_data(as_text=True), "disable-password") == [
        "Your password, to confirm it is you: That is not your password; two-step sign-in is"
        " still on."]
    assert vault.members.get(member_id).totp_enabled  # re-authentication is required
    response = auth.post("/member/totp/disable", {"password": GOOD_PASSWORD},
                         form_page="/member/security")
    assert response.status_code == 302
    assert not vault.members.get(member_id).totp_enabled
    auth.logout()
    assert location_path(auth.login()) == "/member/"

