"""The second factor through the Security page: its pending secret never in the session rows in
clear, and a second authenticator refused while one is on."""

from __future__ import annotations

import re


def test_the_pending_totp_secret_is_not_in_the_session_rows_in_clear(auth, vault, inbox):
    auth.register(inbox)
    auth.post("/member/totp/start", form_page="/member/security")
    page = auth.client.get("/member/security").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    rows = vault.data.all("SELECT data FROM web_sessions")
    assert rows and all(secret not in row["data"] for row in rows)


def test_turning_on_a_second_authenticator_is_refused_while_one_is_on(auth, vault, clock,
                                                                      inbox):
    import pyotp

    auth.register(inbox)
    auth.post("/member/totp/start", form_page="/member/security")
    page = auth.client.get("/member/security").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    auth.post("/member/totp/confirm", {"code": pyotp.TOTP(secret).at(clock())},
              form_page="/member/security")
    before = vault.data.one("SELECT totp_sealed FROM members")[0]
    response = auth.post("/member/totp/start", form_page="/member/security",
                         follow_redirects=True)
    assert "turn it off first" in response.get_data(as_text=True)
    assert vault.data.one("SELECT totp_sealed FROM members")[0] == before
