"""The cursor of a brand's listing: where the next page starts, sealed for that brand.

``cursor = base64url(AES-SIV(K).encrypt(num, [bound]))`` (RFC 5297), ``num`` the 8-byte row
number of the last intent of the page, ``bound`` the listing's brand, categories and filters
(the brand id first), ``K`` 64 bytes (AES-SIV-256) expanded by HKDF from
``master.derive("intent-cursor")``, a key of its own: not the pseudonyms' (intents/pseudonyms.py).
So:

- the cursor is opaque: it shows neither the row number (which would tell how many intents the
  vault holds, and, the same at every brand, link what two brands were shown) nor anything that
  moves with it: two positions give unrelated cursors, one position at two brands too;
- only the vault opens it, and only for the listing it was made for: another brand's cursor,
  one made for other filters, or a forged or altered one does not open (a 400, not a page).
"""

from __future__ import annotations

from .pseudonyms import SealedNumbers

PURPOSE = "intent-cursor"


class IntentCursors(SealedNumbers):
    """``seal(num, bound)`` a cursor, ``open(cursor, bound)`` its num or ``None``."""

    def __init__(self, subkey: bytes) -> None:
        super().__init__(subkey, b"vrmvault/v1/intent-cursor/aes-siv-256")
