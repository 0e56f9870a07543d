"""brand_gateway.authorizations.AuthorizationStore: token families, single-use codes, rotating
refresh tokens, revocation by family, grant and client (RFC 6749 sec. 4.1.2, 10.5; RFC 9700
sec. 4.5.3, 4.14.2)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from brand_gateway.authorizations import (
    CODE_LIFETIME,
    FAMILY_LIFETIME,
    AuthorizationStore,
    Family,
    FamilyEnd,
)
from brand_gateway.clients import ClientRegistry, OAuthClient
from brand_gateway.storage import authorization_store, token_store
from consent.context import Consent
from consent.grants import DAY, BrandRequest
from tests.conftest import TEST_HASHING
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome

CALLBACK = "https://velo.example/cb"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"      # RFC 7636 appendix B
DETAILS = ({"type": "vrmvault-member-data", "purpose": "dpv:ServiceProvision",
            "datatypes": ["given_name"], "grant_id": "grant_x"},)


@pytest.fixture
def store(vault: Vault, clock: FrozenClock) -> AuthorizationStore:
    return authorization_store(database=vault.data, clock=clock)


@pytest.fixture
def velo(registry: ClientRegistry) -> OAuthClient:
    return registry.create("Velo", [CALLBACK], ["bicycles"])[0]


@pytest.fixture
def grocer(registry: ClientRegistry) -> OAuthClient:
    return registry.create("Fresh Grocer", ["https://grocer.example/cb"])[0]


def give_grant(consent: Consent, member_id: str, client: OAuthClient,
               fields: tuple[str, ...] = ("given_name",), days: int = 30) -> str:
    """A real grant row (families point at grants), on an agreed SD-BASE term."""
    consent.terms.update(member_id, agreement="SD-BASE", purposes=["dpv:ServiceProvision"],
                         max_days=90, aggregate_allowed=False, sale_sharing_opt_out=False)
    if consent.agreements.in_force(member_id, client.brand_id) is None:
        offer = consent.agreements.proffer(member_id, client.brand_id)
        consent.agreements.brand_accepts(offer.id, client.brand_id)
    grant, _ = consent.grants.grant(member_id, BrandRequest(
        client.brand_id, "dpv:ServiceProvision", frozenset(fields), days=days))
    return grant.id


def family_of(store: AuthorizationStore, client: OAuthClient, member_id: str, *,
              grant_ids: tuple[str, ...] = (), grants_end: int | None = None) -> Family:
    end = store.now() + 90 * DAY if grants_end is None else grants_end
    return store.create_family(client_id=client.client_id, member_id=member_id,
                               grant_ids=grant_ids, authorization_details=DETAILS,
                               grants_end=end)


def save_code(store: AuthorizationStore, family: Family, code: str = "code-1") -> str:
    store.save_code(code, family_id=family.id, client_id=family.client_id,
                    redirect_uri=CALLBACK, code_challenge=CHALLENGE,
                    code_challenge_method="S256")
    return code


def revoked(store: AuthorizationStore, family: Family) -> bool:
    return store.family(family.id).revoked_at is not None


# -- families -------------------------------------------------------------------------------------
def test_a_family_keeps_what_was_approved(store: AuthorizationStore, velo: OAuthClient,
                                          member_id: str, clock: FrozenClock) -> None:
    family = family_of(store, velo, member_id)
    assert family.client_id == velo.client_id and family.member_id == member_id
    assert family.authorization_details == DETAILS
    assert family.created_at == int(clock())
    assert family.revoked_at is None and family.live(clock())
    assert store.family(family.id) == family
    assert store.families_for_member(member_id) == [family]


def test_a_family_lasts_at_most_family_lifetime(store: AuthorizationStore, velo: OAuthClient,
                                                member_id: str, clock: FrozenClock) -> None:
    family = family_of(store, velo, member_id, grants_end=int(clock()) + 365 * DAY)
    assert family.expires_at == int(clock()) + FAMILY_LIFETIME


def test_a_family_ends_with_its_grants(store: AuthorizationStore, velo: OAuthClient,
                                       member_id: str, clock: FrozenClock) -> None:
    end = int(clock()) + 7 * DAY
    family = family_of(store, velo, member_id, grants_end=end)
    assert family.expires_at == end
    assert family.live(end - 1)
    assert not family.live(end)


def test_an_unknown_family_is_a_lookup_error(store: AuthorizationStore) -> None:
    with pytest.raises(LookupError):
        store.family("fam_nope")


def test_revoking_a_family_is_idempotent_and_ends_its_access_tokens(
        vault: Vault, clock: FrozenClock, store: AuthorizationStore, velo: OAuthClient,
        member_id: str) -> None:
    family = family_of(store, velo, member_id)
    other = family_of(store, velo, member_id)
    tokens = token_store(database=vault.data, clock=clock)
    tokens.save("access-1", client_id=velo.client_id, grant_type="authorization_code",
                scope="", expires_in=600, family_id=family.id)
    tokens.save("access-2", client_id=velo.client_id, grant_type="authorization_code",
                scope="", expires_in=600, family_id=other.id)
    assert store.revoke_family(family.id, FamilyEnd.GRANT_WITHDRAWN) is True
    assert store.revoke_family(family.id, FamilyEnd.CODE_REPLAY) is False
    assert store.family(family.id).revoked_reason is FamilyEnd.GRANT_WITHDRAWN
    assert not tokens.find("access-1").active(clock())          # type: ignore[union-attr]
    assert tokens.find("access-2").active(clock())              # type: ignore[union-attr]
    assert not revoked(store, other)


# -- codes ----------------------------------------------------------------------------------------
def test_a_code_is_claimed_once(store: AuthorizationStore, velo: OAuthClient,
                                member_id: str) -> None:
    family = family_of(store, velo, member_id)
    code = save_code(store, family)
    claimed = store.claim_code(code, velo.client_id)
    assert claimed is not None
    assert claimed.family == family
    assert (claimed.client_id, claimed.redirect_uri) == (velo.client_id, CALLBACK)
    assert (claimed.code_challenge, claimed.code_challenge_method) == (CHALLENGE, "S256")


def test_of_two_claims_of_one_code_only_the_first_wins_and_the_family_is_revoked(
        store: AuthorizationStore, vault_home: VaultHome, clock: FrozenClock,
        velo: OAuthClient, member_id: str) -> None:
    family = family_of(store, velo, member_id)
    code = save_code(store, family)
    # The second claim comes through a connection of its own, as from another worker: what
    # stops it is the store's row, not anything this process remembers.
    with vault_home.open(clock=clock, hashing=TEST_HASHING) as other_worker:
        racer = authorization_store(database=other_worker.data, clock=clock)
        first = store.claim_code(code, velo.client_id)
        second = racer.claim_code(code, velo.client_id)
    assert first is not None
    assert second is None
    assert store.family(family.id).revoked_reason is FamilyEnd.CODE_REPLAY


def test_another_clients_claim_does_not_burn_the_code(store: AuthorizationStore,
                                                      velo: OAuthClient, grocer: OAuthClient,
                                                      member_id: str) -> None:
    family = family_of(store, velo, member_id)
    code = save_code(store, family)
    assert store.claim_code(code, grocer.client_id) is None
    assert not revoked(store, family)
    assert store.claim_code(code, velo.client_id) is not None


def test_a_code_expires_after_code_lifetime(store: AuthorizationStore, velo: OAuthClient,
                                            member_id: str, clock: FrozenClock) -> None:
    family = family_of(store, velo, member_id)
    early = save_code(store, family, "early")
    late = save_code(store, family, "late")
    clock.advance(CODE_LIFETIME - 1)
    assert store.claim_code(early, velo.client_id) is not None
    clock.advance(1)
    assert store.claim_code(late, velo.client_id) is None
    assert CODE_LIFETIME <= 600                 # RFC 6749 sec. 4.1.2: at most 10 minutes


def test_a_code_of_a_revoked_family_cannot_be_claimed(store: AuthorizationStore,
                                                      velo: OAuthClient,
                                                      member_id: str) -> None:
    family = family_of(store, velo, member_id)
    code = save_code(store, family)
    store.revoke_family(family.id, FamilyEnd.GRANT_WITHDRAWN)
    assert store.claim_code(code, velo.client_id) is None


@pytest.mark.parametrize("code", [None, "", "x" * 513, 42, "no-such-code"])
def test_junk_codes_claim_nothing(store: AuthorizationStore, velo: OAuthClient,
                                  code: Any) -> None:
    assert store.claim_code(code, velo.client_id) is None


def test_codes_are_stored_only_hashed(vault: Vault, store: AuthorizationStore,
                                      velo: OAuthClient, member_id: str) -> None:
    code = save_code(store, family_of(store, velo, member_id), "the-code-itself")
    (row,) = vault.data.all("SELECT * FROM oauth_authorization_codes")
    assert bytes(row["code_hash"]) == hashlib.sha256(code.encode()).digest()
    assert all(code not in str(value) for value in tuple(row))


# -- refresh tokens ---------------------------------------------------------------------------
def test_a_refresh_token_is_claimed_once_and_a_replay_revokes_the_family(
        store: AuthorizationStore, velo: OAuthClient, member_id: str) -> None:
    family = family_of(store, velo, member_id)
    store.save_refresh_token("refresh-1", family.id)
    assert not store.refresh_token_used("refresh-1")
    assert store.claim_refresh_token("refresh-1", velo.client_id) == family
    assert store.refresh_token_used("refresh-1")
    store.save_refresh_token("refresh-2", family.id)          # the rotated one
    assert store.claim_refresh_token("refresh-1", velo.client_id) is None
    assert store.family(family.id).revoked_reason is FamilyEnd.REFRESH_REPLAY
    assert store.claim_refresh_token("refresh-2", velo.client_id) is None


def test_another_clients_refresh_claim_does_not_burn_it(store: AuthorizationStore,
                                                        velo: OAuthClient,
                                                        grocer: OAuthClient,
                                                        member_id: str) -> None:
    family = family_of(store, velo, member_id)
    store.save_refresh_token("refresh-1", family.id)
    assert store.claim_refresh_token("refresh-1", grocer.client_id) is None
    assert not revoked(store, family)
    assert store.claim_refresh_token("refresh-1", velo.client_id) == family


def test_no_refresh_past_the_familys_end(store: AuthorizationStore, velo: OAuthClient,
                                         member_id: str, clock: FrozenClock) -> None:
    family = family_of(store, velo, member_id, grants_end=int(clock()) + DAY)
    store.save_refresh_token("before", family.id)
    store.save_refresh_token("after", family.id)
    clock.advance(DAY - 1)
    assert store.claim_refresh_token("before", velo.client_id) is not None
    clock.advance(1)
    assert store.claim_refresh_token("after", velo.client_id) is None


def test_finding_a_refresh_token_does_not_use_it(store: AuthorizationStore,
                                                 velo: OAuthClient, member_id: str) -> None:
    family = family_of(store, velo, member_id)
    store.save_refresh_token("refresh-1", family.id)
    assert store.find_refresh_family("refresh-1") == family
    assert store.find_refresh_family("unknown") is None
    assert store.find_refresh_family("") is None
    assert not store.refresh_token_used("refresh-1")
    assert store.refresh_token_used("unknown")                 # unknown counts as unusable


# -- revocation by grant and by client ------------------------------------------------------------
def test_revoke_for_grant_revokes_exactly_the_families_carrying_it(
        store: AuthorizationStore, consent: Consent, velo: OAuthClient,
        member_id: str) -> None:
    grant_a = give_grant(consent, member_id, velo)
    grant_b = give_grant(consent, member_id, velo, fields=("city",))
    with_a = family_of(store, velo, member_id, grant_ids=(grant_a,))
    with_both = family_of(store, velo, member_id, grant_ids=(grant_a, grant_b))
    with_b = family_of(store, velo, member_id, grant_ids=(grant_b,))
    assert set(store.grant_ids(with_both.id)) == {grant_a, grant_b}
    assert store.revoke_for_grant(grant_a, FamilyEnd.GRANT_WITHDRAWN) == 2
    assert revoked(store, with_a) and revoked(store, with_both)
    assert not revoked(store, with_b)
    assert store.revoke_for_grant(grant_a, FamilyEnd.GRANT_EXPIRED) == 0      # idempotent
    assert store.revoke_for_grant("grant_unknown", FamilyEnd.GRANT_EXPIRED) == 0


def test_revoke_for_client_leaves_other_clients(store: AuthorizationStore, velo: OAuthClient,
                                                grocer: OAuthClient, member_id: str) -> None:
    velo_family = family_of(store, velo, member_id)
    grocer_family = family_of(store, grocer, member_id)
    assert store.revoke_for_client(velo.client_id, FamilyEnd.CLIENT_DISABLED) == 1
    assert revoked(store, velo_family)
    assert not revoked(store, grocer_family)


# -- endings told to the hook ---------------------------------------------------------
class Told:
    """An ``on_end`` hook that notes what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, FamilyEnd, int]] = []

    def __call__(self, family: Family, reason: FamilyEnd, now: int) -> None:
        assert family.revoked_at == now and family.revoked_reason is reason   # revoked first
        self.calls.append((family.id, reason, now))


