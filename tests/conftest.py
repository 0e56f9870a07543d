"""Fixtures shared by every test: a real SQLCipher vault in a temporary home, a frozen clock,
and for the tests of the PostgreSQL engine a real server (``tests/postgresql_server.py``).

Password hashing in tests runs at the ASVS minimum argon2id cost (m=19 MiB, t=2, p=1), which the
product refuses to go below, instead of the slower default; and each password is hashed once per
test process at each cost, each hash verified once against each password
(:func:`hash_each_password_once`): every argon2id hash is real, but the suite's thousands of
sign-ups and sign-ins with the same few passwords spent four minutes of its time making them.
Tests of the hashing itself (``real_hashing``) hash each time, with fresh salts.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import socket
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

from consent.context import Consent, open_consent
from tests import postgresql_server
from tests.postgresql_server import ResettableDatabase
from vault.clock import FrozenClock
from vault.home import DATABASE_URL_SETTING, KEYS_DATABASE_URL_SETTING, Vault, VaultHome
from vault.keys import MasterKey
from vault.passwords import HashingCost, PasswordHasher

# The master key of every test home on PostgreSQL (the stores record which key made them).
POSTGRESQL_MASTER_KEY = "5e" * 32
TEST_HASHING = HashingCost(time_cost=2, memory_kib=19 * 1024, parallelism=1)
GOOD_PASSWORD = "correct horse battery staple"


_HASHED: dict[tuple[int, int, int, str], str] = {}
_VERIFIED: dict[tuple[str | None, str], bool] = {}


@pytest.fixture(autouse=True)
def hash_each_password_once(request: pytest.FixtureRequest,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A password hashed before at the same cost gets the hash made then (a valid argon2id
    hash of it, salted once); a hash verified before against the same password gets the answer
    given then (what argon2 answers again). Not for a test marked ``real_hashing``."""
    if request.node.get_closest_marker("real_hashing"):
        return
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def hash_once(self: PasswordHasher, password: str) -> str:
        argon = self._hasher
        key = (argon.time_cost, argon.memory_cost, argon.parallelism, password)
        if key not in _HASHED:
            _HASHED[key] = real_hash(self, password)
        return _HASHED[key]

    def verify_once(self: PasswordHasher, password_hash: str | None, password: str) -> bool:
        key = (password_hash, password)
        if key not in _VERIFIED:
            _VERIFIED[key] = real_verify(self, password_hash, password)
        return _VERIFIED[key]

    monkeypatch.setattr(PasswordHasher, "hash", hash_once)
    monkeypatch.setattr(PasswordHasher, "verify", verify_once)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def initialise_home(home: VaultHome) -> VaultHome:
    """What ``vrmvault init`` makes: every store at its last migration, in a home of SQLCipher
    files that does not exist yet, copied from the one this test process made with
    ``vrmvault init``'s own code (:func:`_initialised_template`): migrating every store again for
    each of the suite's thousands of homes was a tenth of its time. A home elsewhere (on
    PostgreSQL, or a folder that holds something already) is initialised in place."""
    if home.database_url or (home.root.exists() and any(home.root.iterdir())):
        home.initialise({})
        return home
    shutil.copytree(_initialised_template(), home.root, dirs_exist_ok=True)
    return home


