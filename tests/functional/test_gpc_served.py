"""Global Privacy Control through the real server, ``vrmvault serve`` (uWSGI).

Two ``Sec-GPC`` header fields reach the app as one value that the server joined with a comma
(``1, 0``), and the spaces around a field value are gone before the app reads it (uWSGI leaves
the trailing ones; web/limits.py trims them). The GPC
specification defines the value ``1`` only: so ``Sec-GPC:  1 `` is a signal, and two fields,
whatever they hold, are not (web/gpc.py says why).
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import requests

from consent.context import open_consent
from tests.conftest import GOOD_PASSWORD, csrf_from
from tests.processes import stopped
from vault.home import Vault, VaultHome

from .test_webhook_cli import _free_port, start_server

CASES = {
    "one-1-spaced": ([("Sec-GPC", "  1  ")], True),
    "1-then-0": ([("Sec-GPC", "1"), ("Sec-GPC", "0")], False),
    "0-then-1": ([("Sec-GPC", "0"), ("Sec-GPC", "1")], False),
    "1-twice": ([("Sec-GPC", "1"), ("Sec-GPC", "1")], False),
    "true": ([("Sec-GPC", "true")], False),
}


@pytest.fixture(scope="module")
def served_home(tmp_path_factory: pytest.TempPathFactory):
    from tests.conftest import initialise_home

    root = tmp_path_factory.mktemp("gpc")
    home = initialise_home(VaultHome(root / "var"))
    port, log = _free_port(), root / "serve.log"
    server = start_server(home, log, port=port)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield home, base
    finally:
        stopped(server)


def sign_in_over_http(base: str, email: str) -> str:
    """The session cookie of a sign-in through the login form, as a browser would."""
    browser = requests.Session()
    page = browser.get(base + "/login", timeout=30)
    response = browser.post(base + "/login", timeout=30, allow_redirects=False, data={
        "csrf_token": csrf_from(page.text), "email": email, "password": GOOD_PASSWORD})
    assert response.status_code == 302, response.text[:300]
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def get_with_fields(base: str, cookie: str, fields: list[tuple[str, str]]) -> int:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("GET", "/member/")
        connection.putheader("Cookie", cookie)
        for name, value in fields:                 # repeated fields stay repeated on the wire
            connection.putheader(name, value)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("case", CASES)
def test_the_server_passes_on_what_the_spec_counts(served_home: tuple[VaultHome, str],
                                                 case: str) -> None:
    home, base = served_home
    fields, counts = CASES[case]
    email = f"gpc-{case}@example.org"
    with home.open() as vault:
        member_id = vault.members.register(email, GOOD_PASSWORD)
    cookie = sign_in_over_http(base, email)
    assert get_with_fields(base, cookie, fields) == 200
    with home.open() as vault:
        assert opted_out(vault, home, member_id) is counts


def opted_out(vault: Vault, home: VaultHome, member_id: str) -> bool:
    consent = open_consent(vault, home)
    try:
        return consent.terms.get(member_id).gpc_opt_out
    finally:
        consent.close()


def test_the_server_log_shows_no_trace(served_home: tuple[VaultHome, str]) -> None:
    home, _ = served_home
    log = Path(home.root).parent / "serve.log"
    assert "Traceback" not in log.read_text()
