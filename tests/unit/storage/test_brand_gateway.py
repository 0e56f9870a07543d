"""Contracts of the brand gateway's repositories: access tokens, clients, token families with
their codes and refresh tokens, pairwise subjects, brand names, the member export's reads and due
endings (``brand_gateway/repositories.py``; the request counters' leases are in
``test_rate_counts.py``)."""

from __future__ import annotations

import pytest

from brand_gateway.authorizations import FamilyEnd
from brand_gateway.clients import OAuthClient
from brand_gateway.repositories import CodeRecord, RefreshTokenRecord
from consent.model import Grant, GrantStatus, Mode
from consent.vocabulary import expand
from vault.brands import Brand

from .conftest import Repositories, add_member

DETAILS = ({"type": "member_data", "purpose": "dpv:Marketing"},)


@pytest.fixture
def brands(repositories: Repositories) -> tuple[str, str]:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    assert repositories.brands.insert(Brand("brand_2", "Atlas", ()), 1)
    return "brand_1", "brand_2"


@pytest.fixture
def members(repositories: Repositories, brands: tuple[str, str]) -> tuple[str, str]:
    """Alice and Bob, and a client of each brand (``client_a`` of the first)."""
    _client(repositories, "client_a", brands[0])
    _client(repositories, "client_b", brands[1])
    return add_member(repositories, 1), add_member(repositories, 2)


def _client(repositories: Repositories, client_id: str, brand_id: str, *,
            created_at: int = 10) -> None:
    repositories.clients.insert(
        client_id, brand_id=brand_id, secret_hash=b"hash of " + client_id.encode(),
        redirect_uris=("https://velo.example/cb",), auth_method="client_secret_basic",
        grant_types=("authorization_code", "refresh_token"), created_at=created_at,
        scopes=("webhooks:manage",), accepted_agreements=("SD-BASE",))


def _family(repositories: Repositories, family_id: str, client_id: str, member_id: str, *,
            created_at: int = 10, expires_at: int = 1_000,
            grant_ids: tuple[str, ...] = ()) -> None:
    repositories.authorizations.insert_family(
        family_id, client_id=client_id, member_id=member_id, authorization_details=DETAILS,
        created_at=created_at, expires_at=expires_at, grant_ids=grant_ids)


def _grant(grant_id: str, member_id: str, brand_id: str, *, ends_at: int = 1_000) -> Grant:
    fields = frozenset({"city"})
    return Grant(grant_id, member_id, brand_id, "dpv:Marketing", fields, Mode.INDIVIDUAL, 10,
                 ends_at, 30, False, None, "EU", "vrmvault member page", "SD-BASE", 1,
                 GrantStatus.ACTIVE, None, 1, 10, 10, expand(fields))


