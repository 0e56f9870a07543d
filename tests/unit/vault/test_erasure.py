"""vault.erasure: crypto-shredding plus deletion, leaving one pseudonymous record."""

from __future__ import annotations

import re

import pytest

from tests.conftest import GOOD_PASSWORD
from vault.errors import (
    AuthenticationError,
    MemberKeyDestroyedError,
    MemberKeyLostError,
    NotFoundError,
)

from .member_rows import MEMBER_ROWS, row_counts
from .sqlcipher_pages import decrypted_contains, raw_bytes


@pytest.fixture
def populate(vault, brand):
    def fill(email: str) -> str:
        member = vault.members.register(email, GOOD_PASSWORD)
        vault.profile.update(member, {"given_name": email.split("@")[0], "city": "Utrecht"})
        for rating in (3, 4):
            vault.feedback.add(member, {"brand_id": brand.id, "touchpoint": "usage",
                                        "rating": rating, "comment": f"comment by {email}"})
        vault.sessions.create(member_id=member, data={}, device="phone")
        return member
    return fill




def wrapped_key(vault, member_id: str) -> bytes | None:
    row = vault.keys_database.one(
        "SELECT wrapped FROM member_keys WHERE member_id = ?", (member_id,)
    )
    return row["wrapped"] if row else None


def test_erase_deletes_the_key_and_every_row(vault, clock, populate):
    alice = populate("alice@example.org")
    assert row_counts(vault, alice) == {"members": 1, "profile_values": 2, "feedback": 2,
                                        "web_sessions": 1}
    report = vault.erasure.erase(alice)
    assert report.key_destroyed is True
    assert report.rows_deleted == 5           # the session ended as the erasure began
    assert report.erased_at == int(clock())
    assert wrapped_key(vault, alice) is None
    assert row_counts(vault, alice) == dict.fromkeys(MEMBER_ROWS, 0)
    assert vault.key_store.erased_members() == [alice]


def test_other_members_are_untouched(vault, populate):
    alice, bob = populate("alice@example.org"), populate("bob@example.org")
    before = row_counts(vault, bob)
    profile, feedback = vault.profile.get(bob), vault.feedback.for_member(bob)
    vault.erasure.erase(alice)
    vault.key_store.forget_cached()  # prove Bob's key is still in the store, not just cached
    assert row_counts(vault, bob) == before
    assert vault.profile.get(bob) == profile
    assert vault.feedback.for_member(bob) == feedback
    assert vault.members.authenticate("bob@example.org", GOOD_PASSWORD, client="c") == bob


def test_one_pseudonymous_erasure_record(vault, populate):
    alice = populate("alice@example.org")
    report = vault.erasure.erase(alice)
    rows = vault.data.all("SELECT * FROM erasures")
    assert [(r["subject"], r["erased_at"], r["rows_deleted"]) for r in rows] == [
        (report.subject, report.erased_at, report.rows_deleted)
    ]
    assert re.fullmatch(r"[0-9a-f]{64}", report.subject)
    assert alice not in report.subject
    assert report.subject == vault.pseudonyms.subject(alice)
    assert vault.erasure.erased_count() == 1


def test_an_erased_member_cannot_log_in_or_be_read(vault, populate):
    alice = populate("alice@example.org")
    vault.erasure.erase(alice)
    with pytest.raises(AuthenticationError):
        vault.members.authenticate("alice@example.org", GOOD_PASSWORD, client="c")
    with pytest.raises((MemberKeyDestroyedError, NotFoundError)):
        vault.members.get(alice)
    with pytest.raises(MemberKeyDestroyedError):
        vault.key_store.cipher(alice)
    assert vault.profile.get(alice) == {}
    assert vault.feedback.for_member(alice) == []


def test_the_address_can_sign_up_again_as_a_new_member(vault, populate):
    alice = populate("alice@example.org")
    vault.erasure.erase(alice)
    again = vault.members.register("alice@example.org", GOOD_PASSWORD)
    assert again != alice and vault.profile.get(again) == {}


def test_rows_left_behind_by_a_crash_cannot_be_read(vault, populate):
    # Key first, rows second: if the deletion never happens, the rows are unreadable.
    alice = populate("alice@example.org")
    vault.key_store.destroy(alice, erased_at=1)
    with pytest.raises(MemberKeyDestroyedError):
        vault.profile.get(alice)
    with pytest.raises(MemberKeyDestroyedError):
        vault.feedback.for_member(alice)
    assert vault.erasure.delete_rows(alice, erased_at=1) == 6


