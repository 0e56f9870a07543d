"""What compliance's services may ask of storage: one repository contract per aggregate, as
``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``compliance/`` hold no SQL and do not know the engine; SQLCipher's implementations
are in ``compliance/sqlcipher/``, one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


# -- Reveals of a member's identity to an officer (compliance/reveals.py) -------------------
@dataclass(frozen=True)
class RevealRecord:
    """One reveal: ``officer_id`` was shown the address of ``member_id`` (ledger pseudonym
    ``principal``) for ``case``; the reason sealed under the member's key, and its digest."""

    id: str
    officer_id: str
    case: str
    member_id: str
    principal: str
    reason_sealed: bytes
    reason_sha256: str
    revealed_at: int


class RevealRepository(Protocol):
    def transaction(self) -> AbstractContextManager[object]:
        """A write transaction over the data store."""

    def insert(self, reveal: RevealRecord) -> None:
        """Add a reveal; both accounts exist (the caller checked, in this transaction)."""

    def for_case(self, officer_id: str, case: str) -> list[RevealRecord]:
        """The reveals ``officer_id`` made for ``case``, oldest first."""

    def latest(self, *, limit: int, offset: int = 0) -> list[RevealRecord]:
        """Every officer's reveals, newest first (the accountability page)."""

    def count(self) -> int: ...

    def member_ids(self) -> Iterator[str]:
        """Every account's id (to find the one behind a ledger pseudonym)."""
