"""Standard Webhooks ``v1a`` signatures: a known answer from the reference implementation,
an independent check, what :func:`verify` refuses, and the published key."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from brand_gateway.webhooks.signing import (
    WebhookSigner,
    WebhookVerificationError,
    verify,
    webhook_public_jwk,
    webhook_public_key,
)
from consent.receipts import DEFAULT_CONTROLLER, ReceiptSigner
from tests.unit.brand_gateway.webhooks.support import independent_verify
from vault.home import Vault


# -- signatures -----------------------------------------------------------------------------------
def test_a_known_answer_from_the_reference_implementation() -> None:
    # The asymmetric signing test of standard-webhooks/standard-webhooks (libraries/go):
    # this seed, id, time and body give this signature.
    seed = base64.b64decode("VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=")
    signer = WebhookSigner(Ed25519PrivateKey.from_private_bytes(seed))
    assert signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}') == (
        "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8"
        "Ag==")


def test_signatures_verify_independently_and_break_on_any_change(signer: WebhookSigner) -> None:
    body = b'{"data":{"subject":"abc"},"type":"member.erased"}'
    headers = signer.headers("0b6f3c1e-2f44-4c1c-9d5e-0d3f3c0b8a11", 1_800_000_000, body)
    key = signer.public_key_text()
    assert independent_verify(headers, body, key)
    assert verify(headers, body, key, now=1_800_000_000) == json.loads(body)
    for index in (0, len(body) // 2, len(body) - 1):
        changed = bytearray(body)
        changed[index] ^= 0x01
        assert not independent_verify(headers, bytes(changed), key)
        with pytest.raises(WebhookVerificationError):
            verify(headers, bytes(changed), key, now=1_800_000_000)
    for name, value in (("webhook-timestamp", "1800000001"), ("webhook-id", "another-id")):
        altered = {**headers, name: value}
        assert not independent_verify(altered, body, key)
        with pytest.raises(WebhookVerificationError, match="no valid v1a signature"):
            verify(altered, body, key, now=1_800_000_000)


def test_verify_refuses_stale_missing_and_foreign(signer: WebhookSigner) -> None:
    body = b"{}"
    headers = signer.headers("an-id", 1_800_000_000, body)
    key = signer.public_key_text()
    assert verify(headers, body, key, now=1_800_000_000 + 300) == {}
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(headers, body, key, now=1_800_000_000 + 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(headers, body, key, now=1_800_000_000 - 301)
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify({k: v for k, v in headers.items() if k != "webhook-signature"}, body, key,
               now=1_800_000_000)
    with pytest.raises(WebhookVerificationError, match="Unix seconds"):
        verify({**headers, "webhook-timestamp": "1.8e9"}, body, key, now=1_800_000_000)
    with pytest.raises(WebhookVerificationError, match="Unix seconds"):     # not a ValueError
        verify({**headers, "webhook-timestamp": "1" * 4_301}, body, key, now=1_800_000_000)
    other = WebhookSigner(Ed25519PrivateKey.generate()).public_key_text()
    with pytest.raises(WebhookVerificationError):
        verify(headers, body, other, now=1_800_000_000)
    # Several signatures, space-separated (key rotation): any valid v1a one is enough.
    several = {**headers, "webhook-signature": "v1,AAAA v1a,!!! " + headers["webhook-signature"]}
    assert verify({k.upper(): v for k, v in several.items()}, body, key,
                  now=1_800_000_000) == {}


def test_the_public_key_as_jwk_and_whpk(vault: Vault, signer: WebhookSigner) -> None:
    jwk = webhook_public_jwk(vault.master)
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwk["kid"] == signer.kid and jwk["kid"].startswith("webhook-")
    receipts = ReceiptSigner(vault.master, controller=DEFAULT_CONTROLLER)
    assert jwk["kid"] != receipts.kid and jwk["x"] != receipts.public_jwk()["x"]
    raw = base64.urlsafe_b64decode(jwk["x"] + "=")
    assert webhook_public_key(vault.master) == "whpk_" + base64.b64encode(raw).decode()
    # The JWK's key checks a signature made by the signer.
    body = b"{}"
    headers = signer.headers("id", 1, body)
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(headers["webhook-signature"][4:]), b"id.1.{}")
    # The same master key gives the same key; another gives another.
    assert WebhookSigner.from_master(vault.master).kid == signer.kid
