"""vault.sealing: AES-256-GCM values bound to their member, record and field."""

from __future__ import annotations

import os

import pytest

from vault.errors import IntegrityError
from vault.sealing import NONCE_BYTES, VERSION, MemberCipher, associated_data

KEY = bytes(range(32))
AAD = associated_data("m" * 32, "feedback", 7, "comment")


@pytest.fixture
def cipher() -> MemberCipher:
    return MemberCipher(KEY)


@pytest.mark.parametrize("text", ["", "hello", "naïve façade 🚲 熊猫", "x" * 10_000, "a\nb\x00c"])
def test_round_trip(cipher, text):
    sealed = cipher.seal_text(AAD, text)
    assert cipher.open_text(AAD, sealed) == text
    assert MemberCipher(KEY).open_text(AAD, sealed) == text  # the key, not the object, opens it


def test_layout_is_version_nonce_ciphertext_tag(cipher):
    sealed = cipher.seal(AAD, b"12345")
    assert sealed[:1] == VERSION
    assert len(sealed) == 1 + NONCE_BYTES + 5 + 16
    assert b"12345" not in sealed


def test_nonces_are_fresh(cipher):
    sealed = {cipher.seal(AAD, b"same") for _ in range(20)}
    assert len(sealed) == 20
    assert len({s[1:1 + NONCE_BYTES] for s in sealed}) == 20


def test_associated_data_names_member_table_record_and_field():
    assert associated_data("m1", "feedback", 7, "comment") == b"m1\x1ffeedback\x1f7\x1fcomment"


@pytest.mark.parametrize("other", [
    associated_data("n" * 32, "feedback", 7, "comment"),   # another member
    associated_data("m" * 32, "feedback", 8, "comment"),   # another record
    associated_data("m" * 32, "feedback", 7, "rating"),    # another field
    associated_data("m" * 32, "profile_values", 7, "comment"),  # another table
    b"",
])
def test_opening_with_other_associated_data_fails(cipher, other):
    sealed = cipher.seal_text(AAD, "secret")
    with pytest.raises(IntegrityError):
        cipher.open(other, sealed)


def test_opening_with_another_key_fails(cipher):
    sealed = cipher.seal_text(AAD, "secret")
    with pytest.raises(IntegrityError):
        MemberCipher(os.urandom(32)).open(AAD, sealed)


@pytest.mark.parametrize("position", [0, 1, NONCE_BYTES, NONCE_BYTES + 1, NONCE_BYTES + 3, -16, -1])
def test_one_flipped_byte_fails(cipher, position):
    sealed = bytearray(cipher.seal_text(AAD, "secret"))
    sealed[position] ^= 0x01
    with pytest.raises(IntegrityError):
        cipher.open(AAD, bytes(sealed))


@pytest.mark.parametrize("sealed", [
    b"", b"\x01", b"\x01" + b"\0" * 5, b"\x01" + b"\0" * 20, b"\x02" + b"\0" * 40,
])
def test_truncated_or_foreign_values_fail(cipher, sealed):
    # A damaged value is an IntegrityError, never a raw library error (errors.py invariant).
    with pytest.raises(IntegrityError):
        cipher.open(AAD, sealed)


def test_a_truncated_seal_fails(cipher):
    sealed = cipher.seal_text(AAD, "secret")
    with pytest.raises(IntegrityError):
        cipher.open(AAD, sealed[:-1])


def test_a_sealed_profile_value_cannot_be_moved_to_another_field(vault, member_id):
    vault.profile.update(member_id, {"given_name": "Alice", "family_name": "Liddell"})
    given = vault.data.one(
        "SELECT value_sealed FROM profile_values WHERE member_id = ? AND attribute = ?",
        (member_id, "given_name"),
    )[0]
    vault.data.execute(
        "UPDATE profile_values SET value_sealed = ? WHERE member_id = ? AND attribute = ?",
        (given, member_id, "family_name"),
    )
    with pytest.raises(IntegrityError):
        vault.profile.get(member_id)


def test_seal_many_and_open_many_agree_with_the_single_value_forms() -> None:
    from vault.sealing import MemberCipher, associated_data

    cipher = MemberCipher(bytes(range(32)))
    items = [(associated_data("m" * 32, "feedback", n, "comment"), f"comment {n}".encode())
             for n in range(1, 40)]
    sealed = cipher.seal_many(items)
    assert len({s[1:13] for s in sealed}) == len(items)          # every nonce different
    assert [cipher.open(aad, s) for (aad, _), s in zip(items, sealed, strict=True)] == \
        [p for _, p in items]
    assert cipher.open_many([(aad, s) for (aad, _), s in zip(items, sealed, strict=True)]) == \
        [p for _, p in items]


def test_open_many_fails_as_a_whole_when_one_value_is_bound_elsewhere() -> None:
    from vault.errors import IntegrityError
    from vault.sealing import MemberCipher, associated_data

    cipher = MemberCipher(bytes(range(32)))
    aads = [associated_data("m" * 32, "feedback", n, "comment") for n in (1, 2)]
    sealed = cipher.seal_many([(a, b"text") for a in aads])
    with pytest.raises(IntegrityError):
        cipher.open_many([(aads[0], sealed[0]), (aads[0], sealed[1])])   # swapped record
    with pytest.raises(IntegrityError):
        cipher.open_many([(aads[0], sealed[0][:20])])                   # truncated
