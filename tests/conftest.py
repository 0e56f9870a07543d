"""Fixtures shared by every test: a real SQLCipher vault in a temporary home, a frozen clock.

Password hashing in tests runs at the ASVS minimum argon2id cost (m=19 MiB, t=2, p=1), which the
product refuses to go below, instead of the slower default.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from brand_gateway import access_log, token_storage, webhook_storage
from brand_gateway import storage as gateway_storage
from consent import storage as consent_storage
from consent.context import Consent, open_consent
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome
from vault.passwords import HashingCost

TEST_HASHING = HashingCost(time_cost=2, memory_kib=19 * 1024, parallelism=1)
GOOD_PASSWORD = "correct horse battery staple"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def initialise_home(home: VaultHome) -> VaultHome:
    """What ``vrmvault init`` makes: the vault's stores, then the consent layer's tables."""
    home.initialise({})
    with home.open() as opened:
        consent_storage.initialise(opened.data)
        gateway_storage.initialise(opened.data)
        token_storage.initialise(opened.data)
        access_log.initialise(opened.data)
        webhook_storage.initialise(opened.data)
    return home


@pytest.fixture
def vault_home(tmp_path: Path) -> VaultHome:
    return initialise_home(VaultHome(tmp_path / "var"))


@pytest.fixture
def vault(vault_home: VaultHome, clock: FrozenClock) -> Iterator[Vault]:
    opened = vault_home.open(clock=clock, hashing=TEST_HASHING)
    yield opened
    opened.close()


@pytest.fixture
def brand(vault: Vault):
    return vault.brands.add("Velo Bikes", ("bikes",))


@pytest.fixture
def member_id(vault: Vault) -> str:
    return vault.members.register("alice@example.org", GOOD_PASSWORD)


# -- the web app ------------------------------------------------------------------------------
import re  # noqa: E402

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from web.app import create_app  # noqa: E402

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def consent(vault: Vault, vault_home: VaultHome) -> Iterator[Consent]:
    """Consent services on the test vault (its store has every layer's migrations)."""
    opened = open_consent(vault, vault_home)
    yield opened
    opened.close()


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app over real HTTP on 127.0.0.1 (werkzeug in a thread), for independent clients."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    # Its public URL, as 'vrmvault serve' derives it: the issuer clients check is this address.
    app.config["VRMVAULT_PUBLIC_URL"] = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)
        httpd.server_close()


@pytest.fixture
def app(vault_home: VaultHome, clock: FrozenClock) -> Flask:
    return create_app({
        "TESTING": True,
        "VRMVAULT_HOME": vault_home.root,
        # The Flask test client's host; werkzeug servers on 127.0.0.1 are loopback too.
        "VRMVAULT_PUBLIC_URL": "http://localhost",
        "VRMVAULT_CLOCK": clock,
        "VRMVAULT_ARGON2_TIME_COST": TEST_HASHING.time_cost,
        "VRMVAULT_ARGON2_MEMORY_KIB": TEST_HASHING.memory_kib,
        "VRMVAULT_ARGON2_PARALLELISM": TEST_HASHING.parallelism,
    })


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class AuthActions:
    """Drives the member pages the way a browser would, CSRF token included."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def post(self, path: str, data: dict | None = None, *, form_page: str | None = None,
             **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(form_page or path))
        return self.client.post(path, data=data, **kwargs)

    def signup(self, email: str = "alice@example.org", password: str = GOOD_PASSWORD):
        return self.post("/signup", {"email": email, "password": password})

    def login(self, email: str = "alice@example.org", password: str = GOOD_PASSWORD):
        return self.post("/login", {"email": email, "password": password})

    def logout(self):
        return self.post("/logout", form_page="/member/")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)
