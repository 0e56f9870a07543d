"""consent.checkpoints: C2SP signed notes and tlog-checkpoint bodies with Ed25519."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consent.checkpoints import (
    CheckpointBody,
    Ed25519NoteSigner,
    Ed25519NoteVerifier,
    default_origin,
    key_id,
)
from consent.errors import NoteVerificationError

SEED = bytes(range(32))
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture
def signer() -> Ed25519NoteSigner:
    return Ed25519NoteSigner(SEED, "vrmvault.example/ledger/test")


def test_the_key_id_is_the_signed_note_recommendation(signer: Ed25519NoteSigner) -> None:
    # c2sp.org/signed-note: SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]
    expected = hashlib.sha256(b"vrmvault.example/ledger/test" + b"\x0a" + b"\x01"
                              + signer.public_key).digest()[:4]
    assert signer.key_id == expected == key_id(signer.name, signer.public_key)
    assert len(signer.public_key) == 32


def test_the_verifier_key_format(signer: Ed25519NoteSigner) -> None:
    name, hex_id, encoded = signer.verifier_key.split("+", 2)
    assert name == signer.name
    assert hex_id == signer.key_id.hex() and len(hex_id) == 8
    assert base64.b64decode(encoded) == b"\x01" + signer.public_key
    parsed = Ed25519NoteVerifier.from_verifier_key(signer.verifier_key)
    assert parsed.public_key == signer.public_key and parsed.name == signer.name


def test_a_checkpoint_note_has_the_c2sp_shape(signer: Ed25519NoteSigner) -> None:
    text = CheckpointBody(signer.name, 1000, ROOT).text()
    assert text == f"{signer.name}\n1000\n{base64.b64encode(ROOT).decode()}\n"
    note = signer.sign(text)
    body, signature_line = note.split("\n\n")
    assert body + "\n" == text
    assert signature_line.startswith(f"\u2014 {signer.name} ")
    assert signature_line.endswith("=\n") or signature_line.endswith("\n")
    blob = base64.b64decode(signature_line.rstrip("\n").rsplit(" ", 1)[1])
    assert blob[:4] == signer.key_id and len(blob) == 4 + 64
    # The signature is a plain Ed25519 signature over the note text, checkable without us.
    Ed25519PublicKey.from_public_bytes(signer.public_key).verify(blob[4:], text.encode())


def test_a_signed_checkpoint_opens_with_the_verifier_key(signer: Ed25519NoteSigner) -> None:
    note = signer.sign(CheckpointBody(signer.name, 7, ROOT).text())
    verifier = Ed25519NoteVerifier.from_verifier_key(signer.verifier_key)
    assert verifier.open_checkpoint(note) == CheckpointBody(signer.name, 7, ROOT)


def test_every_single_changed_byte_fails_verification(signer: Ed25519NoteSigner) -> None:
    note = signer.sign(CheckpointBody(signer.name, 123456, ROOT).text()).encode()
    verifier = signer.verifier()
    for position in range(len(note)):
        for flip in (0x01, 0x20, 0x80):
            changed = bytearray(note)
            changed[position] ^= flip
            try:
                text = changed.decode("utf-8")
            except UnicodeDecodeError:
                continue                  # not even UTF-8: no verifier could be handed it
            with pytest.raises(NoteVerificationError):
                verifier.open_checkpoint(text)


def test_unknown_signatures_are_ignored_but_one_known_signature_is_needed(
        signer: Ed25519NoteSigner) -> None:
    text = CheckpointBody(signer.name, 3, ROOT).text()
    other = Ed25519NoteSigner(bytes(32), "witness.example/w1")
    cosigned = signer.sign(text) + other.sign(text).split("\n\n")[1]
    assert signer.verifier().verify(cosigned) == text
    assert other.verifier().verify(cosigned) == text
    with pytest.raises(NoteVerificationError, match="no signature by"):
        signer.verifier().verify(other.sign(text))


def test_a_different_key_under_the_same_name_is_not_trusted(signer: Ed25519NoteSigner) -> None:
    impostor = Ed25519NoteSigner(bytes(32), signer.name)
    note = impostor.sign(CheckpointBody(signer.name, 3, ROOT).text())
    with pytest.raises(NoteVerificationError):
        signer.verifier().verify(note)


def test_a_failing_signature_by_the_known_key_rejects_the_note(signer: Ed25519NoteSigner
                                                               ) -> None:
    note = signer.sign(CheckpointBody(signer.name, 3, ROOT).text())
    forged = note.replace("\n3\n", "\n4\n")
    with pytest.raises(NoteVerificationError, match="does not verify"):
        signer.verifier().verify(forged)


@pytest.mark.parametrize("text", [
    "origin\n01\nAAAA\n",                          # leading zero
    "origin\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
    "origin\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",
    "origin\n1\n",                                 # no root
    "\n1\n" + base64.b64encode(ROOT).decode() + "\n",
    "origin\n1\n" + base64.b64encode(ROOT).decode(),   # no final newline
])
def test_malformed_checkpoint_bodies_are_refused(text: str) -> None:
    with pytest.raises(NoteVerificationError):
        CheckpointBody.parse(text)


@pytest.mark.parametrize("note", [
    "",
    "no signatures\n",
    "text\n\n- name AAAA\n",                       # a hyphen, not an em dash
    "text\n\n\u2014 name\n",
    "text\n\u0007\n\n\u2014 name AAAAAAAA\n",      # a control character
])
def test_malformed_notes_are_refused(signer: Ed25519NoteSigner, note: str) -> None:
    with pytest.raises(NoteVerificationError):
        signer.verifier().verify(note)


@pytest.mark.parametrize("vkey", [
    "name+1234+AQ==", "name+zzzzzzzz+AQ==", "a+b", "name+00000000+" + "A" * 44,
])
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteVerificationError):
        Ed25519NoteVerifier.from_verifier_key(vkey)


def test_a_verifier_key_with_a_wrong_key_id_is_refused(signer: Ed25519NoteSigner) -> None:
    name, _, encoded = signer.verifier_key.split("+", 2)
    with pytest.raises(NoteVerificationError, match="ID"):
        Ed25519NoteVerifier.from_verifier_key(f"{name}+00000000+{encoded}")


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname"])
def test_key_names_follow_the_spec(name: str) -> None:
    with pytest.raises(ValueError):
        Ed25519NoteSigner(SEED, name)


def test_the_default_origin_names_the_key_by_its_fingerprint() -> None:
    signer = Ed25519NoteSigner(SEED)
    assert signer.name == default_origin(signer.public_key)
    assert signer.name == "vrmvault.example/ledger/" + hashlib.sha256(
        signer.public_key).hexdigest()[:8]


@pytest.mark.parametrize("text", ["no final newline", "two\n\nparagraphs\n", "bell\u0007\n"])
def test_the_signer_refuses_texts_that_would_not_verify(signer: Ed25519NoteSigner,
                                                        text: str) -> None:
    with pytest.raises(ValueError):
        signer.sign(text)
