"""consent.receipts: receipts issued byte for byte as recorded, personal data kept out, the key
derived from the master key, and EdDSA JWTs whose signatures are checked with joserfc (what the
signer uses) and, independently, with Authlib's JOSE code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import authlib.deprecate
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OctKey, OKPKey

from consent.errors import (
    ConsentError,
    ConsentInputError,
    PersonalDataError,
    ReceiptVerificationError,
)
from consent.model import GrantEvent
from consent.receipts import (
    DEFAULT_CONTROLLER,
    RECEIPT_JWS_REGISTRY,
    ReceiptSigner,
)
from tests.unit.consent.receipt_support import (
    AT,
    B64URL,
    BASE_GRANT,
    CASES,
    EMAIL,
    FIXED_MASTER,
    PRINCIPAL,
    build,
    make_grant,
    strings,
)
from vault.keys import MasterKey

with warnings.catch_warnings():     # authlib.jose warns that it is deprecated in favour of joserfc
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebSignature, JsonWebToken
    from authlib.jose.errors import JoseError as AuthlibJoseError



@pytest.fixture(scope="module")
def master() -> MasterKey:
    return FIXED_MASTER


@pytest.fixture(scope="module")
def signer(master: MasterKey) -> ReceiptSigner:
    return ReceiptSigner(master, controller=DEFAULT_CONTROLLER)


# -- the receipt as issued ----------------------------------------------------------------------
ISSUED = Path(__file__).with_name("receipts_issued.json")
FIXED_RECEIPT_ID = "3f1c2b1e-8a44-4c1a-9a3e-6c1f0e7b2d10"
REPLACED = ("grant_aaaabbbbccccddddeeeeffff", "grant_000011112222333344445555")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_receipts_are_issued_byte_for_byte_as_recorded(signer: ReceiptSigner) -> None:
    """Fixed inputs give exactly the receipts recorded in ``receipts_issued.json``: the signed
    token (Ed25519 signatures are deterministic) and the document with its members in order.
    What members and brands hold must not change by accident; re-record only on purpose."""
    cases: dict[str, tuple[str, GrantEvent, tuple[str, ...]]] = {
        f"{variant}/{event.value}": (variant, event, ()) for variant, event in CASES}
    cases["replacing/given"] = ("plain", GrantEvent.GIVEN, REPLACED)
    recorded = json.loads(ISSUED.read_text())
    assert set(recorded) == set(cases)
    for name, (variant, event, replaces) in cases.items():
        document = build(signer, event, variant, receipt_id=FIXED_RECEIPT_ID,
                         replaces=list(replaces))
        assert sha256_hex(json.dumps(document, ensure_ascii=False)) == \
            recorded[name]["document_sha256"], name
        assert sha256_hex(signer.sign(document)) == recorded[name]["token_sha256"], name


# -- personal data -----------------------------------------------------------------------------
def test_the_principal_is_the_pseudonym_and_no_member_email_appears(
        signer: ReceiptSigner) -> None:
    for variant, event in CASES:
        receipt = build(signer, event, variant)
        assert receipt["piiPrincipalId"] == PRINCIPAL
        text = json.dumps(receipt)
        assert BASE_GRANT.member_id not in text
        # The only address is the operator's published role address the schema requires.
        found = {m for s in strings(receipt) for m in EMAIL.findall(s)}
        assert found == {DEFAULT_CONTROLLER.email}


@pytest.mark.parametrize(("changes", "error"), [
    ({"principal_id": "alice@example.org"}, PersonalDataError),
    ({"brand_name": "sales@velo.example"}, PersonalDataError),
    ({"principal_id": "  "}, ConsentInputError)])
def test_email_addresses_and_blank_principals_are_refused(
        signer: ReceiptSigner, changes: dict[str, str], error: type[Exception]) -> None:
    kwargs: dict[str, Any] = {"principal_id": PRINCIPAL, "brand_name": "Velo Bikes"} | changes
    with pytest.raises(error):
        signer.build(BASE_GRANT, GrantEvent.GIVEN, at=AT, **kwargs)


@pytest.mark.parametrize("changes", [
    {"purpose": "dpv:Nonsense"}, {"agreement": "NO-SUCH-TERM"}, {"fields": frozenset()},
    {"onward_sharing": True, "third_party": None}])
def test_grants_no_receipt_can_describe_are_refused(
        signer: ReceiptSigner, changes: dict[str, Any]) -> None:
    with pytest.raises(ConsentInputError):
        signer.build(make_grant(**changes), GrantEvent.GIVEN, at=AT, principal_id=PRINCIPAL,
                     brand_name="Velo Bikes")


def test_the_receipt_id_is_a_uuid(signer: ReceiptSigner) -> None:
    chosen = "3f1c2b1e-8a44-4c1a-9a3e-6c1f0e7b2d10"
    assert build(signer, receipt_id=chosen)["consentReceiptID"] == chosen
    with pytest.raises(ConsentInputError):
        build(signer, receipt_id="receipt-1")


# -- the key -----------------------------------------------------------------------------------
def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_key_is_derived_from_the_master_key(master: MasterKey, signer: ReceiptSigner) -> None:
    expected = Ed25519PrivateKey.from_private_bytes(master.derive("receipt-signing"))
    raw = expected.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = signer.jwks()["keys"][0]
    assert b64url_decode(jwk["x"]) == raw
    published = load_pem_public_key(build(signer)["publicKey"].encode())
    assert published.public_bytes(Encoding.Raw, PublicFormat.Raw) == raw


def test_the_jwks_is_public_only(master: MasterKey, signer: ReceiptSigner) -> None:
    jwks = signer.jwks()
    assert list(jwks) == ["keys"] and len(jwks["keys"]) == 1
    jwk = jwks["keys"][0]
    seed = base64.urlsafe_b64encode(master.derive("receipt-signing")).rstrip(b"=").decode()
    assert "d" not in jwk and '"d"' not in json.dumps(jwks) and seed not in json.dumps(jwks)
    assert {k: jwk[k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"}
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert repr(signer) == f"ReceiptSigner(kid={signer.kid!r})"


def test_the_kid_is_the_rfc7638_thumbprint_and_stable(master: MasterKey,
                                                      signer: ReceiptSigner) -> None:
    jwk = signer.jwks()["keys"][0]
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]},
                           separators=(",", ":"), sort_keys=True).encode()
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=")
    assert jwk["kid"] == signer.kid == thumbprint.decode()
    restarted = ReceiptSigner(MasterKey(bytes(range(32))), controller=DEFAULT_CONTROLLER)
    assert restarted.kid == signer.kid
    assert restarted.verify(signer.sign(build(signer)))["piiPrincipalId"] == PRINCIPAL
    other = ReceiptSigner(MasterKey(bytes(range(1, 33))), controller=DEFAULT_CONTROLLER)
    assert other.kid != signer.kid


# -- signing and verifying ---------------------------------------------------------------------
def authlib_verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify with Authlib alone, from the published JWKS."""
    key = JsonWebKey.import_key(jwks["keys"][0])
    result = JsonWebSignature(algorithms=["EdDSA"]).deserialize_compact(token, key)
    assert result["header"]["alg"] == "EdDSA"
    return json.loads(result["payload"])


