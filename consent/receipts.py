"""Consent receipts: one signed document per grant event (given, narrowed, withdrawn, expired,
the brand's access ended, released by the brand, replaced by a newer grant).

A receipt is a JWT (RFC 7519) signed by the vault operator as PII controller, as the Kantara
Consent Receipt Specification v1.1 asks, in JWS compact serialisation (RFC 7515 section 7.1)
with ``alg: EdDSA`` over an Ed25519 key (RFC 8037)::

    header   {"alg": "EdDSA", "kid": "<RFC 7638 thumbprint>", "typ": "JWT"}
    payload  the receipt document below, as UTF-8 JSON with sorted keys

The document is *one* JSON object seen two ways, built from the same checked facts of the
grant event (:mod:`consent.receipt_facts`) in one call and signed together, so they cannot
disagree:

- **Kantara v1.1** (``version`` ... ``spiCat``), the top-level members
  (:mod:`consent.receipt_kantara`);
- **ISO/IEC TS 27560 as profiled by W3C DPV** (``iso27560``), a consent receipt wrapping the
  grant's consent record in JSON-LD (:mod:`consent.receipt_iso27560`).

A receipt issued by the consent service also names where its own ledger entry stands in the
public log, the Kantara extension member ``ledgerPosition`` (:mod:`consent.receipt_position`).

Invariants: the signing key exists only in memory, derived from the master key
(``MasterKey.derive("receipt-signing")``), so the same master key always yields the same key and
``kid``; :meth:`ReceiptSigner.jwks` never holds the private part. Verification accepts exactly
one algorithm, EdDSA, with exactly this Ed25519 key: ``none``, HMAC and every other algorithm are
unknown to its registry. The member appears only as the pseudonymous principal id the caller
gives, never by name or e-mail address; one that looks like an e-mail address is refused.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jws
from joserfc.errors import InvalidKeyCurveError, JoseError
from joserfc.jwk import OKPKey
from joserfc.jws import JWSAlgModel, JWSRegistry

from vault.keys import MasterKey

from .errors import ConsentInputError, PersonalDataError, ReceiptVerificationError
from .model import Grant, GrantEvent
from .receipt_facts import MEMBER_CONSENTS_PATH, ReceiptFacts
from .receipt_iso27560 import iso27560_receipt
from .receipt_kantara import kantara_receipt
from .receipt_position import POSITION_MEMBER, LedgerPosition
from .vocabulary import (
    AGREEMENT_BY_CODE,
    PURPOSE_BY_CODE,
    SENSITIVE_FIELDS,
    expand,
    field_category,
)

SIGNING_KEY_PURPOSE = "receipt-signing"
ALGORITHM = "EdDSA"
TOKEN_TYPE = "JWT"                      # Kantara v1.1: the receipt is a JWT

# Anything shaped like an e-mail address: a principal id must be a pseudonym.
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


# -- the PII controller ----------------------------------------------------------------------
@dataclass(frozen=True)
class PostalAddress:
    street_address: str
    postal_code: str
    locality: str
    country: str                     # ISO 3166-1 alpha-2

    def as_json(self) -> dict[str, str]:
        """schema.org PostalAddress members, as the Kantara example and the DPV guide use."""
        return {"streetAddress": self.street_address, "postalCode": self.postal_code,
                "addressLocality": self.locality, "addressCountry": self.country}


@dataclass(frozen=True)
class Controller:
    """The vault operator as PII controller: who signs receipts and answers for them."""

    name: str
    contact: str                     # a role or person to contact, as Kantara asks
    address: PostalAddress
    email: str                       # the operator's published role address, never a member's
    phone: str
    on_behalf: bool = False          # Kantara onBehalf: acting for another controller
    url: str = "https://vrmvault.example.org"   # the vault's public URL (VRMVAULT_PUBLIC_URL)
    policy_url: str = "https://vrmvault.example.org/privacy"
    storage_location: str = "EU, SQLCipher-encrypted vault"
    storage_region: str = "EU"       # DPV-LOC code of where the vault keeps data

    @property
    def iri(self) -> str:
        return self.url.rstrip("/") + "/"

    @property
    def withdrawal_url(self) -> str:
        return self.url.rstrip("/") + MEMBER_CONSENTS_PATH


#: The demo operator: what receipts name until the operator sets VRMVAULT_CONTROLLER_* (the web
#: layer's settings, web/config.py, which also put the vault's public URL in ``url``).
DEFAULT_CONTROLLER = Controller(
    name="vrmvault (demo operator)",
    contact="Data protection officer, vrmvault demo",
    address=PostalAddress("1 Example Street", "1000", "Example City", "BE"),
    email="privacy@example.org",
    phone="+32 2 000 00 00",
)


# -- the JWS algorithm -------------------------------------------------------------------------
class _Ed25519EdDSA(JWSAlgModel):
    """JWS ``EdDSA`` (RFC 8037 section 3.1) with the Ed25519 curve only.

    RFC 9864 deprecates the polymorphic name ``EdDSA`` because it leaves the curve to the key;
    joserfc's own model warns on every use for that reason. This model fixes the curve (a key
    with any other ``crv`` is refused), which is what the fully specified name ``Ed25519``
    guarantees. The name stays ``EdDSA`` for Kantara consumers and for libraries, Authlib among
    them, that know no other.
    """

    name = ALGORITHM
    description = "EdDSA with the Ed25519 curve (RFC 8037), curve fixed as RFC 9864 asks"
    recommended = True
    key_type = "OKP"

    def check_key(self, key: OKPKey) -> None:
        super().check_key(key)
        if key.curve_name != "Ed25519":
            raise InvalidKeyCurveError(f"'{self.name}' here is Ed25519 only")

    def sign(self, msg: bytes, key: OKPKey) -> bytes:
        private = key.get_op_key("sign")
        if not isinstance(private, Ed25519PrivateKey):
            raise InvalidKeyCurveError(f"'{self.name}' here is Ed25519 only")
        return private.sign(msg)

    def verify(self, msg: bytes, sig: bytes, key: OKPKey) -> bool:
        public = key.get_op_key("verify")
        if not isinstance(public, Ed25519PublicKey):
            raise InvalidKeyCurveError(f"'{self.name}' here is Ed25519 only")
        try:
            public.verify(sig, msg)
        except InvalidSignature:
            return False
        return True


class _ReceiptRegistry(JWSRegistry):
    # Its own algorithm table: the one entry is all this registry can ever sign or verify.
    algorithms: dict[str, JWSAlgModel] = {ALGORITHM: _Ed25519EdDSA()}
    recommended: list[str] = [ALGORITHM]


#: The joserfc registry receipts are signed and verified with: EdDSA over Ed25519 and nothing
#: else. Brands verifying receipts with joserfc can pass it as ``registry=``.
RECEIPT_JWS_REGISTRY: JWSRegistry = _ReceiptRegistry(algorithms=[ALGORITHM])


# -- the signer --------------------------------------------------------------------------------
class ReceiptSigner:
    """Builds, signs and verifies consent receipts with the vault's receipt-signing key."""

    def __init__(self, master: MasterKey, *, controller: Controller) -> None:
        private = Ed25519PrivateKey.from_private_bytes(master.derive(SIGNING_KEY_PURPOSE))
        self.controller = controller
        # RFC 7638 thumbprint (SHA-256) of the public key: a function of the key alone, so it is
        # stable across restarts and changes exactly when the master key does.
        self.kid = OKPKey.import_key(private.public_key()).thumbprint()
        self._key = OKPKey.import_key(private, {"kid": self.kid, "alg": ALGORITHM, "use": "sig"})
        self._public = OKPKey.import_key(self.public_jwk())
        self.public_key_pem = private.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def __repr__(self) -> str:
        return f"ReceiptSigner(kid={self.kid!r})"

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK (RFC 8037 section 2): kty, crv, x, kid, alg, use; no "d"."""
        jwk = dict(self._key.as_dict(private=False))
        jwk.pop("d", None)                    # belt and braces: never publish the private part
        return jwk

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 section 5) for ``/.well-known/jwks.json``."""
        return {"keys": [self.public_jwk()]}

    # -- building ------------------------------------------------------------------------------
    def build(self, grant: Grant, event: GrantEvent, *, at: int, principal_id: str,
              brand_name: str, receipt_id: str | None = None,
              replaces: Sequence[str] = (),
              ledger: LedgerPosition | None = None) -> dict[str, Any]:
        """The receipt document for ``event`` on ``grant`` at ``at`` (UTC seconds).

        ``principal_id`` is the member's pseudonym; ``receipt_id`` a UUID (a fresh UUID4 when
        omitted); ``replaces``: the earlier grants a given grant took the place of (the
        receipt then says so, and its consent is "renewed"); ``ledger``: where the receipt's
        own ledger entry will stand, as the Kantara extension member ``ledgerPosition``
        (consent/receipt_position.py). Raises
        :class:`ConsentInputError` for a grant or input no receipt can describe.
        """
        if _EMAIL.search(principal_id):
            raise PersonalDataError("the principal id must be a pseudonym, not an e-mail address")
        for text in (brand_name, grant.third_party or "", grant.collection_method,
                     grant.jurisdiction):
            if _EMAIL.search(text):
                raise PersonalDataError("receipts name organisations, never e-mail addresses")
        if not principal_id.strip():
            raise ConsentInputError("a receipt needs the member's pseudonymous principal id")
        purpose = PURPOSE_BY_CODE.get(grant.purpose)
        if purpose is None:
            raise ConsentInputError(f"unknown DPV purpose {grant.purpose!r}")
        agreement = AGREEMENT_BY_CODE.get(grant.agreement)
        if agreement is None:
            raise ConsentInputError(f"unknown IEEE 7012 agreement {grant.agreement!r}")
        if grant.onward_sharing and not grant.third_party:
            raise ConsentInputError("onward sharing needs the named third party")
        receipt_id = _receipt_id(receipt_id)
        fields = sorted(grant.covered or expand(grant.fields))
        if not fields:
            raise ConsentInputError("the grant covers no field")

        categories = sorted({field_category(f).code for f in fields})
        special = [f for f in fields if f in SENSITIVE_FIELDS or field_category(f).special]
        starts, ends = grant.starts_at, grant.ends_at
        if event in (GrantEvent.WITHDRAWN, GrantEvent.RELEASED, GrantEvent.REPLACED) \
                and grant.withdrawn_at is not None:
            ends = min(ends, grant.withdrawn_at)
        facts = ReceiptFacts(
            grant=grant, event=event, at=at, principal_id=principal_id, brand_name=brand_name,
            receipt_id=receipt_id, replaces=replaces, purpose=purpose, agreement=agreement,
            fields=fields, categories=categories, special=special,
            special_categories=sorted({field_category(f).code for f in special}),
            starts=starts, ends=ends, service=f"Data shared with {brand_name} through vrmvault",
            controller=self.controller, public_key_pem=self.public_key_pem)
        receipt = kantara_receipt(facts)
        receipt["iso27560"] = iso27560_receipt(facts)
        if ledger is not None:
            receipt[POSITION_MEMBER] = ledger.as_json()
        return receipt

    # -- signing and verifying ---------------------------------------------------------------------
    def sign(self, receipt: dict[str, Any]) -> str:
        """The receipt as a compact JWS (a JWT): EdDSA over Ed25519, with this key's ``kid``."""
        payload = json.dumps(receipt, sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False).encode("utf-8")
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": TOKEN_TYPE}
        return jws.serialize_compact(header, payload, self._key, registry=RECEIPT_JWS_REGISTRY)

    def verify(self, token: str) -> dict[str, Any]:
        """The receipt inside ``token`` once its signature checks out with this vault's key.

        Raises :class:`ReceiptVerificationError` on any failure: not three base64url segments,
        an algorithm other than EdDSA (RFC 8725 section 3.1: the verifier, not the token,
        decides), another ``kid``, a bad signature, or a payload that is not a JSON object.
        """
        try:
            signature = jws.deserialize_compact(token, self._public, registry=RECEIPT_JWS_REGISTRY)
            receipt = json.loads(signature.payload)
        except (JoseError, ValueError, TypeError) as exc:     # json and base64 errors included
            raise ReceiptVerificationError("the consent receipt does not verify") from exc
        header = signature.headers()
        if header.get("kid") != self.kid:
            raise ReceiptVerificationError("the receipt was not signed by this vault's key")
        if header.get("typ") != TOKEN_TYPE:
            raise ReceiptVerificationError("the token is not a consent receipt (typ JWT)")
        if not isinstance(receipt, dict):
            raise ReceiptVerificationError("the receipt payload is not a JSON object")
        return receipt


# -- helpers -----------------------------------------------------------------------------------
def _receipt_id(value: str | None) -> str:
    """Kantara consentReceiptID and ISO receipt id: a UUID, version 4 when we make it."""
    if value is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ConsentInputError("a receipt id is a UUID") from exc
