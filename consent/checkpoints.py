"""Checkpoints: C2SP tlog-checkpoint bodies, signed as C2SP signed notes with Ed25519.

A checkpoint note, as :meth:`Ed25519NoteSigner.sign` writes it::

    vrmvault.example/ledger/1a2b3c4d          origin (= the key name)
    1000                                      tree size, decimal, no leading zero
    Csu...I=                                  root hash, standard base64 (RFC 4648 section 4)
                                              blank line
    — vrmvault.example/ledger/1a2b3c4d AbCd...   em dash, key name, base64(key ID || signature)

Facts from the specs this module relies on (c2sp.org/signed-note, c2sp.org/tlog-checkpoint):

- The signature covers the note text: every line before the blank line, final newline included.
- The key ID is ``SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4]``.
- A verifier ignores signatures from keys it does not know, rejects the note when a known key's
  signature fails, and rejects it when no known key signed it.
- A verifier key is written ``<name>+<8 hex digits of the key ID>+<base64(0x01 || public key)>``.

Invariant: the signing key exists only in memory, derived from the master key; nothing here
stores it. The default origin ends in a fingerprint of the public key (the first 8 hex digits of
its SHA-256), not the note key ID, since the key ID is itself computed over the name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import NoteVerificationError
from .merkle import HASH_SIZE

ED25519_SIGNATURE_TYPE = 0x01
ORIGIN_PREFIX = "vrmvault.example/ledger/"
SIGNATURE_PREFIX = "\u2014 "                    # em dash, space
MAX_SIGNATURES = 100                            # the spec asks verifiers to accept at least 16
MAX_NOTE_BYTES = 1 << 20
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # control characters other than newline
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class CheckpointBody:
    """The three lines of a C2SP tlog-checkpoint note text (no extension lines)."""

    origin: str
    tree_size: int
    root_hash: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.tree_size}\n{b64encode(self.root_hash)}\n"

    @classmethod
    def parse(cls, text: str) -> CheckpointBody:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteVerificationError("a checkpoint is at least three non-empty lines")
        origin, size, root = lines[0], lines[1], lines[2]
        if not _DECIMAL.fullmatch(size):
            raise NoteVerificationError("the checkpoint tree size is not a plain decimal")
        root_hash = b64decode(root)
        if len(root_hash) != HASH_SIZE:
            raise NoteVerificationError("the checkpoint root hash is not 32 bytes")
        return cls(origin, int(size), root_hash)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte note key ID of an Ed25519 key (c2sp.org/signed-note, Ed25519 signatures)."""
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) + public_key
    ).digest()[:4]


def default_origin(public_key: bytes) -> str:
    return ORIGIN_PREFIX + hashlib.sha256(public_key).hexdigest()[:8]


def check_key_name(name: str) -> str:
    """Key names are non-empty, without Unicode spaces or ``+`` (c2sp.org/signed-note)."""
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise ValueError(f"{name!r} is not a valid note key name")
    return name


class Ed25519NoteSigner:
    """Signs notes with one Ed25519 key under one key name (the log's origin)."""

    def __init__(self, seed: bytes, name: str | None = None) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.name = check_key_name(default_origin(self.public_key) if name is None else name)
        self.key_id = key_id(self.name, self.public_key)

    def __repr__(self) -> str:
        return f"Ed25519NoteSigner({self.verifier_key!r})"

    @property
    def verifier_key(self) -> str:
        return encode_verifier_key(self.name, self.public_key)

    def verifier(self) -> Ed25519NoteVerifier:
        return Ed25519NoteVerifier(self.name, self.public_key)

    def sign(self, text: str) -> str:
        """The signed note: ``text``, a blank line, one signature line."""
        _check_text(text)
        signature = self._private.sign(text.encode())
        return (f"{text}\n{SIGNATURE_PREFIX}{self.name} "
                f"{b64encode(self.key_id + signature)}\n")


class Ed25519NoteVerifier:
    """Verifies notes signed by one known Ed25519 key."""

    def __init__(self, name: str, public_key: bytes) -> None:
        self.name = check_key_name(name)
        if len(public_key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.public_key = public_key
        self.key_id = key_id(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_verifier_key(cls, verifier_key: str) -> Ed25519NoteVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        parts = verifier_key.strip().split("+", 2)     # the base64 key may itself hold "+"
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise NoteVerificationError("a verifier key is <name>+<8 hex digits>+<base64 key>")
        name, hex_id, encoded = parts
        key = b64decode(encoded)
        if len(key) != 33 or key[0] != ED25519_SIGNATURE_TYPE:
            raise NoteVerificationError("the verifier key is not an Ed25519 key")
        try:
            verifier = cls(name, key[1:])
        except ValueError as exc:
            raise NoteVerificationError(str(exc)) from exc
        if verifier.key_id.hex() != hex_id:
            raise NoteVerificationError("the verifier key's ID does not match its name and key")
        return verifier

    @property
    def verifier_key(self) -> str:
        return encode_verifier_key(self.name, self.public_key)

    def verify(self, note: str) -> str:
        """The note text, once this key's signature on it verifies; else NoteVerificationError.

        Signatures by other keys are ignored, as the spec requires; a signature by this key
        (same name and key ID) that fails rejects the whole note.
        """
        text, signatures = split_note(note)
        verified = False
        for name, signature in signatures:
            if name != self.name or signature[:4] != self.key_id:
                continue
            try:
                self._key.verify(signature[4:], text.encode())
            except InvalidSignature as exc:
                raise NoteVerificationError(f"the signature by {name} does not verify") from exc
            verified = True
        if not verified:
            raise NoteVerificationError(f"the note carries no signature by {self.name}")
        return text

    def open_checkpoint(self, note: str) -> CheckpointBody:
        """The checkpoint in ``note``, once verified; its origin must be this key's name."""
        body = CheckpointBody.parse(self.verify(note))
        if body.origin != self.name:
            raise NoteVerificationError("the checkpoint origin is not the signing key's name")
        return body


def encode_verifier_key(name: str, public_key: bytes) -> str:
    return (f"{name}+{key_id(name, public_key).hex()}+"
            f"{b64encode(bytes([ED25519_SIGNATURE_TYPE]) + public_key)}")


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text and the (key name, decoded signature) pairs of a signed note (format checks)."""
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteVerificationError("the note is too large")
    if _CONTROL.search(note) or any("\ud800" <= c <= "\udfff" for c in note):
        raise NoteVerificationError("the note holds control characters or invalid UTF-8")
    split = note.rfind("\n\n")                 # the last blank line ends the text
    if split < 0 or not note.endswith("\n"):
        raise NoteVerificationError("the note has no signature block")
    text, block = note[:split + 1], note[split + 2:]
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteVerificationError("the note has too many signatures")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteVerificationError("a signature line does not start with an em dash")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
        if not name or not encoded or " " in encoded:
            raise NoteVerificationError("a signature line is not '— <name> <signature>'")
        signature = b64decode(encoded)
        if len(signature) < 5:
            raise NoteVerificationError("a signature is too short to hold a key ID")
        signatures.append((name, signature))
    return text, signatures


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict standard base64: padding required, and the encoding must be the canonical one (so
    no two texts decode to the same bytes; a changed character is always a changed value)."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteVerificationError("not standard base64") from exc
    if b64encode(data) != text:
        raise NoteVerificationError("not canonical base64")
    return data


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise ValueError("a note text ends in a newline and has no blank line")
    if _CONTROL.search(text):
        raise ValueError("a note text holds no control characters other than newline")
