"""Account recovery without account enumeration, through the pages.

Every message goes through the real SMTP server the test process runs (``inbox``); the tests
read the delivered mail, take the link out of it and follow it.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask

from tests.apps import opened_app
from tests.conftest import (
    GOOD_PASSWORD,
    AuthActions,
    Inbox,
    csrf_from,
    free_port,
    next_totp_code,
    turn_on_totp,
)
from vault.clock import FrozenClock
from vault.home import Vault
from vault.members import COMPLIANCE
from vault.password_resets import RESET_LINK_MINUTES
from vault.passwords import PasswordHasher
from vault.signups import SIGNUP_LINK_MINUTES

from .conftest import SignedIn, SignIn
from .pages import assert_sane, count, error_summary, field_errors, flashes, location_path

NEW_PASSWORD = "violet harbour cranes hum old shanties"
OTHER = "different enough passphrase for this"


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2id hash made (the cost that timing would show), by password."""
    made: list[str] = []
    original = PasswordHasher.hash

    def counting(self: PasswordHasher, password: str) -> str:
        made.append(password)
        return original(self, password)

    monkeypatch.setattr(PasswordHasher, "hash", counting)
    return made


def fresh(app: Flask, address: str = "127.0.0.1") -> AuthActions:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(client)


# -- sign-up: the same answer either way -------------------------------------------------------
def test_sign_up_answers_the_same_for_a_known_and_an_unknown_address(
        app: Flask, vault: Vault, inbox: Inbox, hashes: list[str]) -> None:
    vault.members.register("alice@example.org", GOOD_PASSWORD)
    hashes.clear()

    known = fresh(app).signup("alice@example.org", OTHER)
    assert hashes == [OTHER], "one argon2 hash for an address with a vault"
    unknown = fresh(app).signup("carol@example.org", OTHER)
    assert hashes == [OTHER, OTHER], "and one for a new address"

    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert "Check your inbox" in known.get_data(as_text=True)
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
    # Each address got one message: the owner a notice, the newcomer a link.
    notice, link = inbox.last("alice@example.org"), inbox.last("carol@example.org")
    assert len(inbox.messages()) == 2
    assert notice["Subject"] == "Someone tried to sign up with your address"
    assert "/signup/verify" not in notice.get_content()
    assert link["Subject"] == "Confirm your address to open your vault"
    assert inbox.link("carol@example.org").startswith("/signup/verify?token=")
    assert count(vault, "members") == 1, "no account before the link is followed"


def test_the_link_carries_only_a_token_and_the_store_no_address(
        auth: AuthActions, vault: Vault, inbox: Inbox) -> None:
    auth.signup("carol@example.org")
    link = inbox.links("carol@example.org")[0]
    assert re.fullmatch(r"https?://[^/?#]+/signup/verify\?token=[A-Za-z0-9_-]{43}", link)
    token = link.rsplit("=", 1)[1]
    rows = vault.data.all("SELECT * FROM signup_requests")
    assert len(rows) == 1
    stored = b"".join(bytes(v) if isinstance(v, bytes) else str(v).encode() for v in rows[0])
    assert b"carol" not in stored and token.encode() not in stored
    assert GOOD_PASSWORD.encode() not in stored


def test_the_link_opens_the_vault_once(app: Flask, auth: AuthActions, vault: Vault,
                                       inbox: Inbox) -> None:
    auth.signup("carol@example.org")
    link = inbox.link("carol@example.org")
    # Opening the link (a mail scanner does) spends nothing: it only asks to confirm.
    assert auth.client.get(link).status_code == 200
    assert auth.client.get(link).status_code == 200
    response = auth.verify(link)
    assert response.status_code == 302 and location_path(response) == "/member/"
    dashboard = auth.client.get("/member/").get_data(as_text=True)
    assert "Your address is confirmed" in dashboard
    assert count(vault, "members") == 1 and count(vault, "signup_requests") == 0

    # Replayed, in this browser or another: a clear page, nothing made.
    other = fresh(app)
    again = other.client.get(link)
    assert again.status_code == 410
    assert "This link no longer works" in again.get_data(as_text=True)
    token = link.rsplit("=", 1)[1]
    replay = other.post("/signup/verify", {"token": token}, form_page="/login")
    assert_sane(replay)
    assert replay.status_code == 410
    assert count(vault, "members") == 1
    assert other.client.get("/member/").status_code == 302


