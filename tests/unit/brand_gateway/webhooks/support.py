"""What the webhook tests share: a brand's receiver (a real HTTP server on loopback), a
signature check written from the Standard Webhooks specification rather than from the code under
test, and small factories for brands, grants and dispatchers.

The ``standardwebhooks`` package on PyPI (1.1.0) verifies only the symmetric ``v1`` scheme, so
signatures are checked with ``cryptography`` directly (:func:`independent_verify`).
"""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from brand_gateway.clients import ClientRegistry, OAuthClient
from brand_gateway.storage import webhook_dispatcher
from brand_gateway.webhooks.delivery import HttpResult, WebhookDispatcher
from brand_gateway.webhooks.signing import WebhookSigner
from consent.context import Consent
from consent.grants import BrandRequest
from consent.model import Grant
from consent.vocabulary import PURPOSES
from vault.clock import FrozenClock
from vault.home import Vault

ALL_PURPOSES = frozenset(p.code for p in PURPOSES)
EMAIL = "alice@example.org"


# -- helpers: an independent verifier and a real receiver -----------------------------------------
def independent_verify(headers: dict[str, str], body: bytes, public_key: str) -> bool:
    """Standard Webhooks v1a, from the specification: Ed25519 over ``id.timestamp.body``."""
    assert public_key.startswith("whpk_")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key[5:]))
    content = b".".join([headers["webhook-id"].encode(), headers["webhook-timestamp"].encode(),
                         body])
    for signature in headers["webhook-signature"].split(" "):
        version, _, value = signature.partition(",")
        if version == "v1a":
            try:
                key.verify(base64.b64decode(value), content)
            except InvalidSignature:
                return False
            return True
    return False


class Receiver:
    """A brand's webhook endpoint: an HTTP server on 127.0.0.1 in a thread, recording what it
    is sent and answering with ``statuses`` in turn (the last one repeats)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = [204]
        self.extra_headers: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                receiver.requests.append({
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.rfile.read(length)})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 \
                    else receiver.statuses[0]
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads what was received, not the server's log."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/vrmvault"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def make_brand(registry: ClientRegistry, name: str = "Velo Bikes") -> OAuthClient:
    slug = name.lower().replace(" ", "-")
    client, _ = registry.create(name, [f"https://{slug}.example/cb"], ["bicycles"])
    return client


def give_grant(consent: Consent, member_id: str, brand_id: str,
               purpose: str = "dpv:Personalisation", days: int = 30) -> Grant:
    consent.terms.update(member_id, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                         max_days=365, aggregate_allowed=True)
    if consent.agreements.in_force(member_id, brand_id) is None:
        offer = consent.agreements.proffer(member_id, brand_id)
        consent.agreements.brand_accepts(offer.id, brand_id)
    grant, _ = consent.grants.grant(member_id, BrandRequest(
        brand_id, purpose, frozenset({"given_name", "category:interests"}), days=days))
    return grant


def outbox(vault: Vault) -> list[Any]:
    return vault.data.all("SELECT * FROM webhook_outbox ORDER BY id")


def dispatcher(vault: Vault, clock: FrozenClock, **options: Any) -> WebhookDispatcher:
    return webhook_dispatcher(database=vault.data, signer=WebhookSigner.from_master(vault.master),
                             clock=clock, **options)


class FakeSender:
    """Answers with ``results`` in turn (the last one repeats); an exception is raised."""

    def __init__(self, *results: HttpResult | Exception) -> None:
        self.results = list(results)
        self.calls: list[tuple[str, bytes, dict[str, str], float]] = []

    def __call__(self, url: str, body: bytes, headers: Any, timeout: float) -> HttpResult:
        self.calls.append((url, body, dict(headers), timeout))
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, Exception):
            raise result
        return result
