"""A brand's whole journey against the real ``vrmvault serve``, with an independent OAuth client.

The brand is registered with the real CLI (``vrmvault brand create``, ``vrmvault webhooks add``)
and plays its part with Authlib's ``OAuth2Session`` (PKCE S256, ``state``,
``authorization_details``); its redirect target and webhook endpoint are a small HTTP server on
loopback (:class:`BrandReceiver`). The member plays theirs in headless Chromium: terms, the
consent screen (one field unticked), a withdrawal on the Sharing page, the account's deletion.
The brand's reads go to ``/api/v1/member/profile``; the withdrawal and the erasure reach it as
Standard Webhooks ``v1a`` deliveries from the delivery loop ``serve`` runs in the background,
checked with the key ``vrmvault webhooks key`` prints and with the JWK ``/.well-known/jwks.json``
serves (RFC 6749 sec. 4.1, RFC 7636, RFC 9207, RFC 9396, RFC 6750 sec. 3.1, GDPR Art. 19).
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from playwright.sync_api import Page, expect

from brand_gateway.errors import WebhookVerificationError
from brand_gateway.webhooks.signing import verify
from vault.home import VaultHome

from .conftest import VRMVAULT, LiveServer, sign_up

pytestmark = pytest.mark.browser

EMAIL = "journey.member@example.org"
PASSWORD = "lantern orchard velvet compass"
BRAND = "Cadence Cycles"
PURPOSE = "dpv:ServiceProvision"
DETAILS: list[dict[str, Any]] = [{"type": "vrmvault-member-data", "purpose": PURPOSE,
                                  "datatypes": ["given_name", "city", "country"]}]
PROFILE = {"given_name": "Robin", "city": "Utrecht", "country": "NL"}
UNTICKED = "country"
# serve's delivery loop passes every 10 s (web.server.WEBHOOK_INTERVAL): two passes, with room
# for a loaded machine (a bound on a wait for the delivery, never a sleep).
DELIVERY_WAIT = 60.0


# -- the brand's side -------------------------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    """One webhook POST as the receiver got it: lower-cased headers, the body byte for byte."""

    headers: dict[str, str]
    body: bytes

    @property
    def type(self) -> str:
        return str(json.loads(self.body)["type"])


class BrandReceiver:
    """The brand's web server on loopback: its OAuth redirect target (``/callback``) and its
    webhook endpoint (``/webhook``). Records what arrives; waits on a condition, never sleeps."""

    def __init__(self) -> None:
        self.callbacks: list[str] = []
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if urlsplit(self.path).path != "/callback":
                    self.send_error(404)
                    return
                with receiver._changed:
                    receiver.callbacks.append(self.path)
                    receiver._changed.notify_all()
                self._answer(200, b"<!doctype html><title>Brand</title><h1>Thank you</h1>",
                             "text/html")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/webhook":
                    self.send_error(404)
                    return
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._changed:
                    receiver.deliveries.append(Delivery(headers, body))
                    receiver._changed.notify_all()
                self._answer(204, b"", "text/plain")

            def _answer(self, status: int, body: bytes, mimetype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", mimetype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reports what matters; no access log on stderr."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_for(self, event_type: str, timeout: float = DELIVERY_WAIT) -> Delivery:
        """The first delivery of ``event_type``, waiting at most ``timeout`` seconds for it."""
        def found() -> Delivery | None:
            return next((d for d in self.deliveries if d.type == event_type), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout=timeout):
                seen = [d.type for d in self.deliveries]
                raise AssertionError(f"no {event_type} webhook within {timeout:g} s; got {seen}")
            delivery = found()
        assert delivery is not None
        return delivery


@pytest.fixture
def receiver() -> Iterator[BrandReceiver]:
    started = BrandReceiver()
    started.start()
    yield started
    started.stop()


def vrmvault(home: Path, *args: str) -> str:
    """Run the real CLI against the live server's home; its stdout."""
    done = subprocess.run([VRMVAULT, "--home", str(home), *args], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, f"vrmvault {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def standard_webhooks_v1a(delivery: Delivery, key: Ed25519PublicKey) -> dict[str, Any]:
    """The check a brand's receiver makes, written from the Standard Webhooks spec alone:
    one ``v1a,<base64>`` Ed25519 signature over ``{id}.{timestamp}.{body}``."""
    headers = delivery.headers
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + delivery.body
    signatures = [item.partition(",")[2] for item in headers["webhook-signature"].split(" ")
                  if item.startswith("v1a,")]
    assert signatures, headers["webhook-signature"]
    key.verify(base64.b64decode(signatures[0]), signed)       # raises InvalidSignature
    return dict(json.loads(delivery.body))


def ed25519_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    """RFC 8037 sec. 2: an OKP key's ``x`` is the raw public key, base64url without padding."""
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519") and "d" not in jwk
    x = jwk["x"]
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))