def joserfc_verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify with joserfc's public API from the JWKS (not through ReceiptSigner)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)     # RFC 9864 note on "EdDSA"
        signature = jws.deserialize_compact(token, OKPKey.import_key(jwks["keys"][0]),
                                            algorithms=["EdDSA"])
    return json.loads(signature.payload)


@pytest.fixture(scope="module")
def token(signer: ReceiptSigner) -> str:
    return signer.sign(build(signer, variant="onward-sharing"))


def test_a_signed_receipt_is_an_eddsa_jwt(signer: ReceiptSigner, token: str) -> None:
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}
    receipt = build(signer, variant="onward-sharing",
                    receipt_id=signer.verify(token)["consentReceiptID"])
    assert signer.verify(token) == receipt


def test_both_libraries_verify_the_signature(signer: ReceiptSigner, token: str) -> None:
    receipt = signer.verify(token)
    assert joserfc_verify(token, signer.jwks()) == receipt
    assert authlib_verify(token, signer.jwks()) == receipt
    key = JsonWebKey.import_key(signer.jwks()["keys"][0])
    assert dict(JsonWebToken(["EdDSA"]).decode(token, key)) == receipt


def flip(token: str, position: int) -> str:
    """Change the character at ``position`` so that the decoded bits change too: the top bit of
    its 6-bit value (low bits of a segment's last character may be padding, which lenient
    base64url decoders ignore), or a "." into a letter."""
    char = token[position]
    replacement = "A" if char == "." else B64URL[B64URL.index(char) ^ 0b100000]
    return token[:position] + replacement + token[position + 1:]


def test_any_changed_character_fails_in_both_libraries(signer: ReceiptSigner) -> None:
    small = signer.sign(build(signer, receipt_id="3f1c2b1e-8a44-4c1a-9a3e-6c1f0e7b2d10"))
    jwks = signer.jwks()
    for position in range(len(small)):
        altered = flip(small, position)
        with pytest.raises(ReceiptVerificationError):
            signer.verify(altered)
        with pytest.raises(AuthlibJoseError):
            authlib_verify(altered, jwks)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_other_character_anywhere_fails_verification(data: st.DataObject) -> None:
    signer = ReceiptSigner(MasterKey(bytes(range(32))), controller=DEFAULT_CONTROLLER)
    token = signer.sign({"consentReceiptID": "3f1c2b1e-8a44-4c1a-9a3e-6c1f0e7b2d10"})
    position = data.draw(st.integers(0, len(token) - 1))
    char = data.draw(st.characters().filter(lambda c: c != token[position]))
    with pytest.raises(ReceiptVerificationError):
        signer.verify(token[:position] + char + token[position + 1:])