def test_the_wrapped_key_is_gone_from_the_key_store_files(vault, vault_home, populate):
    alice, bob = populate("alice@example.org"), populate("bob@example.org")
    alice_key, bob_key = wrapped_key(vault, alice), wrapped_key(vault, bob)
    store_key = vault.master.derive("key-store")
    # Control: before erasure the wrapped key is on disk beneath SQLCipher (file or WAL).
    assert decrypted_contains(vault_home.keys_path, store_key, alice_key)
    vault.erasure.erase(alice)
    assert not decrypted_contains(vault_home.keys_path, store_key, alice_key)
    assert alice_key not in raw_bytes(vault_home.keys_path)
    assert decrypted_contains(vault_home.keys_path, store_key, bob_key)


def test_sealed_rows_are_gone_from_the_data_store_files(vault, vault_home, populate):
    alice = populate("alice@example.org")
    sealed = [r[0] for r in vault.data.all(
        "SELECT value_sealed FROM profile_values WHERE member_id = ?"
        " UNION ALL SELECT comment_sealed FROM feedback"
        " WHERE member_num = (SELECT num FROM members WHERE id = ?)"
        " UNION ALL SELECT email_sealed FROM members WHERE id = ?", (alice, alice, alice))]
    assert len(sealed) == 5
    store_key = vault.master.derive("data-store")
    assert all(decrypted_contains(vault_home.data_path, store_key, s) for s in sealed)
    vault.erasure.erase(alice)
    for value in sealed:
        assert not decrypted_contains(vault_home.data_path, store_key, value)


def test_erasing_twice_is_harmless(vault, clock, populate):
    alice = populate("alice@example.org")
    vault.erasure.erase(alice)
    clock.advance(1)
    again = vault.erasure.erase(alice)
    assert again.key_destroyed is False and again.rows_deleted == 0
    assert vault.erasure.erased_count() == 1


# -- resumable -------------------------------------------------------------------------
def test_begin_records_the_erasure_and_stops_the_member_acting(vault, clock, populate):
    alice = populate("alice@example.org")
    token = vault.sessions.create(member_id=alice, data={}, device="laptop")
    pending = vault.erasure.begin(alice)
    assert pending.member_id == alice and pending.erased_at == int(clock())
    assert vault.erasure.pending() == [pending] and vault.erasure.is_pending(alice)
    assert vault.sessions.load(token) is None                    # every session ended
    with pytest.raises(AuthenticationError):                     # sign-in finds nobody
        vault.members.authenticate("alice@example.org", GOOD_PASSWORD, client="c")
    assert wrapped_key(vault, alice) is not None                 # nothing destroyed yet
    clock.advance(5)
    assert vault.erasure.begin(alice) == pending                 # begun once: its time kept


def test_every_step_can_run_again_and_reports_what_the_erasure_did(vault, clock, populate):
    alice = populate("alice@example.org")
    pending = vault.erasure.begin(alice)
    first = vault.erasure.carry_out(pending)
    hooked = []
    vault.erasure.before_delete.append(lambda member, at: hooked.append(member))
    clock.advance(60)                                            # resumed after a restart
    again = vault.erasure.carry_out(pending)
    assert again == first and first.key_destroyed and first.rows_deleted == 5
    assert hooked == []                                          # the hooks ran once, before
    assert vault.erasure.erased_count() == 1
    vault.erasure.done(pending)
    assert vault.erasure.pending() == []


# -- a key lost in a restore of the key store ------------------------------------------
def test_a_member_whose_key_was_lost_is_erased_with_nothing_to_destroy(vault, populate):
    """The key store restored from a backup older than Alice's key: no key, no erasure
    listed. Erasing her deletes her rows and lists the erasure; no key was destroyed."""
    alice = populate("alice@example.org")
    assert sum(row_counts(vault, alice).values()) == 6
    vault.key_store.remove(alice)
    with pytest.raises(MemberKeyLostError):
        vault.profile.get(alice)
    report = vault.erasure.erase(alice)
    assert report.key_destroyed is False and report.rows_deleted == 5
    assert row_counts(vault, alice) == dict.fromkeys(MEMBER_ROWS, 0)
    assert vault.key_store.erased_members() == [alice]
    with pytest.raises(MemberKeyDestroyedError):
        vault.key_store.cipher(alice)


def test_reapply_names_the_members_whose_key_was_lost_and_only_them(vault, populate):
    alice, bob, carol = (populate(f"{name}@example.org") for name in ("alice", "bob", "carol"))
    vault.erasure.erase(carol)
    assert vault.erasure.reapply().keys_lost_for == ()
    vault.key_store.remove(alice)
    report = vault.erasure.reapply()
    assert report.keys_lost_for == (alice,)
    assert (report.rows_deleted_for, report.keys_destroyed_for) == (0, 0)
    assert vault.accounts.exists(alice) and vault.accounts.exists(bob)   # nothing deleted
    vault.erasure.erase(alice)
    assert vault.erasure.reapply().keys_lost_for == ()