def query_of(path: str) -> dict[str, str]:
    values = parse_qs(urlsplit(path).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in values.values()), values
    return {k: v[0] for k, v in values.items()}


# -- the member's side ------------------------------------------------------------------------
def sign_up_and_prepare(page: Page, home: Path) -> None:
    """A new member (signed up through the mailed link) fills in a profile and sets terms a
    brand's request can meet."""
    sign_up(page, home, EMAIL, PASSWORD)

    page.get_by_role("navigation").get_by_role("link", name="Profile").click()
    page.get_by_label("Given name").fill(PROFILE["given_name"])
    page.get_by_label("City").fill(PROFILE["city"])
    page.get_by_label("Country").fill(PROFILE["country"])
    page.get_by_role("button", name="Save my profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="My terms").click()
    page.get_by_label("The term I offer brands").select_option("SD-BASE")
    page.locator(f'input[name="purposes"][value="{PURPOSE}"]').check()
    page.get_by_label("Longest grant I allow, in days").fill("90")
    page.get_by_role("button", name="Save my terms").click()
    expect(page.get_by_text("Your terms are saved.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def member_id_of(home: VaultHome) -> str:
    with home.open() as vault:
        rows = vault.data.all("SELECT id FROM members")
    assert len(rows) == 1
    return str(rows[0]["id"])


# -- the journey ------------------------------------------------------------------------------
def test_a_brand_reads_what_was_shared_until_withdrawn_and_hears_of_the_erasure(
        page: Page, server: LiveServer, live_home: VaultHome, receiver: BrandReceiver) -> None:
    home = live_home.root
    callback = receiver.url + "/callback"

    # The operator registers the brand and its webhook endpoint with the CLI.
    registered = json.loads(vrmvault(home, "brand", "create", "--name", BRAND,
                                     "--redirect-uri", callback, "--category", "bicycles"))
    client_id, client_secret = registered["client_id"], registered["client_secret"]
    assert "Added webhook endpoint" in vrmvault(home, "webhooks", "add", client_id,
                                                receiver.url + "/webhook")
    key_lines = vrmvault(home, "webhooks", "key").split("\n", 1)
    whpk, key_jwk = key_lines[0].strip(), json.loads(key_lines[1])
    assert whpk.startswith("whpk_") and "d" not in key_jwk

    # The brand discovers the server (RFC 8414) and the webhook key it publishes.
    metadata = requests.get(server.url + "/.well-known/oauth-authorization-server",
                            timeout=10).json()
    assert metadata["issuer"] == server.url
    jwks = requests.get(server.url + "/.well-known/jwks.json", timeout=10).json()
    [served_jwk] = [k for k in jwks["keys"] if k.get("kid") == key_jwk["kid"]]
    assert served_jwk == key_jwk

    sign_up_and_prepare(page, home)
    member_id = member_id_of(live_home)

    # The brand asks, with Authlib's client: PKCE S256, state, authorization_details.
    verifier = secrets.token_urlsafe(64)
    brand = OAuth2Session(client_id, client_secret, redirect_uri=callback,
                          code_challenge_method="S256",
                          token_endpoint_auth_method="client_secret_basic")
    url, state = brand.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier,
        authorization_details=json.dumps(DETAILS))
    assert "code_challenge_method=S256" in url and verifier not in url

    # The member, signed out, follows it: signs in, comes back to the consent screen.
    page.goto(url)
    expect(page.get_by_text(f"Sign in, or create a vault, to answer the request from {BRAND}.")
           ).to_be_visible()
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"{BRAND} asks to see some of your data")
           ).to_be_visible()
    expect(page.get_by_label("Given name")).to_be_checked()
    expect(page.get_by_label("City")).to_be_checked()
    page.get_by_label("Country").uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(callback + "?**")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    [returned] = receiver.callbacks
    params = query_of(returned)
    assert params["state"] == state
    assert params["iss"] == metadata["issuer"]          # RFC 9207: the brand checks this
    assert set(params) == {"code", "state", "iss"}

    # The brand exchanges the code and reads what was shared.
    with brand:
        token = brand.fetch_token(metadata["token_endpoint"],
                                  authorization_response=receiver.url + returned,
                                  code_verifier=verifier, state=state)
        assert token["token_type"] == "Bearer"
        [granted] = token["authorization_details"]
        assert (granted["purpose"], granted["datatypes"]) == (PURPOSE, ["given_name", "city"])
        profile_url = server.url + "/api/v1/member/profile"
        asked = {"fields": "given_name,city,country"}
        read = brand.get(profile_url, params=asked, timeout=10)
        assert read.status_code == 200, read.text
        shared = read.json()
        assert shared["purpose"] == PURPOSE
        assert shared["profile"] == {"given_name": "Robin", "city": "Utrecht"}
        assert shared["withheld"] == [UNTICKED]
        subject = shared["subject"]
        assert subject and member_id not in subject

        # The member, back in the vault, withdraws the grant on the Sharing page.
        page.goto("/")
        page.get_by_role("navigation").get_by_role("link", name="Sharing").click()
        grant = page.locator(f"li#{granted['grant_id']}")
        expect(grant).to_contain_text(BRAND)
        grant.get_by_role("button", name=f"Withdraw grant to {BRAND}").click()
        expect(page.get_by_text("Withdrawn. The brand can no longer see this data")
               ).to_be_visible()

        # The brand's very next read fails (RFC 6750 sec. 3.1).
        refused = brand.get(profile_url, params=asked, timeout=10)
        assert refused.status_code == 401, refused.text
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]

    withdrawn = receiver.wait_for("consent.withdrawn")
    assert verify(withdrawn.headers, withdrawn.body, whpk)["data"] == {
        "subject": subject, "grant": granted["grant_id"], "purpose": PURPOSE}

    # The member deletes the account; the brand is told to erase its copies (GDPR Art. 19).
    page.get_by_role("navigation").get_by_role("link", name="My vault").click()
    page.get_by_role("link", name="Delete my account…").click()
    page.get_by_label("I understand").check()
    page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and all my data").click()
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()

    erased = receiver.wait_for("member.erased")
    assert erased.headers["content-type"] == "application/json"
    assert erased.headers["webhook-id"] != withdrawn.headers["webhook-id"]
    event = verify(erased.headers, erased.body, whpk)
    assert standard_webhooks_v1a(erased, ed25519_from_jwk(served_jwk)) == event
    assert event["type"] == "member.erased"
    assert event["data"] == {"subject": subject, "grants": [granted["grant_id"]]}
    raw = erased.body.decode()
    assert EMAIL not in raw and member_id not in raw and "@" not in raw

    # A body changed in transit does not verify, with either key form.
    forged = Delivery(erased.headers, erased.body.replace(subject.encode(), b"someone-else"))
    with pytest.raises(WebhookVerificationError):
        verify(forged.headers, forged.body, whpk)
    with pytest.raises(InvalidSignature):
        standard_webhooks_v1a(forged, ed25519_from_jwk(served_jwk))
