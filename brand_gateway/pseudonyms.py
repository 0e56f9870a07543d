"""Pairwise pseudonyms: each brand knows a member by an id of its own (DESIGN.md sec. 4).

``pairwise_id = base64url(HMAC-SHA256(K, len(brand_id) || brand_id || member_id))`` with
``K = master.derive("pairwise-pseudonym")`` (computed by :mod:`consent.pseudonyms`, which the
consent receipts and agreement records use too), like OpenID Connect Core sec. 8.1's pairwise
``sub``. The same member and brand always give the same id; two brands get unrelated ids, and
without ``K`` nobody (a brand, or two brands together) can compute or join them.

The reverse lookup a brand API needs (pseudonym -> member) reads a mapping table,
``pairwise_subjects``, written when an id is handed out. Why a table and not a reversible id:

- HMAC is one-way by design; reversing it otherwise means hashing every member per request.
- A reversible id (deterministic encryption of the member id, e.g. AES-SIV) would carry the member
  id inside every pseudonym a brand holds: a leaked key would unmask all of them with no store at
  all, and an erased member's pseudonyms would still decrypt to their old id.
- The table lives in the SQLCipher data store (encrypted at rest, like every member id there) and
  cascades on ``members(id)``: an erasure deletes the rows, so an erased member's pseudonyms stop
  resolving. Only ids actually handed to a brand resolve, and only for that brand.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from consent.pseudonyms import PURPOSE, pairwise_pseudonym
from vault.errors import IntegrityError, NotFoundError

if TYPE_CHECKING:
    from .repositories import PairwiseSubjectRepository

__all__ = ["PURPOSE", "PairwisePseudonyms"]


class PairwisePseudonyms:
    """Issues and resolves per-brand member pseudonyms (``key``: ``master.derive(PURPOSE)``)."""

    def __init__(self, *, subjects: PairwiseSubjectRepository, key: bytes) -> None:
        self._subjects = subjects
        self._key = key

    def compute(self, member_id: str, brand_id: str) -> str:
        """The pseudonym of ``member_id`` for ``brand_id``, without recording it."""
        return pairwise_pseudonym(self._key, member_id, brand_id)

    def pairwise_id(self, member_id: str, brand_id: str) -> str:
        """The pseudonym to give ``brand_id`` for ``member_id``, recorded so it resolves.

        Idempotent, and a read once recorded (no write transaction, no write lock);
        :class:`NotFoundError` if the member or the brand does not exist.
        """
        pairwise = self.recorded_id(member_id, brand_id)
        return pairwise if pairwise is not None else self.record(member_id, brand_id)

    def recorded_id(self, member_id: str, brand_id: str) -> str | None:
        """The pseudonym of ``member_id`` for ``brand_id`` if it has been handed out (it
        resolves), else ``None``. A read only: usable inside a read snapshot."""
        pairwise = self.compute(member_id, brand_id)
        return pairwise if self._subjects.is_recorded(brand_id, pairwise) else None

    def record(self, member_id: str, brand_id: str) -> str:
        """Record the pseudonym of ``member_id`` for ``brand_id`` (idempotent) and return it."""
        pairwise = self.compute(member_id, brand_id)
        if not self._subjects.record(brand_id, pairwise, member_id):
            raise NotFoundError("no such member or brand")
        return pairwise

    def member_for(self, pairwise: str, brand_id: str) -> str:
        """The member ``brand_id`` knows as ``pairwise``; :class:`NotFoundError` otherwise.

        Another brand's pseudonym for the same member does not resolve here.
        """
        member_id = self._subjects.member_for(brand_id, pairwise)
        if member_id is None:
            raise NotFoundError("no such member for this brand")
        # The row must be what the key gives: a row written or changed beneath this class
        # (say, with the store key but not the pseudonym key) resolves nothing.
        if not hmac.compare_digest(self.compute(member_id, brand_id), pairwise):
            raise IntegrityError("a pairwise pseudonym does not match its member")
        return member_id
