"""How the vault names a member to a brand: the brand's own pairwise pseudonym.

``pairwise = base64url(HMAC-SHA256(K, len(brand_id) || brand_id || member_id))`` with
``K = master.derive("pairwise-pseudonym")``, like OpenID Connect Core sec. 8.1's pairwise
``sub``: the same member and brand always give the same id, two brands get unrelated ids.

Invariant (DESIGN.md sec. 3): everything that names a member and reaches a brand (API subjects,
consent receipts, agreement records, webhooks) names them by this id, never by the vault's own
``member:<hash>`` principal, which is the same for every brand and stays inside the vault (the
ledger, the member's own pages). ``brand_gateway/pseudonyms.py`` records and resolves these ids
for the brand API; computing one needs only the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from vault.keys import MasterKey

PURPOSE = "pairwise-pseudonym"


def pairwise_pseudonym(key: bytes, member_id: str, brand_id: str) -> str:
    """The pseudonym of ``member_id`` for ``brand_id`` under ``key``."""
    brand = brand_id.encode()
    # A length prefix keeps (brand, member) pairs unambiguous whatever the ids hold.
    message = len(brand).to_bytes(2, "big") + brand + member_id.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pairwise_key(master: MasterKey) -> bytes:
    return master.derive(PURPOSE)
