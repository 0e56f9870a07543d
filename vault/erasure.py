"""Erasure (GDPR Art. 17): crypto-shredding plus deletion.

Order matters and is the invariant: first the member's data key is destroyed (committed and
checkpointed out of the key store's WAL), then their rows are deleted in one transaction. A crash
between the two leaves rows nobody can decrypt, never a readable member. An erasure leaves one
pseudonymous record (a keyed hash of the member id, the time and a count), for the ledger, and the
key store keeps the erasure list so a restored backup has it re-applied.

``before_delete`` hooks (``hook(member_id, erased_at)``) run inside the deletion's transaction,
before the first DELETE, while the member's rows can still be read: what they write (the brand
gateway's member.erased webhooks, say) commits with the erasure or not at all. The vault knows
nothing of what they do; restore builds its own service without them, as re-applying an erasure
is not a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .clock import Clock
from .keys import KeyStore, Pseudonymiser
from .storage import Database

# Each table's rows of one member, by the member's public id.
_MEMBER_ROWS = (
    "DELETE FROM feedback WHERE member_num = (SELECT num FROM members WHERE id = ?)",
    "DELETE FROM profile_values WHERE member_id = ?",
    "DELETE FROM web_sessions WHERE member_id = ?",
)


@dataclass(frozen=True)
class ErasureReport:
    subject: str
    erased_at: int
    rows_deleted: int
    key_destroyed: bool


BeforeDelete = Callable[[str, int], None]


class ErasureService:
    def __init__(
        self, *, database: Database, keys: KeyStore, pseudonyms: Pseudonymiser, clock: Clock,
        before_delete: Iterable[BeforeDelete] = (),
    ) -> None:
        self._db = database
        self._keys = keys
        self._pseudonyms = pseudonyms
        self._clock = clock
        self.before_delete: list[BeforeDelete] = list(before_delete)

    def erase(self, member_id: str) -> ErasureReport:
        now = int(self._clock())
        key_destroyed = self._keys.destroy(member_id, erased_at=now)
        rows = self.delete_rows(member_id, erased_at=now)
        return ErasureReport(self._pseudonyms.subject(member_id), now, rows, key_destroyed)

    def delete_rows(self, member_id: str, *, erased_at: int) -> int:
        """Delete every row of ``member_id`` and record the erasure (also used by restore)."""
        with self._db.transaction():
            for hook in self.before_delete:
                hook(member_id, erased_at)
            rows = 0
            for statement in _MEMBER_ROWS:
                rows += self._db.execute(statement, (member_id,)).rowcount
            rows += self._db.execute("DELETE FROM members WHERE id = ?", (member_id,)).rowcount
            self._db.execute(
                "INSERT OR IGNORE INTO erasures (subject, erased_at, rows_deleted)"
                " VALUES (?, ?, ?)",
                (self._pseudonyms.subject(member_id), erased_at, rows),
            )
        self._db.checkpoint()
        return rows

    def erased_count(self) -> int:
        return self._db.one("SELECT count(*) FROM erasures")[0]