def test_the_last_signature_character_is_checked_strictly(signer: ReceiptSigner,
                                                          token: str) -> None:
    # Ed25519 signatures are 64 bytes: 86 base64url characters, the last one carrying 4 unused
    # bits. Our verifier refuses every other spelling, not only those that change the bytes.
    for char in B64URL:
        if char != token[-1]:
            with pytest.raises(ReceiptVerificationError):
                signer.verify(token[:-1] + char)


def forge(signer: ReceiptSigner, master: MasterKey, header: dict[str, Any],
          payload: bytes) -> str:
    """A token signed with the vault's real receipt key, with any header and payload."""
    key = OKPKey.import_key(
        Ed25519PrivateKey.from_private_bytes(master.derive("receipt-signing")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return jws.serialize_compact(header, payload, key, algorithms=["EdDSA"])


def test_other_algorithms_kids_types_and_payloads_are_refused(
        signer: ReceiptSigner, master: MasterKey, token: str) -> None:
    payload = b64url_decode(token.split(".")[1])
    public_x = b64url_decode(signer.jwks()["keys"][0]["x"])
    # HS256 keyed with the public key, the classic algorithm confusion, with our kid.
    hs256 = jws.serialize_compact({"alg": "HS256", "kid": signer.kid, "typ": "JWT"}, payload,
                                  OctKey.import_key(public_x + b"\0" * 32),
                                  algorithms=["HS256"])
    none = (base64.urlsafe_b64encode(b'{"alg":"none","kid":"%s","typ":"JWT"}'
                                     % signer.kid.encode()).rstrip(b"=").decode()
            + "." + token.split(".")[1] + ".")
    for forged in (
        hs256, none,
        forge(signer, master, {"alg": "EdDSA", "kid": "someone-else", "typ": "JWT"}, payload),
        forge(signer, master, {"alg": "EdDSA", "kid": signer.kid, "typ": "JOSE"}, payload),
        forge(signer, master, {"alg": "EdDSA", "kid": signer.kid}, payload),
        forge(signer, master, {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}, b"[1, 2]"),
        forge(signer, master, {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}, b"not json"),
    ):
        with pytest.raises(ReceiptVerificationError) as caught:
            signer.verify(forged)
        assert caught.value.status == 400 and isinstance(caught.value, ConsentError)


def test_a_receipt_from_another_key_with_our_kid_is_refused(signer: ReceiptSigner,
                                                            token: str) -> None:
    stranger = ReceiptSigner(MasterKey(bytes(range(1, 33))), controller=DEFAULT_CONTROLLER)
    theirs = stranger.sign(signer.verify(token))
    with pytest.raises(ReceiptVerificationError):
        signer.verify(theirs)                                   # their kid
    _, payload, signature = theirs.split(".")
    our_kid = base64.urlsafe_b64encode(json.dumps(
        {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}).encode()).rstrip(b"=").decode()
    with pytest.raises(ReceiptVerificationError):
        signer.verify(f"{our_kid}.{payload}.{signature}")       # our kid, their signature


def test_the_registry_knows_eddsa_over_ed25519_only(token: str) -> None:
    assert set(RECEIPT_JWS_REGISTRY.algorithms) == {"EdDSA"}
    ed448 = OKPKey.generate_key("Ed448", {"alg": "EdDSA", "use": "sig"})
    with pytest.raises(JoseError):
        jws.serialize_compact({"alg": "EdDSA"}, b"{}", ed448, registry=RECEIPT_JWS_REGISTRY)
    with pytest.raises(JoseError):
        jws.deserialize_compact(token, ed448, registry=RECEIPT_JWS_REGISTRY)
    with pytest.raises(JoseError):
        jws.serialize_compact({"alg": "HS256"}, b"{}", OctKey.generate_key(256),
                              registry=RECEIPT_JWS_REGISTRY)


@pytest.mark.parametrize("garbage", [
    "", "abc", "a.b", "a.b.c", "a.b.c.d", "é.é.é", "\ud800.x.y", " ", "..", "..."])
def test_garbage_is_refused(signer: ReceiptSigner, garbage: str) -> None:
    with pytest.raises(ReceiptVerificationError):
        signer.verify(garbage)