def test_links_use_the_public_base_url_not_the_host_header(app: Flask, member_id: str,
                                                           inbox: Inbox) -> None:
    app.config["VRMVAULT_PUBLIC_URL"] = "https://vault.example"
    client = app.test_client()
    # A forged Host is refused before any page or mail (web/security.py)...
    forged = client.post("/password/forgot", headers={"Host": "evil.example"},
                         data={"email": "alice@example.org"})
    assert forged.status_code == 400
    assert inbox.messages("alice@example.org") == []
    # ...and the links of an accepted request are built on the public URL.
    real = {"Host": "vault.example"}
    page = client.get("/password/forgot", headers=real, base_url="https://vault.example")
    asked = client.post("/password/forgot", headers=real, base_url="https://vault.example",
                        data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                              "email": "alice@example.org"})
    assert asked.status_code == 200
    assert inbox.links("alice@example.org")[0].startswith("https://vault.example/password/")


def test_a_stale_link_is_refused_with_a_clear_page(auth: AuthActions, vault: Vault,
                                                   inbox: Inbox, clock: FrozenClock) -> None:
    auth.signup("carol@example.org")
    link = inbox.link("carol@example.org")
    clock.advance(SIGNUP_LINK_MINUTES * 60 + 1)
    response = auth.client.get(link)
    assert response.status_code == 410
    assert "used already or is too old" in response.get_data(as_text=True)
    token = link.rsplit("=", 1)[1]
    response = auth.post("/signup/verify", {"token": token}, form_page="/signup")
    assert response.status_code == 410
    assert count(vault, "members") == 0 and count(vault, "signup_requests") == 0


@pytest.mark.parametrize("token", ["", "x", "a" * 65, "ü" * 10, "../../etc/passwd",
                                   "A" * 43])
def test_a_made_up_token_is_a_clear_410_never_a_500(auth: AuthActions, vault: Vault,
                                                    token: str) -> None:
    response = auth.client.get("/signup/verify", query_string={"token": token})
    assert_sane(response)
    assert response.status_code == 410
    response = auth.post("/signup/verify", {"token": token}, form_page="/signup")
    assert_sane(response)
    assert response.status_code == 410
    assert count(vault, "members") == 0


def test_two_sign_ups_for_one_address_make_one_account(app: Flask, vault: Vault,
                                                       inbox: Inbox) -> None:
    first, second = fresh(app), fresh(app)
    first.signup("carol@example.org", GOOD_PASSWORD)
    link_one = inbox.link("carol@example.org")
    second.signup("carol@example.org", OTHER)
    link_two = inbox.link("carol@example.org")
    assert link_one != link_two
    assert second.verify(link_two).status_code == 302
    assert first.client.get(link_one).status_code == 410, "the other pending sign-up ended"
    assert count(vault, "members") == 1
    assert vault.members.authenticate("carol@example.org", OTHER, client="t")


def test_sign_up_mails_are_rate_limited_the_same_for_known_and_unknown(
        app: Flask, vault: Vault, inbox: Inbox) -> None:
    vault.members.register("alice@example.org", GOOD_PASSWORD)
    answers = {}
    for address in ("alice@example.org", "carol@example.org"):
        statuses = [fresh(app, f"10.0.0.{n}").signup(address, OTHER).status_code
                    for n in range(4)]
        answers[address] = statuses
    assert answers["alice@example.org"] == answers["carol@example.org"] == [200, 200, 200, 429]
    assert len(inbox.messages("alice@example.org")) == 3
    assert len(inbox.messages("carol@example.org")) == 3


