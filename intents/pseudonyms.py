"""Per-intent pseudonyms: how one brand knows one intent.

``pseudonym = "i-" + base64url(AES-SIV(K).encrypt(num, [brand_id]))`` (RFC 5297, deterministic
authenticated encryption), ``num`` the intent's 8-byte row number, ``K`` 64 bytes (AES-SIV-256)
expanded by HKDF from ``master.derive("intent-pseudonym")`` (the master key's subkeys are 32
bytes). So:

- one brand always sees one intent under the same name (its offers point at it), and only the
  vault can open the name again, without a table of names;
- two intents of one member share nothing, nor one intent across two brands (the brand is the
  associated data: another brand's name does not open, so it is a 404, not another intent);
- the name is unrelated to the member's pairwise pseudonym (``pairwise-pseudonym``), the
  community pseudonyms and the ledger's: a brand cannot join an intent to a member it knows.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

PURPOSE = "intent-pseudonym"
PREFIX = "i-"
SEALED_LENGTH = 32          # 16-byte synthetic IV + 8-byte num, base64url unpadded


class SealedNumbers:
    """A row number sealed by AES-SIV-256 (its key expanded by HKDF from ``subkey`` with
    ``info``) and bound to associated data: base64url, unpadded, ``SEALED_LENGTH`` characters.
    Deterministic: one number and one binding always seal alike. The pseudonyms here and the
    listing's cursors (intents/cursors.py) are made with it, each under a key of its own."""

    def __init__(self, subkey: bytes, info: bytes) -> None:
        key = HKDFExpand(algorithm=hashes.SHA256(), length=64, info=info).derive(subkey)
        self._siv = AESSIV(key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<key>)"

    def seal(self, num: int, bound: str) -> str:
        sealed = self._siv.encrypt(num.to_bytes(8, "big"), [bound.encode()])
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, text: str, bound: str) -> int | None:
        """The number ``text`` seals for ``bound``, or ``None``."""
        if not isinstance(text, str) or len(text) != SEALED_LENGTH:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "==")
            return int.from_bytes(self._siv.decrypt(raw, [bound.encode()]), "big")
        except (ValueError, InvalidTag):
            return None


class IntentPseudonyms:
    def __init__(self, subkey: bytes) -> None:
        self._numbers = SealedNumbers(subkey, b"vrmvault/v1/intent-pseudonym/aes-siv-256")

    def __repr__(self) -> str:
        return "IntentPseudonyms(<key>)"

    def name(self, num: int, brand_id: str) -> str:
        return PREFIX + self._numbers.seal(num, brand_id)

    def open(self, pseudonym: str, brand_id: str) -> int | None:
        """The intent's num, or ``None`` for a name this brand was never given."""
        if not isinstance(pseudonym, str) or not pseudonym.startswith(PREFIX):
            return None
        return self._numbers.open(pseudonym[len(PREFIX):], brand_id)
