"""Browser tests: the real ``vrmvault serve`` on loopback, driven by Debian's Chromium.

Playwright cannot download its own browser on these machines, so it launches /usr/bin/chromium
(installed by ``make test``) with flags that keep it off the (closed) network.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import initialise_home
from tests.processes import stopped
from vault.home import VaultHome
from vault.mail import MaildirMailer

CHROMIUM = os.environ.get("VRMVAULT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
VRMVAULT = str(Path(sys.executable).with_name("vrmvault"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = env or {}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ, VRMVAULT_ARGON2_TIME_COST="2", VRMVAULT_ARGON2_MEMORY_KIB="19456",
                   VRMVAULT_ARGON2_PARALLELISM="1", **self.env)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [VRMVAULT, "--home", str(self.home), "serve", "--port", str(self.port),
                 "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, env=env,
            )
        deadline = time.monotonic() + 60     # a bound, not a wait: a loaded machine is slow
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log.read_text())
            try:
                urllib.request.urlopen(self.url + "/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        stopped(self.process)
        raise RuntimeError("server did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.process is not None:
            stopped(self.process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run 'make test', which installs chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live_home(tmp_path: Path) -> VaultHome:
    home = initialise_home(VaultHome(tmp_path / "var"))
    with home.open() as vault:
        vault.brands.add("Velo Bikes", ("bikes",))
        vault.brands.add("Fresh Grocer", ("groceries",))
    return home


@pytest.fixture
def server(live_home: VaultHome) -> Iterator[LiveServer]:
    live = LiveServer(live_home.root)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def page(browser: Browser, server: LiveServer, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def mailed_link(home: Path, email: str) -> str:
    """The link in the last message the live server wrote to its maildir (``HOME/mail``, the
    default without ``VRMVAULT_SMTP_URL``) for ``email``."""
    messages = [m for _, m in MaildirMailer(home / "mail").messages() if m["To"] == email]
    assert messages, f"no mail for {email} in the maildir"
    body = messages[-1].get_payload(decode=True).decode()
    match = re.search(r"https?://\S+", body)
    assert match, body
    return match.group(0)


def sign_up(page: Page, home: Path, email: str, password: str) -> None:
    """Sign up as a member would: the form, the mail (from the maildir), its link, confirm."""
    page.goto("/signup")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Create my vault").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.goto(mailed_link(home, email))
    page.get_by_role("button", name="Confirm and open my vault").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()


def sign_in_with_code(page: Page, email: str, password: str, secret: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Turning two-step sign-in on spent the code of that moment: the next step's is accepted
    # (one step of drift either way, RFC 6238 sec. 5.2) and never spent yet.
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="My vault")).to_be_visible()


def call_json(url: str, *, headers: dict[str, str], body: bytes | None = None,
              content_type: str = "application/json") -> Any:
    """One request to the served app as a brand's own client makes it (no browser); its JSON."""
    request = urllib.request.Request(url, data=body, headers={
        **headers, **({"Content-Type": content_type} if body is not None else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def brand_bearer(server: LiveServer, client_id: str, secret: str, scope: str) -> dict[str, str]:
    """The Authorization header of a client-credentials token for ``scope`` (RFC 6749 4.4)."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token = call_json(server.url + "/oauth/token", headers={"Authorization": "Basic " + basic},
                      body=urllib.parse.urlencode({"grant_type": "client_credentials",
                                                   "scope": scope}).encode(),
                      content_type="application/x-www-form-urlencoded")["access_token"]
    return {"Authorization": "Bearer " + token}