def test_when_mail_cannot_be_sent_nothing_is_kept_and_the_page_says_so(
        vault_home, clock: FrozenClock, vault: Vault) -> None:
    from tests.conftest import TEST_HASHING

    with opened_app({"TESTING": True, "VRMVAULT_HOME": vault_home.root,
                     "VRMVAULT_CLOCK": clock,
                     "VRMVAULT_ARGON2_TIME_COST": TEST_HASHING.time_cost,
                     "VRMVAULT_ARGON2_MEMORY_KIB": TEST_HASHING.memory_kib,
                     "VRMVAULT_ARGON2_PARALLELISM": TEST_HASHING.parallelism,
                     "VRMVAULT_SMTP_URL": f"smtp://127.0.0.1:{free_port()}",  # nobody there
                     }) as app:
        actions = AuthActions(app.test_client())
        response = actions.signup("carol@example.org")
        assert response.status_code == 503        # unavailable for now: a page, not a crash
        assert "Traceback" not in response.get_data(as_text=True)
        assert "could not send the mail" in error_summary(response.get_data(as_text=True))
        assert count(vault, "signup_requests") == 0
        vault.members.register("alice@example.org", GOOD_PASSWORD)
        response = actions.post("/password/forgot", {"email": "alice@example.org"})
        assert response.status_code == 503 and count(vault, "password_resets") == 0


