"""TOTP recovery codes: ten single-use codes that stand in for an authenticator app.

Shown to the member once, when two-step sign-in is turned on or the codes are made anew;
stored only as HMAC-SHA256 under a key derived from the master key, bound to the account.
Why a keyed hash and not argon2id: each code is 16 random base32 characters (80 bits), far
beyond any offline search, so a slow hash would add cost to every sign-in (ten argon2 checks
per attempt) and no safety; the key means a copy of the store without the master key holds
nothing to test a guess against; and an exact hash lets one indexed UPDATE both find and spend
a code, so two requests can never both use it.

Invariants: a code works once (``used_at`` is set in the same statement that finds it); making
new codes deletes every old one; turning two-step sign-in off deletes them all.
"""

from __future__ import annotations

import secrets

from .clock import Clock
from .keys import Pseudonymiser
from .repositories import RecoveryCodeRepository

CODES = 10
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"     # RFC 4648 base32: no 0/1/8/9 to misread
_LENGTH = 16
_GROUP = 4


def normalise_code(raw: str) -> str | None:
    """The canonical form of a typed recovery code, or None if it cannot be one."""
    text = "".join((raw or "").split()).replace("-", "").upper()
    if len(text) != _LENGTH or any(ch not in _ALPHABET for ch in text):
        return None
    return text


def looks_like_recovery_code(raw: str) -> bool:
    return normalise_code(raw) is not None


class RecoveryCodes:
    def __init__(self, *, codes: RecoveryCodeRepository, hashes: Pseudonymiser,
                 clock: Clock) -> None:
        self._codes = codes
        self._hashes = hashes
        self._clock = clock

    def _hash(self, member_id: str, code: str) -> bytes:
        return self._hashes.digest(f"{member_id}\x1f{code}")

    def generate(self, member_id: str) -> list[str]:
        """Ten new codes (``xxxx-xxxx-xxxx-xxxx``) for the member, replacing any old ones. The
        only time they exist in clear: show them and forget them."""
        codes = ["".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
                 for _ in range(CODES)]
        now = int(self._clock())
        self._codes.replace(member_id, [self._hash(member_id, c) for c in codes], now)
        return ["-".join(code[i:i + _GROUP] for i in range(0, _LENGTH, _GROUP))
                for code in codes]

    def use(self, member_id: str, raw: str) -> bool:
        """Spend the code if it is one of the member's unused ones; whether it was."""
        code = normalise_code(raw)
        if code is None:
            return False
        return self._codes.spend(member_id, self._hash(member_id, code), int(self._clock()))

    def remaining(self, member_id: str) -> int:
        return self._codes.remaining(member_id)

    def delete(self, member_id: str) -> None:
        self._codes.delete_for_member(member_id)
