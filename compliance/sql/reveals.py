"""Reveals, what both engines share (table ``identity_reveals``, data migration 0009):
:class:`compliance.repositories.RevealRepository`.

A reveal references the accounts of its officer and of the revealed member by their integer
``num`` (as the hot tables do); they are read back by their public ``id``. The officer's or
the member's erasure deletes the reveal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vault.sql import SqlRepository

from ..repositories import RevealRecord


def reveal_record(row: Any, officer_id: str) -> RevealRecord:
    """A reveal's row (``id``, ``case_ref``, ``member_id``, ``principal``, ``reason_sealed``,
    ``reason_sha256``, ``revealed_at``) made by the officer ``officer_id``."""
    return RevealRecord(row["id"], officer_id, row["case_ref"], row["member_id"],
                        row["principal"], row["reason_sealed"], row["reason_sha256"],
                        row["revealed_at"])


class SqlReveals(SqlRepository):
    def count(self) -> int:
        return int(self._db.one("SELECT count(*) FROM identity_reveals")[0])

    def member_ids(self, *, granted_to: str | None = None) -> Iterator[str]:
        rows = (self._db.all("SELECT id FROM members ORDER BY num") if granted_to is None else
                self._db.all("SELECT DISTINCT member_id AS id FROM grants WHERE brand_id = ?",
                             (granted_to,)))
        for row in rows:
            yield row["id"]
