"""Server-side web sessions, stored in the data store.

Invariants: the cookie carries a random 256-bit token; the store keeps only its SHA-256, so a copy
of the store cannot be replayed as cookies. A session has an idle and an absolute lifetime; ending
one (logout, "sign out everywhere", erasure) deletes its row, so the token is dead on the server.
Session data holds no personal data: a member id, a CSRF token, flashes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .storage import Database

ANONYMOUS_LIFETIME = 60 * 60


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class SessionRecord:
    token: str
    member_id: str | None
    data: dict[str, Any]
    created_at: int
    last_seen: int


@dataclass(frozen=True)
class SessionInfo:
    handle: str            # a short, non-secret handle for the list page
    device: str
    created_at: int
    last_seen: int
    current: bool


class SessionStore:
    def __init__(self, *, database: Database, clock: Clock, idle: int, absolute: int) -> None:
        self._db = database
        self._clock = clock
        self.idle = idle
        self.absolute = absolute

    def now(self) -> int:
        return int(self._clock())

    def create(self, *, member_id: str | None, data: dict[str, Any], device: str) -> str:
        token = secrets.token_urlsafe(32)
        now = int(self._clock())
        # An anonymous session (a form's CSRF token) lives an hour at most.
        lifetime = self.absolute if member_id is not None else min(ANONYMOUS_LIFETIME,
                                                                   self.absolute)
        # Ended sessions are deleted as new ones are made (indexed), so the table stays small.
        self._db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (now,))
        self._db.execute(
            "INSERT INTO web_sessions (id_hash, member_id, data, device, created_at, last_seen,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_hash(token), member_id, json.dumps(data), device[:80], now, now,
             now + lifetime),
        )
        return token

    def load(self, token: str) -> SessionRecord | None:
        if not token or len(token) > 100:
            return None
        row = self._db.one("SELECT * FROM web_sessions WHERE id_hash = ?", (_hash(token),))
        if row is None:
            return None
        now = int(self._clock())
        if row["expires_at"] <= now or now - row["last_seen"] > self.idle:
            self.delete(token)
            return None
        return SessionRecord(token, row["member_id"], json.loads(row["data"]),
                             row["created_at"], row["last_seen"])

    def save(self, token: str, data: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE web_sessions SET data = ?, last_seen = ? WHERE id_hash = ?",
            (json.dumps(data), int(self._clock()), _hash(token)),
        )

    def touch(self, token: str) -> None:
        self._db.execute("UPDATE web_sessions SET last_seen = ? WHERE id_hash = ?",
                         (int(self._clock()), _hash(token)))

    def delete(self, token: str) -> None:
        self._db.execute("DELETE FROM web_sessions WHERE id_hash = ?", (_hash(token),))

    def delete_for_member(self, member_id: str, *, keep: str | None = None) -> int:
        if keep is None:
            return self._db.execute(
                "DELETE FROM web_sessions WHERE member_id = ?", (member_id,)
            ).rowcount
        return self._db.execute(
            "DELETE FROM web_sessions WHERE member_id = ? AND id_hash != ?",
            (member_id, _hash(keep)),
        ).rowcount

    def for_member(self, member_id: str, *, current: str | None) -> list[SessionInfo]:
        mine = _hash(current) if current else b""
        rows = self._db.all(
            "SELECT id_hash, device, created_at, last_seen FROM web_sessions"
            " WHERE member_id = ? AND expires_at > ? ORDER BY last_seen DESC",
            (member_id, int(self._clock())),
        )
        return [
            SessionInfo(r["id_hash"].hex()[:8], r["device"], r["created_at"], r["last_seen"],
                        r["id_hash"] == mine)
            for r in rows
        ]

    def prune(self) -> int:
        now = int(self._clock())
        return self._db.execute(
            "DELETE FROM web_sessions WHERE expires_at <= ? OR last_seen < ?",
            (now, now - self.idle),
        ).rowcount
