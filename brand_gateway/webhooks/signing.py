"""The vault's webhook key and the Standard Webhooks signature (https://www.standardwebhooks.com).

Wire format: ``POST`` of a minified JSON body ``{"type", "timestamp", "data"}`` with the headers
``webhook-id`` (the event's UUID: the brand's idempotency key, the same on every retry),
``webhook-timestamp`` (Unix seconds of the attempt) and ``webhook-signature``:
``v1a,<base64 Ed25519 signature of "{webhook-id}.{webhook-timestamp}.{body}">``. The asymmetric
scheme ``v1a`` needs no secret shared with the brand: one key pair, derived from the master key
(``master.derive("webhook-signing")``), whose public half is published as a JWK and in the
spec's ``whpk_`` form. :func:`verify` is what a brand's receiver does.

Invariants:
- The private key is derived, never stored, printed or published; only its public half leaves.
- The signature covers the body byte for byte, with the event id and the attempt's timestamp.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import OKPKey

from vault.keys import MasterKey

from ..errors import WebhookVerificationError

SIGNING_PURPOSE = "webhook-signing"
SIGNATURE_VERSION = "v1a"                 # Standard Webhooks: asymmetric (Ed25519)
PUBLIC_KEY_PREFIX = "whpk_"
TIMESTAMP_TOLERANCE = 5 * 60              # what a receiver accepts either side of its clock



def signed_content(msg_id: str, timestamp: str, body: bytes) -> bytes:
    """What is signed: ``{webhook-id}.{webhook-timestamp}.{body}``, the body byte for byte."""
    return f"{msg_id}.{timestamp}.".encode() + body


class WebhookSigner:
    """Signs deliveries with the vault's webhook key (Ed25519, Standard Webhooks ``v1a``)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key = private_key.public_key()
        # An RFC 7638 thumbprint, prefixed so the key is told apart in a shared JWK Set.
        self.kid = "webhook-" + OKPKey.import_key(self.public_key).thumbprint()

    @classmethod
    def from_master(cls, master: MasterKey) -> WebhookSigner:
        return cls(Ed25519PrivateKey.from_private_bytes(master.derive(SIGNING_PURPOSE)))

    def __repr__(self) -> str:
        return f"WebhookSigner(kid={self.kid!r})"

    def sign(self, msg_id: str, timestamp: int, body: bytes) -> str:
        signature = self._private.sign(signed_content(msg_id, str(timestamp), body))
        return f"{SIGNATURE_VERSION},{base64.b64encode(signature).decode('ascii')}"

    def headers(self, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
                "webhook-signature": self.sign(msg_id, timestamp, body)}

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK (RFC 8037 sec. 2) with its own ``kid``; never ``d``."""
        jwk = dict(OKPKey.import_key(self.public_key, {"kid": self.kid, "alg": "EdDSA",
                                                       "use": "sig"}).as_dict(private=False))
        jwk.pop("d", None)
        return jwk

    def public_key_text(self) -> str:
        """The public key in the spec's serialisation: ``whpk_`` and base64 of its 32 bytes."""
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def webhook_public_jwk(master: MasterKey) -> dict[str, Any]:
    """The webhook verification key as a JWK, for ``/.well-known/jwks.json``."""
    return WebhookSigner.from_master(master).public_jwk()


def webhook_public_key(master: MasterKey) -> str:
    """The webhook verification key as ``whpk_…``, to hand to brands."""
    return WebhookSigner.from_master(master).public_key_text()


def verify(headers: Mapping[str, str], body: bytes | str, public_key: str | Ed25519PublicKey,
           *, now: float | None = None, tolerance: int = TIMESTAMP_TOLERANCE) -> Any:
    """Check a delivery as a brand's receiver would; the parsed JSON body if it is genuine.

    ``public_key`` is the vault's key as ``whpk_…`` (or a key object). The timestamp must be
    within ``tolerance`` seconds of ``now`` (replays), and one ``v1a`` signature in the header
    must verify over the exact body bytes; :class:`WebhookVerificationError` otherwise.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise WebhookVerificationError("missing webhook headers")
    # At most 12 digits (the year 33658): int() refuses over 4,300 with a ValueError.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise WebhookVerificationError("the webhook timestamp is not Unix seconds")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise WebhookVerificationError("the webhook timestamp is outside the tolerance")
    key = _public_key(public_key)
    data = body.encode() if isinstance(body, str) else body
    content = signed_content(msg_id, timestamp, data)
    for item in signatures.split(" "):
        version, _, encoded = item.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        try:
            key.verify(base64.b64decode(encoded, validate=True), content)
        except (binascii.Error, ValueError, InvalidSignature):
            continue
        return json.loads(data)
    raise WebhookVerificationError("no valid v1a signature")


def _public_key(key: str | Ed25519PublicKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    if not key.startswith(PUBLIC_KEY_PREFIX):
        raise ValueError("a webhook public key starts with whpk_")
    try:
        return Ed25519PublicKey.from_public_bytes(
            base64.b64decode(key[len(PUBLIC_KEY_PREFIX):], validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not an Ed25519 public key in whpk_ form") from exc
