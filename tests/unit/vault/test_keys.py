"""vault.keys: the master key file and variable, derived keys, wrapped member keys."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.conftest import GOOD_PASSWORD
from vault.errors import (
    IntegrityError,
    KeyMaterialError,
    MemberKeyDestroyedError,
    MemberKeyLostError,
    MemberKeyMissingError,
)
from vault.keys import MASTER_KEY_ENV, KeyStore, MasterKey, Pseudonymiser, load_master_key
from vault.sealing import MemberCipher, associated_data
from vault.sqlcipher.keys import SqlcipherMemberKeys

HEX_A = "a1" * 32
HEX_B = "b2" * 32
PURPOSES = ["data-store", "key-store", "kek", "blind-index", "pseudonym", "throttle"]


def same_key(one: MasterKey, other: MasterKey) -> bool:
    return all(one.derive(p) == other.derive(p) for p in PURPOSES)


def wrapped_key(vault, member_id: str) -> bytes:
    return vault.keys_database.one(
        "SELECT wrapped FROM member_keys WHERE member_id = ?", (member_id,)
    )["wrapped"]


def unwrap(vault, member_id: str, wrapped: bytes) -> bytes:
    aad = b"vrmvault/member-key/v1\x1f" + member_id.encode()
    return AESGCM(vault.master.derive("kek")).decrypt(wrapped[:12], wrapped[12:], aad)


# -- the master key file ------------------------------------------------------------------------
def test_a_new_key_file_is_0600_and_loads_back(tmp_path):
    key = MasterKey.generate()
    path = tmp_path / "nested" / "master.key"
    key.write_new_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    assert same_key(load_master_key(path, environ={}), key)


def test_the_home_key_file_is_0600(vault_home):
    assert stat.S_IMODE(vault_home.key_file.stat().st_mode) == 0o600


def test_an_existing_key_file_is_never_overwritten(tmp_path):
    path = tmp_path / "master.key"
    path.write_text(HEX_A)
    with pytest.raises(KeyMaterialError):
        MasterKey.generate().write_new_file(path)
    assert path.read_text() == HEX_A


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o620, 0o602, 0o610, 0o666])
def test_a_key_file_others_can_reach_is_refused(tmp_path, mode):
    path = tmp_path / "master.key"
    path.write_text(HEX_A)
    os.chmod(path, mode)
    with pytest.raises(KeyMaterialError, match="chmod 600"):
        load_master_key(path, environ={})


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_private_key_file_is_accepted(tmp_path, mode):
    path = tmp_path / "master.key"
    path.write_text(HEX_A + "\n")
    os.chmod(path, mode)
    assert same_key(load_master_key(path, environ={}), MasterKey.from_hex(HEX_A))


def test_a_missing_key_file_without_the_variable_is_refused(tmp_path):
    with pytest.raises(KeyMaterialError, match=MASTER_KEY_ENV):
        load_master_key(tmp_path / "master.key", environ={})


def test_the_environment_variable_takes_precedence(tmp_path):
    path = tmp_path / "master.key"
    MasterKey.from_hex(HEX_A).write_new_file(path)
    loaded = load_master_key(path, environ={MASTER_KEY_ENV: HEX_B})
    assert same_key(loaded, MasterKey.from_hex(HEX_B))
    assert not same_key(loaded, MasterKey.from_hex(HEX_A))
    # ... also when there is no file at all
    assert same_key(load_master_key(tmp_path / "absent", environ={MASTER_KEY_ENV: HEX_B}),
                    MasterKey.from_hex(HEX_B))


@pytest.mark.parametrize("text", [
    "zz" * 32, "a1" * 31, "a1" * 33, "0x" + "a1" * 31, "not a key", "a1" * 31 + "a", "é" * 64,
])
def test_malformed_keys_are_refused(tmp_path, text):
    with pytest.raises(KeyMaterialError):
        load_master_key(tmp_path / "absent", environ={MASTER_KEY_ENV: text})
    path = tmp_path / "master.key"
    path.write_text(text)
    os.chmod(path, 0o600)
    with pytest.raises(KeyMaterialError):
        load_master_key(path, environ={})


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_master_key_material_must_be_32_bytes(length):
    with pytest.raises(KeyMaterialError):
        MasterKey(b"k" * length)


# -- derived keys and repr ---------------------------------------------------------------------
def test_derived_keys_differ_per_purpose_and_per_master():
    master = MasterKey.from_hex(HEX_A)
    derived = [master.derive(p) for p in PURPOSES]
    assert all(len(k) == 32 for k in derived)
    assert len(set(derived)) == len(PURPOSES)
    assert bytes.fromhex(HEX_A) not in derived
    assert MasterKey.from_hex(HEX_A).derive("kek") == master.derive("kek")
    assert MasterKey.from_hex(HEX_B).derive("kek") != master.derive("kek")


def test_repr_never_shows_key_bytes():
    master = MasterKey.from_hex(HEX_A)
    for text in (repr(master), str(master), f"{master!r}"):
        assert "a1a1" not in text.lower()
        assert "\\xa1" not in text
    cipher = MemberCipher(bytes.fromhex(HEX_B))
    assert "b2b2" not in repr(cipher).lower() and "\\xb2" not in repr(cipher)
    assert not hasattr(master, "__dict__")


def test_pseudonyms_are_stable_and_keyed():
    one, other = Pseudonymiser(b"1" * 32), Pseudonymiser(b"2" * 32)
    assert one.subject("member") == one.subject("member")
    assert one.subject("member") != one.subject("member2")
    assert one.subject("member") != other.subject("member")
    assert len(one.subject("member")) == 64 and "member" not in one.subject("member")


# -- member keys ----------------------------------------------------------------------------
def test_member_keys_are_stored_wrapped(vault, member_id):
    wrapped = wrapped_key(vault, member_id)
    raw = unwrap(vault, member_id, wrapped)
    assert len(raw) == 32
    assert raw not in wrapped
    assert len(wrapped) == 12 + 32 + 16
    # The unwrapped key is the member's data key: it opens their sealed e-mail.
    sealed = vault.data.one("SELECT email_sealed FROM members WHERE id = ?", (member_id,))[0]
    aad = associated_data(member_id, "members", member_id, "email")
    assert MemberCipher(raw).open_text(aad, sealed) == "alice@example.org"


def test_member_keys_are_never_in_the_data_store(vault, member_id):
    tables = {r["name"] for r in vault.data.all("SELECT name FROM sqlite_master")}
    assert "member_keys" not in tables


def test_every_member_has_their_own_key(vault, member_id):
    other = vault.members.register("bob@example.org", GOOD_PASSWORD)
    assert unwrap(vault, member_id, wrapped_key(vault, member_id)) != unwrap(
        vault, other, wrapped_key(vault, other)
    )


def test_a_wrapped_key_moved_to_another_member_fails(vault, member_id):
    stranger = "f" * 32
    vault.keys_database.execute(
        "INSERT INTO member_keys (member_id, wrapped, created_at) VALUES (?, ?, 0)",
        (stranger, wrapped_key(vault, member_id)),
    )
    with pytest.raises(IntegrityError):
        vault.key_store.cipher(stranger)


def test_a_wrapped_key_swapped_onto_an_existing_member_fails(vault, member_id):
    other = vault.members.register("bob@example.org", GOOD_PASSWORD)
    vault.keys_database.execute(
        "UPDATE member_keys SET wrapped = ? WHERE member_id = ?",
        (wrapped_key(vault, member_id), other),
    )
    vault.key_store.forget_cached()
    with pytest.raises(IntegrityError):
        vault.key_store.cipher(other)
    vault.key_store.cipher(member_id)  # the original is untouched


def test_a_wrong_key_encryption_key_fails(vault, member_id):
    stranger = KeyStore(SqlcipherMemberKeys(vault.keys_database), os.urandom(32))
    with pytest.raises(IntegrityError):
        stranger.cipher(member_id)


def test_a_key_store_reopened_unwraps_the_same_key(vault, member_id):
    sealed = vault.key_store.cipher(member_id).seal_text(b"aad", "hello")
    fresh = KeyStore(SqlcipherMemberKeys(vault.keys_database), vault.master.derive("kek"))
    assert fresh.cipher(member_id).open_text(b"aad", sealed) == "hello"


def test_a_member_without_a_key_is_destroyed(vault, member_id):
    assert vault.key_store.destroy(member_id, erased_at=1) is True
    with pytest.raises(MemberKeyDestroyedError):
        vault.key_store.cipher(member_id)
    assert vault.key_store.erased_members() == [member_id]
    assert vault.key_store.destroy(member_id, erased_at=2) is False


def test_a_key_missing_with_no_erasure_listed_is_lost_not_destroyed(vault, member_id):
    """What a key store restored from a backup older than the key holds: no key, no erasure
    listed. Nothing says the member was erased, so nothing may say so."""
    vault.key_store.remove(member_id)
    with pytest.raises(MemberKeyLostError) as raised:
        vault.key_store.cipher(member_id)
    assert isinstance(raised.value, MemberKeyMissingError)
    assert not isinstance(raised.value, MemberKeyDestroyedError)
    assert raised.value.status == 503
    with pytest.raises(MemberKeyLostError):          # an id the store never had: the same
        vault.key_store.cipher("0" * 32)
    vault.key_store.destroy(member_id, erased_at=1)  # an erasure of such a member lists it
    with pytest.raises(MemberKeyDestroyedError):
        vault.key_store.cipher(member_id)