@functools.cache
def _initialised_template() -> Path:
    """A home ``VaultHome.initialise`` made, once per test process, removed when it ends. Every
    copy holds the same master key, as every home on PostgreSQL in a run does
    (:data:`POSTGRESQL_MASTER_KEY`): no test's stores meet another's."""
    folder = Path(tempfile.mkdtemp(prefix="vrmvault-home-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return VaultHome(folder / "var").initialise({}).home.root


@pytest.fixture
def engine() -> str:
    """Where ``vault_home`` keeps its stores: SQLCipher files, unless a folder's conftest
    runs its tests on both engines (tests/functional/conftest.py)."""
    return "sqlcipher"


@pytest.fixture
def vault_home(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> VaultHome:
    """A home as ``vrmvault init`` makes it, on the test's engine."""
    if engine == "postgresql":
        home: VaultHome = request.getfixturevalue("postgresql_home")
        return home
    return initialise_home(VaultHome(tmp_path / "var"))


def home_settings(home: VaultHome) -> dict[str, Any]:
    """The settings that name ``home`` and where its stores are, for an app of a test's own."""
    return {"VRMVAULT_HOME": home.root, DATABASE_URL_SETTING: home.database_url,
            KEYS_DATABASE_URL_SETTING: home.keys_database_url}


def home_environment(home: VaultHome) -> dict[str, str]:
    """:func:`home_settings` as environment variables, for a command a test runs."""
    return {name: str(value) for name, value in home_settings(home).items() if value}


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


def turn_on_totp(vault: Vault, member_id: str) -> tuple[str, list[str]]:
    """Turn two-step sign-in on for the member (as the Security page does); the TOTP secret
    and the recovery codes. The code used here is spent: sign in with the next step's."""
    secret = vault.members.new_totp_secret()
    codes = vault.members.enable_totp(member_id, secret, pyotp.TOTP(secret).at(vault.clock()))
    return secret, codes


def next_totp_code(secret: str, now: float) -> str:
    """A code the sign-in accepts right after :func:`turn_on_totp` spent the current one."""
    return pyotp.TOTP(secret).at(now + 30)


# -- PostgreSQL: a throwaway cluster for the run (or VRMVAULT_TEST_DATABASE_URL's server) ----
@pytest.fixture(scope="session")
def postgresql() -> Iterator[postgresql_server.Server]:
    """Started by the first test that needs it (in each xdist worker), removed at the end."""
    with postgresql_server.server() as server:
        yield server


@pytest.fixture(scope="session")
def postgresql_home_databases(postgresql: postgresql_server.Server
                              ) -> Iterator[tuple[ResettableDatabase, ResettableDatabase]]:
    """This worker's data database and key database for the homes on PostgreSQL, made once
    as ``vrmvault init`` makes them (with :data:`POSTGRESQL_MASTER_KEY`) and put back so
    before each test."""
    data_template, keys_template = postgresql.home_templates(POSTGRESQL_MASTER_KEY)
    with postgresql.database(data_template) as data, postgresql.database(keys_template) as keys:
        kept = (ResettableDatabase(data), ResettableDatabase(keys))
        try:
            yield kept
        finally:
            for database in kept:
                database.close()


@pytest.fixture
def postgresql_home(tmp_path: Path, postgresql_home_databases: tuple[
        ResettableDatabase, ResettableDatabase], monkeypatch: pytest.MonkeyPatch) -> VaultHome:
    """A home whose stores are on the run's PostgreSQL server as ``vrmvault init`` makes
    them, with the master key they were made with in its ``master.key``. The settings that
    place them are in the environment for the test's length, as an operator would set them:
    the test's commands, servers and apps all find the stores there."""
    data, keys = postgresql_home_databases
    monkeypatch.setenv(DATABASE_URL_SETTING, data.dsn)
    monkeypatch.setenv(KEYS_DATABASE_URL_SETTING, keys.dsn)
    data.reset()
    keys.reset()
    home = VaultHome(tmp_path / "var", data.dsn, keys.dsn)
    # An earlier test may have put a dump back (new tables), or pointed reapply-erasures at a
    # key database of its own: these two are the ones served now, as init left them.
    home.restore_finished()
    home.make_private()
    MasterKey.from_hex(POSTGRESQL_MASTER_KEY).write_new_file(home.key_file)
    return home


@pytest.fixture
def postgresql_dsn(postgresql: postgresql_server.Server) -> Iterator[str]:
    """An empty database of the run's server, the test's own: its DSN."""
    with postgresql.database() as dsn:
        yield dsn


# -- mail: a real SMTP server in this process (aiosmtpd) -------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MailCollector:
    """aiosmtpd handler: keeps every delivered message with its envelope recipients."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.delivered: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd)
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.delivered.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def mail_server() -> Iterator[tuple[Controller, MailCollector]]:
    collector = MailCollector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(),
                            enable_SMTPUTF8=True)     # RFC 6531: international addresses
    controller.start()
    try:
        yield controller, collector
    finally:
        controller.stop()


_LINK = re.compile(r"https?://\S+")


class Inbox:
    """What the test SMTP server received since the test began."""

    def __init__(self, collector: MailCollector, url: str) -> None:
        self._collector = collector
        self.smtp_url = url
        with collector.lock:
            collector.delivered.clear()

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self._collector.lock:
            wanted = unicodedata.normalize("NFKC", to or "").strip().lower()
            return [message for recipients, message in self._collector.delivered
                    if to is None or wanted in map(str.lower, recipients)]

    def last(self, to: str) -> EmailMessage:
        messages = self.messages(to)
        assert messages, f"no mail was delivered to {to}"
        return messages[-1]

    def links(self, to: str) -> list[str]:
        return _LINK.findall(self.last(to).get_content())

    def link(self, to: str) -> str:
        """The first link of the last message to ``to``, as a path and query (test client)."""
        parts = urlsplit(self.links(to)[0])
        return parts.path + ("?" + parts.query if parts.query else "")


def follow_signup_link(session, link: str) -> None:
    """Follow a mailed sign-up link with a ``requests.Session`` (a browser over real HTTP):
    open its page, then confirm there; the session is then signed in."""
    page = session.get(link, timeout=10)
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token, page.text
    base = link.split("/signup/verify", 1)[0]
    confirmed = session.post(base + "/signup/verify", timeout=10, allow_redirects=False,
                             data={"csrf_token": csrf_from(page.text), "token": token.group(1)})
    assert confirmed.status_code == 302, confirmed.text


@pytest.fixture
def inbox(mail_server: tuple[Controller, MailCollector]) -> Inbox:
    controller, collector = mail_server
    return Inbox(collector, f"smtp://{controller.hostname}:{controller.port}")


# -- the web app ------------------------------------------------------------------------------


from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from tests.apps import opened_app  # noqa: E402

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def consent(vault: Vault, vault_home: VaultHome) -> Iterator[Consent]:
    """Consent services on the test vault (every store at its last migration)."""
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
def app(vault_home: VaultHome, clock: FrozenClock, inbox: Inbox) -> Iterator[Flask]:
    """The app on the test home; once the test is done, its pooled store connections and its
    access spool are closed (nothing it opened outlives the test)."""
    with opened_app({
        "TESTING": True,
        **home_settings(vault_home),
        # The Flask test client's host; werkzeug servers on 127.0.0.1 are loopback too.
        "VRMVAULT_PUBLIC_URL": "http://localhost",
        "VRMVAULT_CLOCK": clock,
        "VRMVAULT_SMTP_URL": inbox.smtp_url,     # mail goes through a real SMTP server
        "VRMVAULT_ARGON2_TIME_COST": TEST_HASHING.time_cost,
        "VRMVAULT_ARGON2_MEMORY_KIB": TEST_HASHING.memory_kib,
        "VRMVAULT_ARGON2_PARALLELISM": TEST_HASHING.parallelism,
    }) as made:
        yield made


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
        """Submit the sign-up form (the account exists only once the mailed link is followed:
        see :meth:`verify`)."""
        return self.post("/signup", {"email": email, "password": password})

    def verify(self, link: str):
        """Follow a mailed sign-up link: open the page it leads to, then confirm there."""
        page = self.client.get(link)
        assert page.status_code == 200, page.get_data(as_text=True)
        html = page.get_data(as_text=True)
        token = re.search(r'name="token" value="([^"]+)"', html)
        assert token, "the confirmation page has no token"
        return self.client.post("/signup/verify", data={
            "csrf_token": csrf_from(html), "token": token.group(1)})

    def register(self, inbox: Inbox, email: str = "alice@example.org",
                 password: str = GOOD_PASSWORD):
        """Sign up, read the mail and follow its link: signed in as a new member."""
        response = self.signup(email, password)
        assert response.status_code == 200, response.get_data(as_text=True)
        return self.verify(inbox.link(email))

    def login(self, email: str = "alice@example.org", password: str = GOOD_PASSWORD):
        return self.post("/login", {"email": email, "password": password})

    def logout(self):
        return self.post("/logout", form_page="/member/")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)
