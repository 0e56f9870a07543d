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
from .repositories import SessionRepository, SessionRow

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
    def __init__(self, *, sessions: SessionRepository, clock: Clock, idle: int,
                 absolute: int) -> None:
        self._sessions = sessions
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
        # Ended sessions are deleted as new ones are made, so the table stays small.
        self._sessions.insert(SessionRow(_hash(token), member_id, json.dumps(data), device[:80],
                                         now, now, now + lifetime))
        return token

    def load(self, token: str) -> SessionRecord | None:
        if not token or len(token) > 100:
            return None
        row = self._sessions.get(_hash(token))
        if row is None:
            return None
        now = int(self._clock())
        if row.expires_at <= now or now - row.last_seen > self.idle:
            self.delete(token)
            return None
        return SessionRecord(token, row.member_id, json.loads(row.data), row.created_at,
                             row.last_seen)

    def save(self, token: str, data: dict[str, Any]) -> None:
        self._sessions.save(_hash(token), json.dumps(data), int(self._clock()))

    def touch(self, token: str) -> None:
        self._sessions.touch(_hash(token), int(self._clock()))

    def delete(self, token: str) -> None:
        self._sessions.delete(_hash(token))

    def delete_for_member(self, member_id: str, *, keep: str | None = None) -> int:
        return self._sessions.delete_for_member(
            member_id, keep=None if keep is None else _hash(keep))

    def for_member(self, member_id: str, *, current: str | None) -> list[SessionInfo]:
        mine = _hash(current) if current else b""
        return [
            SessionInfo(r.id_hash.hex()[:8], r.device, r.created_at, r.last_seen,
                        r.id_hash == mine)
            for r in self._sessions.live_for_member(member_id, int(self._clock()))
        ]

    def prune(self) -> int:
        now = int(self._clock())
        return self._sessions.prune(now=now, seen_before=now - self.idle)

    def end_all(self) -> int:
        """End every session (after a restore: one in a backup may have been ended since, by
        "sign out everywhere" or a revoked cookie, and must not come back)."""
        now = int(self._clock())
        return self._sessions.prune(now=now, seen_before=2**62)