def test_brand_side_endings_are_told_once_and_grant_endings_never(
        vault: Vault, clock: FrozenClock, velo: OAuthClient, member_id: str) -> None:
    told = Told()
    store = authorization_store(database=vault.data, clock=clock, on_end=told)
    replayed = family_of(store, velo, member_id)
    code = save_code(store, replayed)
    assert store.claim_code(code, velo.client_id) is not None
    clock.advance(5)
    assert store.claim_code(code, velo.client_id) is None              # the replay
    assert store.claim_code(code, velo.client_id) is None              # told once only
    assert told.calls == [(replayed.id, FamilyEnd.CODE_REPLAY, int(clock()))]
    withdrawn = family_of(store, velo, member_id)
    assert store.revoke_family(withdrawn.id, FamilyEnd.GRANT_WITHDRAWN)
    assert len(told.calls) == 1          # recorded by the grant's own ending, not told again
    refreshed = family_of(store, velo, member_id)
    store.save_refresh_token("refresh-1", refreshed.id)
    assert store.claim_refresh_token("refresh-1", velo.client_id) is not None
    assert store.claim_refresh_token("refresh-1", velo.client_id) is None
    assert told.calls[-1][:2] == (refreshed.id, FamilyEnd.REFRESH_REPLAY)


def test_expire_families_records_each_past_its_end_once(
        vault: Vault, clock: FrozenClock, velo: OAuthClient, member_id: str) -> None:
    told = Told()
    store = authorization_store(database=vault.data, clock=clock, on_end=told)
    short = family_of(store, velo, member_id, grants_end=store.now() + DAY)
    long = family_of(store, velo, member_id)
    assert store.expire_families() == 0
    clock.advance(DAY - 1)
    assert store.expire_families() == 0
    clock.advance(1)
    assert store.expire_families() == 1
    assert store.family(short.id).revoked_reason is FamilyEnd.EXPIRED
    assert told.calls == [(short.id, FamilyEnd.EXPIRED, int(clock()))]
    assert store.expire_families() == 0 and len(told.calls) == 1
    assert not revoked(store, long)
    clock.advance(FAMILY_LIFETIME)
    assert store.expire_families() == 1 and told.calls[-1][0] == long.id


def test_revoke_for_grant_can_keep_a_family_with_another_live_grant(
        store: AuthorizationStore, consent: Consent, velo: OAuthClient,
        member_id: str) -> None:
    grant_a = give_grant(consent, member_id, velo)
    grant_b = give_grant(consent, member_id, velo, fields=("city",))
    with_both = family_of(store, velo, member_id, grant_ids=(grant_a, grant_b))
    alone = family_of(store, velo, member_id, grant_ids=(grant_a,))
    assert store.revoke_for_grant(grant_a, FamilyEnd.GRANT_REPLACED,
                                  unless_live=lambda other: other == grant_b) == 1
    assert revoked(store, alone) and not revoked(store, with_both)