# -- password reset ------------------------------------------------------------------------------
def test_reset_answers_the_same_for_a_known_and_an_unknown_address(
        app: Flask, member_id: str, inbox: Inbox, hashes: list[str]) -> None:
    known = fresh(app).post("/password/forgot", {"email": "alice@example.org"})
    unknown = fresh(app).post("/password/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert hashes == [], "asking for a link costs no argon2 hash"
    assert inbox.link("alice@example.org").startswith("/password/reset?token=")
    note = inbox.last("nobody@example.org")
    assert "there is no vault with this address" in " ".join(note.get_content().split())
    assert "/password/reset" not in note.get_content()


def test_a_reset_sets_the_password_once_and_ends_every_session(
        app: Flask, alice: SignedIn, vault: Vault, inbox: Inbox,
        hashes: list[str]) -> None:
    other_device = fresh(app)
    assert other_device.login().status_code == 302
    visitor = fresh(app)
    visitor.post("/password/forgot", {"email": "alice@example.org"})
    link = inbox.link("alice@example.org")
    page = visitor.client.get(link)
    assert page.status_code == 200
    token = link.rsplit("=", 1)[1]

    # A weak password is refused next to the field, and the link still works.
    weak = visitor.post("/password/reset", {"token": token, "password": "short pass"},
                        form_page=link)
    assert weak.status_code == 422
    assert field_errors(weak.get_data(as_text=True), "password")
    hashes.clear()
    done = visitor.post("/password/reset", {"token": token, "password": NEW_PASSWORD},
                        form_page=link)
    assert done.status_code == 302 and location_path(done) == "/login"
    assert hashes == [NEW_PASSWORD], "one argon2 hash"
    assert "signed out everywhere" in " ".join(flashes(
        visitor.client.get("/login").get_data(as_text=True)))

    assert not alice.is_signed_in() and other_device.client.get("/member/").status_code == 302
    assert count(vault, "web_sessions", alice.id) == 0
    assert fresh(app).login("alice@example.org", GOOD_PASSWORD).status_code == 401
    assert fresh(app).login("alice@example.org", NEW_PASSWORD).status_code == 302

    # Spent: a replay gets the clear page and changes nothing.
    assert visitor.client.get(link).status_code == 410
    replay = visitor.post("/password/reset", {"token": token, "password": OTHER},
                          form_page="/login")
    assert replay.status_code == 410
    assert fresh(app).login("alice@example.org", NEW_PASSWORD).status_code == 302


def test_a_stale_reset_link_is_refused(app: Flask, member_id: str, inbox: Inbox,
                                       clock: FrozenClock) -> None:
    visitor = fresh(app)
    visitor.post("/password/forgot", {"email": "alice@example.org"})
    link = inbox.link("alice@example.org")
    clock.advance(RESET_LINK_MINUTES * 60 + 1)
    assert visitor.client.get(link).status_code == 410
    response = visitor.post("/password/reset", {"token": link.rsplit("=", 1)[1],
                                                "password": NEW_PASSWORD}, form_page="/login")
    assert response.status_code == 410
    assert fresh(app).login("alice@example.org", GOOD_PASSWORD).status_code == 302


def test_reset_requests_are_limited_per_address_and_per_client(
        app: Flask, member_id: str, inbox: Inbox) -> None:
    for address in ("alice@example.org", "nobody@example.org"):
        statuses = [fresh(app, f"10.0.1.{n}").post("/password/forgot", {"email": address})
                    .status_code for n in range(4)]
        assert statuses == [200, 200, 200, 429], address
    one_client = fresh(app, "10.9.9.9")
    statuses = [one_client.post("/password/forgot", {"email": f"u{n}@example.org"}).status_code
                for n in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    limited = one_client.post("/password/forgot", {"email": "alice@example.org"})
    assert "Try again in" in error_summary(limited.get_data(as_text=True))


@pytest.mark.parametrize("email", ["", "not an address", "a" * 300 + "@example.org"])
def test_a_malformed_reset_address_is_named_next_to_the_field(auth: AuthActions, vault: Vault,
                                                              inbox: Inbox, email: str) -> None:
    response = auth.post("/password/forgot", {"email": email})
    assert_sane(response)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "email")
    assert inbox.messages() == []


# -- recovery codes -------------------------------------------------------------------------------
def test_a_recovery_code_stands_in_for_the_app_once(app: Flask, vault: Vault, member_id: str,
                                                    clock: FrozenClock) -> None:
    _, codes = turn_on_totp(vault, member_id)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = vault.data.all("SELECT code_hash FROM totp_recovery_codes")
    assert len(stored) == 10 and all(code.encode() not in row[0] for row in stored
                                     for code in codes)

    browser = fresh(app)
    assert location_path(browser.login()) == "/login/code"
    used = browser.post("/login/code", {"code": codes[3].lower()}, form_page="/login/code")
    assert used.status_code == 302 and location_path(used) == "/member/"
    assert "9 left" in " ".join(flashes(browser.client.get("/member/").get_data(as_text=True)))

    again = fresh(app)
    again.login()
    assert again.post("/login/code", {"code": codes[3]}, form_page="/login/code"
                      ).status_code == 401
    assert vault.members.recovery_codes.remaining(member_id) == 9


def test_new_recovery_codes_replace_the_old_and_need_the_password(
        sign_in_with_totp: SignIn, vault: Vault) -> None:
    olive = sign_in_with_totp("olive@example.org")
    wrong = olive.auth.post("/member/totp/recovery-codes", {"password": "not my password"},
                            form_page="/member/security")
    assert wrong.status_code == 401
    assert field_errors(wrong.get_data(as_text=True), "codes-password") == [
        "Your password, to confirm it is you: That is not your password; no new codes were"
        " made."]
    old = vault.data.all("SELECT code_hash FROM totp_recovery_codes")
    made = olive.auth.post("/member/totp/recovery-codes", {"password": GOOD_PASSWORD},
                           form_page="/member/security")
    assert made.status_code == 200
    codes = re.findall(r"<li><code>([A-Z2-7-]{19})</code></li>", made.get_data(as_text=True))
    assert len(codes) == 10
    new = vault.data.all("SELECT code_hash FROM totp_recovery_codes")
    assert {row[0] for row in old}.isdisjoint({row[0] for row in new}) and len(new) == 10


def test_turning_totp_off_deletes_the_codes(sign_in_with_totp: SignIn, vault: Vault) -> None:
    olive = sign_in_with_totp("olive@example.org")
    olive.auth.post("/member/totp/disable", {"password": GOOD_PASSWORD},
                    form_page="/member/security")
    assert not vault.members.has_second_factor(olive.id)
    assert count(vault, "totp_recovery_codes", olive.id) == 0


# -- officers need a second factor ---------------------------------------------------------------
def test_an_officer_cannot_turn_totp_off(officer: SignedIn, vault: Vault) -> None:
    response = officer.auth.post("/member/totp/disable", {"password": GOOD_PASSWORD},
                                 form_page="/member/security", follow_redirects=True)
    assert "officers must keep two-step sign-in on" in response.get_data(as_text=True)
    assert vault.members.has_second_factor(officer.id)
    assert officer.client.get("/console/").status_code == 200


def test_the_console_stays_closed_to_an_officer_without_totp(officer: SignedIn,
                                                             vault: Vault) -> None:
    # An officer made before the rule (or by hand in the store): the role, no second factor.
    vault.data.execute("UPDATE members SET totp_sealed = NULL WHERE id = ?", (officer.id,))
    assert vault.members.role(officer.id) == COMPLIANCE
    response = officer.client.get("/console/")
    assert response.status_code == 403
    assert "Compliance officers need two-step sign-in" in response.get_data(as_text=True)
    assert 'href="/console/"' not in officer.client.get("/member/").get_data(as_text=True)


# -- sign-in throttling: a stranger cannot lock a member out -----------------
def test_a_stranger_failing_on_unknown_addresses_does_not_lock_out_a_known_device(
        app: Flask, vault: Vault) -> None:
    """The finding: six failed sign-ins for unknown addresses from one client address locked
    out a different member with the right password, for up to 15 minutes."""
    vault.members.register("bob@example.org", GOOD_PASSWORD)
    bob = fresh(app, "192.0.2.10")
    assert bob.login("bob@example.org").status_code == 302      # his browser, a device cookie
    bob.logout()

    stranger = fresh(app, "192.0.2.10")                          # the same client address
    for n in range(6):
        stranger.login(f"nobody{n}@example.org", "guessing a password here")
    assert stranger.login("nobody9@example.org", "x" * 15).status_code == 429

    assert bob.login("bob@example.org").status_code == 302, "his known browser signs in"
    # Another browser at that address is untrusted: it stays throttled per client.
    assert fresh(app, "192.0.2.10").login("bob@example.org").status_code == 429


def test_guessing_a_members_password_locks_untrusted_clients_but_not_their_device(
        app: Flask, vault: Vault) -> None:
    vault.members.register("bob@example.org", GOOD_PASSWORD)
    bob = fresh(app, "198.51.100.1")
    assert bob.login("bob@example.org").status_code == 302
    bob.logout()
    for n in range(6):                                    # from many addresses: per account
        fresh(app, f"203.0.113.{n}").login("bob@example.org", "wrong guess number " + str(n))
    assert fresh(app, "203.0.113.99").login("bob@example.org").status_code == 429
    assert bob.login("bob@example.org").status_code == 302


def test_a_device_has_its_own_budget_of_guesses(app: Flask, vault: Vault) -> None:
    vault.members.register("bob@example.org", GOOD_PASSWORD)
    thief = fresh(app, "198.51.100.7")
    assert thief.login("bob@example.org").status_code == 302   # e.g. a shared computer
    thief.logout()
    statuses = [thief.login("bob@example.org", f"wrong guess number {n}").status_code
                for n in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert thief.login("bob@example.org").status_code == 429, "the device is locked"
    assert fresh(app, "198.51.100.8").login("bob@example.org").status_code == 302


def test_a_device_cookie_names_no_one_and_dies_with_the_password(
        app: Flask, vault: Vault, inbox: Inbox) -> None:
    bob_id = vault.members.register("bob@example.org", GOOD_PASSWORD)
    bob = fresh(app, "192.0.2.20")
    bob.login("bob@example.org")
    cookie = bob.client.get_cookie("vrmvault_device")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert bob_id not in cookie.value and "bob" not in cookie.value
    bob.logout()
    # After a reset, the old cookie no longer exempts the browser.
    bob.post("/password/forgot", {"email": "bob@example.org"})
    link = inbox.link("bob@example.org")
    bob.post("/password/reset", {"token": link.rsplit("=", 1)[1], "password": NEW_PASSWORD},
             form_page=link)
    stranger = fresh(app, "192.0.2.20")
    for n in range(6):
        stranger.login(f"nobody{n}@example.org", "guessing a password here")
    assert bob.login("bob@example.org", NEW_PASSWORD).status_code == 429


def test_the_totp_step_of_a_known_device_is_not_locked_by_a_stranger(
        app: Flask, vault: Vault, clock: FrozenClock) -> None:
    bob_id = vault.members.register("bob@example.org", GOOD_PASSWORD)
    secret, _ = turn_on_totp(vault, bob_id)
    bob = fresh(app, "192.0.2.30")
    bob.login("bob@example.org")
    assert bob.post("/login/code", {"code": next_totp_code(secret, clock.now)},
                    form_page="/login/code").status_code == 302
    bob.logout()
    stranger = fresh(app, "192.0.2.30")
    for n in range(6):
        stranger.login(f"nobody{n}@example.org", "guessing a password here")
    clock.advance(60)
    assert location_path(bob.login("bob@example.org")) == "/login/code"
    code = pyotp.TOTP(secret).at(clock.now)
    assert bob.post("/login/code", {"code": code}, form_page="/login/code").status_code == 302
