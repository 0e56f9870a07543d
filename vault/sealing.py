"""Sealing member payloads with AES-256-GCM under the member's own data key.

A sealed value is ``version (1 byte) || nonce (12 bytes) || ciphertext || tag (16 bytes)``.
The associated data binds it to where it belongs, ``member \\x1f table \\x1f record \\x1f field``,
so a value copied to another member, record or field fails to open rather than being misread.
Nonces are random; a member key seals far fewer than the 2**32 messages NIST SP 800-38D allows
for random 96-bit nonces.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import IntegrityError

VERSION = b"\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
_MINIMUM = 1 + NONCE_BYTES + TAG_BYTES


def associated_data(member_id: str, table: str, record: str | int, field: str) -> bytes:
    return f"{member_id}\x1f{table}\x1f{record}\x1f{field}".encode()


class MemberCipher:
    """Seals and opens one member's values."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "MemberCipher(<hidden>)"

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, aad: bytes, sealed: bytes) -> bytes:
        if sealed[:1] != VERSION:
            raise IntegrityError("unknown sealed-value version")
        if len(sealed) < _MINIMUM:
            raise IntegrityError("a sealed value is too short to be genuine")
        try:
            return self._aead.decrypt(sealed[1:13], sealed[13:], aad)
        except InvalidTag as exc:
            raise IntegrityError("a sealed value failed authentication") from exc

    def seal_many(self, items: list[tuple[bytes, bytes]]) -> list[bytes]:
        """Seal ``(aad, plaintext)`` pairs in one go: nonces from one ``urandom`` call."""
        nonces = os.urandom(NONCE_BYTES * len(items))
        encrypt = self._aead.encrypt
        sealed = []
        for index, (aad, plaintext) in enumerate(items):
            nonce = nonces[index * NONCE_BYTES:(index + 1) * NONCE_BYTES]
            sealed.append(VERSION + nonce + encrypt(nonce, plaintext, aad))
        return sealed

    def open_many(self, items: list[tuple[bytes, bytes]]) -> list[bytes]:
        """Open ``(aad, sealed)`` pairs; :class:`IntegrityError` if any one fails."""
        decrypt = self._aead.decrypt
        opened = []
        for aad, sealed in items:
            if sealed[:1] != VERSION or len(sealed) < _MINIMUM:
                raise IntegrityError("a sealed value is damaged or of an unknown version")
            try:
                opened.append(decrypt(sealed[1:13], sealed[13:], aad))
            except InvalidTag as exc:
                raise IntegrityError("a sealed value failed authentication") from exc
        return opened

    def seal_text(self, aad: bytes, text: str) -> bytes:
        return self.seal(aad, text.encode())

    def open_text(self, aad: bytes, sealed: bytes) -> str:
        return self.open(aad, sealed).decode()


class unsafe_PlaintextCipher(MemberCipher):
    """Stores values as they are.

    .. warning:: For the encryption-overhead benchmark only. Nothing in the product uses it.
    """

    __slots__ = ()

    def __init__(self) -> None:
        """No key and no AEAD: the parent's state is deliberately left unset."""

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, aad: bytes, sealed: bytes) -> bytes:
        return sealed

    def seal_many(self, items: list[tuple[bytes, bytes]]) -> list[bytes]:
        return [plaintext for _, plaintext in items]

    def open_many(self, items: list[tuple[bytes, bytes]]) -> list[bytes]:
        return [sealed for _, sealed in items]
