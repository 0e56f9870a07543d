"""Password rules (NIST SP 800-63B rev. 4) and hashing (argon2id at or above OWASP/ASVS costs).

Rules, as the standard has them: at least 15 characters, because for most members the password is
a single-factor authenticator (sec. 3.1.1.2); at least 64 permitted (we allow 256); every
printable character and Unicode allowed, counted per code point after NFKC normalisation; no
composition rules; no truncation; candidates checked against a blocklist of commonly used or
compromised passwords and context words, with the reason shown so the member can choose better.
The blocklist and guessability estimate come from zxcvbn (its 30,000 most common passwords list
and pattern matcher), a maintained library, rather than a list of our own.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import argon2
import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from .errors import KeyMaterialError

MIN_LENGTH = 15
MAX_LENGTH = 256
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
_CONTEXT_WORDS = ("vrmvault", "vrm vault")
# zxcvbn 4.5 refuses more than 72 characters (its running time grows with length); its verdict
# on the first 72 is enough, since a longer password only gets harder to guess.
_ANALYSE_CHARS = 72

# OWASP Password Storage Cheat Sheet, referenced by ASVS 5.0 V11.4: argon2id with at least
# 19 MiB of memory and 2 iterations (or an equivalent trade-off).
ASVS_MIN_MEMORY_KIB = 19 * 1024
ASVS_MIN_TIME_COST = 2


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def problems(password: str, *, context: tuple[str, ...] = ()) -> list[str]:
    """Why ``password`` may not be used, in words a member understands; empty if it may."""
    if not isinstance(password, str):
        return ["Enter a password."]
    password = normalise(password)
    length = len(password)
    if length < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters (you have {length}). "
                "A few unrelated words make a good passphrase."]
    if length > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    lowered = password.lower()
    if lowered in _COMMON:
        return ["This password is on a list of commonly used passwords."]
    for word in (*context, *_CONTEXT_WORDS):
        word = word.lower().strip()
        if len(word) >= 4 and word in lowered:
            return ["Do not use your e-mail address or the name of this site in your password."]
    verdict = zxcvbn.zxcvbn(password[:_ANALYSE_CHARS], user_inputs=list(context))
    if verdict["score"] < 3:
        reason = verdict["feedback"]["warning"] or "This password is too easy to guess."
        hints = " ".join(verdict["feedback"]["suggestions"])
        return [f"{reason} {hints}".strip()]
    return []


@dataclass(frozen=True)
class HashingCost:
    time_cost: int = argon2.DEFAULT_TIME_COST
    memory_kib: int = argon2.DEFAULT_MEMORY_COST
    parallelism: int = argon2.DEFAULT_PARALLELISM

    def __post_init__(self) -> None:
        if self.memory_kib < ASVS_MIN_MEMORY_KIB or self.time_cost < ASVS_MIN_TIME_COST:
            raise KeyMaterialError(
                f"argon2id costs below the ASVS minimum (m >= {ASVS_MIN_MEMORY_KIB} KiB, "
                f"t >= {ASVS_MIN_TIME_COST})"
            )


class PasswordHasher:
    """argon2id hashes; verification is constant-time and also says when to rehash."""

    def __init__(self, cost: HashingCost | None = None) -> None:
        cost = cost or HashingCost()
        self._hasher = argon2.PasswordHasher(
            time_cost=cost.time_cost, memory_cost=cost.memory_kib,
            parallelism=cost.parallelism, type=argon2.Type.ID,
        )
        self._decoy: str | None = None

    def _decoy_hash(self) -> str:
        # Verified when an address is unknown, so both paths cost the same; made on first need.
        if self._decoy is None:
            self._decoy = self._hasher.hash("decoy password for timing equality")
        return self._decoy

    def hash(self, password: str) -> str:
        return self._hasher.hash(normalise(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            matched = self._hasher.verify(password_hash or self._decoy_hash(),
                                          normalise(password))
            return matched and password_hash is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
