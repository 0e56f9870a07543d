"""Where a consent receipt stands in the public log, and the entry that proves it is there.

How a receipt names its ledger position, and why this way:

- The receipt is signed while the ledger's write lock is held (``ConsentService._issue`` runs
  inside ``Ledger.transaction()``), so the index its ``consent:receipt:issued`` entry will get
  is known before signing: the next ``seq``. The signed receipt (a JWT) carries it as a
  Kantara extension member, ``ledgerPosition: {"log": <checkpoint origin>, "index": <seq>}``
  (Kantara v1.1 allows extra members; the schema tests keep it valid).
- That entry's body names the receipt (``receipt``: its id) and its digest (``sha256``: of the
  JWT exactly as delivered), and its actor is the receipt's own principal, the brand's pairwise
  pseudonym of the member: nothing in it is shared across brands or absent from the receipt.
- Whoever downloads a receipt (the member's page, the brand API) gets that entry's exact body
  with it (:func:`receipt_entry`). From the receipt, that body and the public files under
  ``/log/`` alone, anyone can check: the body names this receipt and its digest, its leaf
  ``SHA-256(0x00 || body)`` is at ``index`` in the tree of a signed checkpoint (an inclusion
  proof rebuilt from tiles), and that checkpoint is consistent with any later one.

Receipts issued before positions were recorded carry none: :func:`receipt_entry` answers None.

Invariant: read only. The entry returned is the stored body, checked to be the receipt's
``consent:receipt:issued`` entry with the token's digest; a mismatch is LedgerIntegrityError,
never a wrong proof handed out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .checkpoints import b64encode
from .errors import LedgerIntegrityError
from .events import EventTag

if TYPE_CHECKING:
    from .ledger import Ledger

POSITION_MEMBER = "ledgerPosition"


@dataclass(frozen=True)
class LedgerPosition:
    log: str            # the checkpoint origin (the log's name in its signed notes)
    index: int          # the seq of the receipt's consent:receipt:issued entry

    def as_json(self) -> dict[str, Any]:
        return {"log": self.log, "index": self.index}


def token_digest(token: str) -> str:
    """The hex SHA-256 of the receipt JWT as delivered (ASCII), as its ledger entry names it."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def position_of(token: str) -> LedgerPosition | None:
    """The position a receipt JWT names, read from its payload (not verified here: the token
    is one the vault signed and stored), or None when it names none."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        named = claims.get(POSITION_MEMBER) if isinstance(claims, dict) else None
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(named, dict) or not isinstance(named.get("index"), int) \
            or not isinstance(named.get("log"), str):
        return None
    return LedgerPosition(named["log"], named["index"])


def receipt_entry(ledger: Ledger, token: str) -> dict[str, Any] | None:
    """What a receipt's holder needs besides the receipt and the public log: the log's origin,
    the entry's index, its exact body (UTF-8 JSON text) and leaf hash (base64); None for a
    receipt that names no position."""
    position = position_of(token)
    if position is None:
        return None
    entry = ledger.entry(position.index)
    if entry.tag is not EventTag.CONSENT_RECEIPT_ISSUED \
            or entry.details.get("sha256") != token_digest(token):
        raise LedgerIntegrityError(
            f"ledger entry {position.index} is not the one its receipt names; run"
            " 'vrmvault ledger verify'", seq=position.index)
    return {"log": position.log, "index": position.index,
            "entry": entry.body.decode("utf-8"), "leaf_hash": b64encode(entry.leaf_hash)}
