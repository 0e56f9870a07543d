"""No personal data in logs: a whole member journey, including an unexpected error, logs none."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import GOOD_PASSWORD

EMAIL = "log.watcher@example.org"
MARKER = "Zanzibar-Quokka-4417"


def test_a_member_journey_logs_no_personal_data(app, auth, inbox,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # The test's own SMTP server (aiosmtpd) logs the envelope it receives, as a mail server
    # does; that is the receiving side, not the vault's log.
    caplog.set_level(logging.WARNING, logger="mail.log")

    @app.get("/boom")
    def boom() -> str:  # an unexpected failure carrying personal data in its message
        raise RuntimeError(f"failed for {EMAIL} {MARKER}")

    auth.register(inbox, EMAIL, GOOD_PASSWORD)
    link = inbox.link(EMAIL)
    auth.logout()
    auth.post("/password/forgot", {"email": EMAIL})
    reset_link = inbox.link(EMAIL)
    auth.login(EMAIL, GOOD_PASSWORD)
    auth.post("/member/profile", {"given_name": MARKER})
    auth.logout()
    auth.login(EMAIL, "a wrong password for the log test")
    response = auth.client.get("/boom")
    assert response.status_code == 500
    assert MARKER not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert any("unhandled RuntimeError" in r.getMessage() for r in caplog.records)
    assert any("boom" in r.getMessage() for r in caplog.records)  # the stack frames are there
    logged = caplog.text  # as formatted by the handler, exception text included
    for secret in (EMAIL, MARKER, GOOD_PASSWORD, link.split("=")[1],
                   reset_link.split("=")[1]):
        assert secret not in logged
