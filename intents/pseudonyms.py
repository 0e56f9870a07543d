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
_LENGTH = len(PREFIX) + 32          # 16-byte synthetic IV + 8-byte num, base64url unpadded


class IntentPseudonyms:
    def __init__(self, subkey: bytes) -> None:
        key = HKDFExpand(algorithm=hashes.SHA256(), length=64,
                         info=b"vrmvault/v1/intent-pseudonym/aes-siv-256").derive(subkey)
        self._siv = AESSIV(key)

    def __repr__(self) -> str:
        return "IntentPseudonyms(<key>)"

    def name(self, num: int, brand_id: str) -> str:
        sealed = self._siv.encrypt(num.to_bytes(8, "big"), [brand_id.encode()])
        return PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, pseudonym: str, brand_id: str) -> int | None:
        """The intent's num, or ``None`` for a name this brand was never given."""
        if not isinstance(pseudonym, str) or len(pseudonym) != _LENGTH \
                or not pseudonym.startswith(PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(pseudonym[len(PREFIX):] + "==")
            return int.from_bytes(self._siv.decrypt(raw, [brand_id.encode()]), "big")
        except (ValueError, InvalidTag):
            return None
