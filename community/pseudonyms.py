"""Community pseudonyms: how a community knows a member.

``pseudonym = "m-" + base32(HMAC-SHA256(K, len(community_id) || community_id || member_id))[:12]``
with ``K = master.derive("community-pseudonym")``, a key of its own: it is not the brand's
pairwise pseudonym (``master.derive("pairwise-pseudonym")``, brand_gateway/pseudonyms.py) nor
the ledger's, and two communities, of one brand or two, get unrelated pseudonyms for the same
member, so a brand cannot join what a member posts in a community with what it holds under
its pairwise id, nor across its communities. 60 bits: the data store holds each pseudonym with
a UNIQUE constraint per community, and a clash (one in ~10^18 per pair of members) is refused
there rather than mixing two authors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PURPOSE = "community-pseudonym"


def community_pseudonym(key: bytes, member_id: str, community_id: str) -> str:
    """The member's pseudonym in ``community_id`` (deterministic; ``key``:
    ``master.derive(PURPOSE)``)."""
    community = community_id.encode()
    message = len(community).to_bytes(4, "big") + community + member_id.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return "m-" + base64.b32encode(digest).decode().lower()[:12]