def test_clients_are_read_with_their_brand_and_changed_in_place(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    clients = repositories.clients
    _client(repositories, "client_b", brands[0], created_at=20)
    _client(repositories, "client_a", brands[0], created_at=20)
    _client(repositories, "client_c", brands[1], created_at=30)
    velo = clients.get("client_a")
    assert velo == OAuthClient("client_a", brands[0], "Velo", ("https://velo.example/cb",),
                               "client_secret_basic", ("authorization_code", "refresh_token"),
                               "active", 20, 20, ("webhooks:manage",), ("SD-BASE",))
    assert clients.get("client_z") is None and clients.with_secret_hash("client_z") is None
    # By brand name, then by creation, then by id.
    assert [c.client_id for c in clients.all()] == ["client_c", "client_a", "client_b"]
    record = clients.with_secret_hash("client_a")
    assert record is not None and (record.client, record.secret_hash) == (
        velo, b"hash of client_a")
    clients.set_secret_hash("client_a", b"new hash", 40)
    record = clients.with_secret_hash("client_a")
    assert record is not None and (record.secret_hash, record.client.secret_rotated_at) == (
        b"new hash", 40)
    clients.disable("client_a")
    disabled = clients.get("client_a")
    assert disabled is not None and disabled.status == "disabled" and not disabled.active
    other = clients.get("client_b")
    assert other is not None and other.active


def test_tokens_are_found_with_their_family_and_revoked_once(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    tokens = repositories.tokens
    alice = add_member(repositories, 1)
    _client(repositories, "client_a", brands[0])
    _family(repositories, "fam_1", "client_a", alice, expires_at=900)
    tokens.insert(b"t" * 32, client_id="client_a", grant_type="client_credentials",
                  scope="webhooks:manage", issued_at=10, expires_at=610, family_id=None)
    tokens.insert(b"d" * 32, client_id="client_a", grant_type="authorization_code", scope="",
                  issued_at=20, expires_at=620, family_id="fam_1")
    brand_level = tokens.find(b"t" * 32)
    assert brand_level is not None and (
        brand_level.client_id, brand_level.grant_type, brand_level.scope,
        brand_level.issued_at, brand_level.expires_at, brand_level.revoked_at,
        brand_level.family_id, brand_level.member_id, brand_level.delegated) == (
        "client_a", "client_credentials", "webhooks:manage", 10, 610, None, None, None, False)
    delegated = tokens.find(b"d" * 32)
    assert delegated is not None and (
        delegated.token_hash, delegated.member_id, delegated.family_expires_at,
        delegated.family_revoked_at, delegated.authorization_details) == (
        b"d" * 32, alice, 900, None, DETAILS)
    assert tokens.find(b"x" * 32) is None
    tokens.revoke(b"t" * 32, 50)
    tokens.revoke(b"t" * 32, 60)                         # the first revocation stays
    revoked = tokens.find(b"t" * 32)
    assert revoked is not None and revoked.revoked_at == 50
    assert tokens.revoke_for_client("client_a", 70) == 1     # the one still live
    assert tokens.revoke_for_client("client_a", 80) == 0
    # A revoked family is seen by the very next lookup.
    assert repositories.authorizations.revoke("fam_1", FamilyEnd.REVOKED_BY_CLIENT, 90)
    again = tokens.find(b"d" * 32)
    assert again is not None and again.family_revoked_at == 90 and again.revoked
    # Expired records go, those expired before the time given only, revoked or not.
    tokens.insert(b"n" * 32, client_id="client_a", grant_type="client_credentials",
                  scope="", issued_at=30, expires_at=630, family_id=None)
    assert tokens.delete_expired(620) == 1                  # t (610); d's 620 is not before
    assert tokens.find(b"t" * 32) is None and tokens.find(b"d" * 32) is not None
    assert tokens.delete_expired(630) == 1
    assert tokens.find(b"d" * 32) is None and tokens.find(b"n" * 32) is not None


def test_families_carry_grants_and_are_revoked_with_their_tokens(
        repositories: Repositories, brands: tuple[str, str],
        members: tuple[str, str]) -> None:
    families = repositories.authorizations
    alice, bob = members
    for grant_id, member in (("g2", alice), ("g1", alice), ("g3", bob)):
        repositories.grants.insert(_grant(grant_id, member, brands[0]))
    _family(repositories, "fam_1", "client_a", alice, created_at=10, grant_ids=("g2", "g1"))
    _family(repositories, "fam_2", "client_b", alice, created_at=20, expires_at=50,
            grant_ids=("g1",))
    _family(repositories, "fam_3", "client_a", bob, created_at=30, grant_ids=("g3",))
    family = families.family("fam_1")
    assert family is not None and (
        family.client_id, family.member_id, family.authorization_details, family.created_at,
        family.expires_at, family.revoked_at, family.revoked_reason) == (
        "client_a", alice, DETAILS, 10, 1_000, None, None)
    assert families.family("fam_9") is None
    assert [f.id for f in families.families_for_member(alice)] == ["fam_2", "fam_1"]
    assert families.grant_ids("fam_1") == ["g1", "g2"]
    assert sorted(families.families_with_grant("g1")) == ["fam_1", "fam_2"]
    assert families.expired_unrevoked(50) == ["fam_2"] and families.expired_unrevoked(49) == []
    assert sorted(families.unrevoked_for_client("client_a")) == ["fam_1", "fam_3"]
    repositories.tokens.insert(b"a" * 32, client_id="client_a", grant_type="refresh_token",
                               scope="", issued_at=10, expires_at=610, family_id="fam_1")
    repositories.tokens.insert(b"b" * 32, client_id="client_a", grant_type="refresh_token",
                               scope="", issued_at=10, expires_at=610, family_id="fam_3")
    assert families.revoke("fam_1", FamilyEnd.CODE_REPLAY, 60) is True
    assert families.revoke("fam_1", FamilyEnd.EXPIRED, 70) is False      # once
    revoked = families.family("fam_1")
    assert revoked is not None and (revoked.revoked_at, revoked.revoked_reason) == (
        60, FamilyEnd.CODE_REPLAY)
    token = repositories.tokens.find(b"a" * 32)
    assert token is not None and token.revoked_at == 60
    other = repositories.tokens.find(b"b" * 32)
    assert other is not None and other.revoked_at is None
    assert families.unrevoked_for_client("client_a") == ["fam_3"]


def test_codes_and_refresh_tokens_are_kept_by_hash_and_used(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    families = repositories.authorizations
    alice = add_member(repositories, 1)
    _client(repositories, "client_a", brands[0])
    _family(repositories, "fam_1", "client_a", alice)
    families.insert_code(b"c" * 32, family_id="fam_1", client_id="client_a",
                         redirect_uri="https://velo.example/cb", code_challenge="challenge",
                         code_challenge_method="S256", issued_at=10, expires_at=310)
    assert families.code(b"c" * 32) == CodeRecord("fam_1", "client_a",
                                                  "https://velo.example/cb", "challenge",
                                                  "S256", 310, None)
    assert families.code(b"x" * 32) is None
    families.use_code(b"c" * 32, 20)
    code = families.code(b"c" * 32)
    assert code is not None and code.used_at == 20
    families.insert_refresh_token(b"r" * 32, "fam_1", 30)
    assert families.refresh_token(b"r" * 32) == RefreshTokenRecord("fam_1", "client_a", None)
    assert families.refresh_token(b"x" * 32) is None
    families.use_refresh_token(b"r" * 32, 40)
    assert families.refresh_token(b"r" * 32) == RefreshTokenRecord("fam_1", "client_a", 40)


def test_pairwise_subjects_resolve_only_for_their_brand(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    subjects = repositories.pairwise_subjects
    alice = add_member(repositories, 1)
    assert subjects.is_recorded(brands[0], "pw-alice") is False
    assert subjects.record(brands[0], "pw-alice", alice) is True
    assert subjects.record(brands[0], "pw-alice", alice) is True        # idempotent
    assert subjects.is_recorded(brands[0], "pw-alice") is True
    assert subjects.member_for(brands[0], "pw-alice") == alice
    assert subjects.member_for(brands[1], "pw-alice") is None
    assert subjects.is_recorded(brands[1], "pw-alice") is False
    # An unknown member or brand: refused, nothing written.
    assert subjects.record(brands[0], "pw-ghost", "f" * 32) is False
    assert subjects.record("brand_9", "pw-alice-9", alice) is False
    assert subjects.member_for(brands[0], "pw-ghost") is None
    assert subjects.member_for("brand_9", "pw-alice-9") is None


def test_brand_names_of_some_or_every_brand(repositories: Repositories,
                                           brands: tuple[str, str]) -> None:
    names = repositories.brand_names
    assert names.names() == {brands[0]: "Velo", brands[1]: "Atlas"}
    assert names.names({brands[1], "brand_9"}) == {brands[1]: "Atlas"}
    assert names.names(set()) == {}


def test_the_export_reads_a_members_subjects_and_authorizations(
        repositories: Repositories, brands: tuple[str, str],
        members: tuple[str, str]) -> None:
    export = repositories.gateway_export
    alice, bob = members
    repositories.grants.insert(_grant("g1", alice, brands[0]))
    assert export.identifiers(alice) == [] and export.authorizations(alice) == []
    assert export.brands_told(alice) == [brands[0]] and export.brands_told(bob) == []
    assert repositories.pairwise_subjects.record(brands[1], "pw-atlas", alice)
    assert repositories.pairwise_subjects.record(brands[0], "pw-velo", alice)
    assert repositories.pairwise_subjects.record(brands[0], "pw-bob", bob)
    assert export.identifiers(alice) == [(brands[0], "pw-velo"), (brands[1], "pw-atlas")]
    assert export.brands_told(alice) == sorted(brands) and export.brands_told(bob) == [brands[0]]
    _family(repositories, "fam_2", "client_b", alice, created_at=20)
    _family(repositories, "fam_1", "client_a", alice, created_at=20, grant_ids=("g1",))
    _family(repositories, "fam_3", "client_a", bob, created_at=5)
    families = repositories.authorizations
    families.insert_code(b"c" * 32, family_id="fam_1", client_id="client_a",
                         redirect_uri="https://velo.example/cb", code_challenge="ch",
                         code_challenge_method="S256", issued_at=20, expires_at=320)
    families.use_code(b"c" * 32, 25)
    for number, issued_at in ((1, 30), (2, 40)):
        repositories.tokens.insert(bytes([number]) * 32, client_id="client_a",
                                   grant_type="authorization_code", scope="",
                                   issued_at=issued_at, expires_at=issued_at + 600,
                                   family_id="fam_1")
    families.insert_refresh_token(b"r" * 32, "fam_1", 35)
    first, second = export.authorizations(alice)         # oldest first, then by id
    assert (first.family.id, first.brand_id, first.grant_ids, first.redirect_uri,
            first.code_issued_at, first.code_used_at) == (
        "fam_1", brands[0], ("g1",), "https://velo.example/cb", 20, 25)
    assert (first.access_tokens, first.first_access_issued_at, first.last_access_issued_at,
            first.last_access_expires_at, first.refresh_tokens,
            first.last_refresh_issued_at) == (2, 30, 40, 640, 1, 35)
    assert (second.family.id, second.brand_id, second.grant_ids, second.redirect_uri,
            second.access_tokens, second.first_access_issued_at, second.refresh_tokens,
            second.last_refresh_issued_at) == ("fam_2", brands[1], (), None, 0, None, 0, None)
    # No webhook was queued about the member (the outbox's rows are written by its own
    # service; the export of queued ones is checked end to end in
    # tests/functional/test_export_everything.py).
    assert export.notifications([(brands[0], "pw-velo"), (brands[1], "pw-atlas")]) == []
    assert export.notifications([]) == []


def test_endings_are_due_when_a_grant_or_a_family_ended_unrecorded(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    endings, grants = repositories.endings, repositories.grants
    alice = add_member(repositories, 1)
    _client(repositories, "client_a", brands[0])
    assert endings.due(10_000) is False
    grants.insert(_grant("g1", alice, brands[0], ends_at=100))
    assert endings.due(99) is False and endings.due(100) is True
    assert grants.record_expiry("g1")
    assert endings.due(10_000) is False
    _family(repositories, "fam_1", "client_a", alice, expires_at=200)
    assert endings.due(199) is False and endings.due(200) is True
    assert repositories.authorizations.revoke("fam_1", FamilyEnd.EXPIRED, 200)
    assert endings.due(10_000) is False

