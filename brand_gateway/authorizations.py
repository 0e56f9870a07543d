"""Authorization codes, refresh tokens and their token families (RFC 6749 sec. 4.1, 6, 10.4).

A *family* is one approval by one member of one client's request: the grants the approval
recorded in ``consent/``, the authorization details as granted, and an absolute end. The code,
every access token and every refresh token it leads to belong to it.

Invariants:
- Codes and refresh tokens exist in clear only in the responses that carry them; the store keeps
  their SHA-256 (256 random bits each: nothing to guess).
- A code lives at most :data:`CODE_LIFETIME` seconds and is redeemed once: it is *claimed* (read
  and marked used) in one write transaction, so two concurrent exchanges cannot both succeed. A
  second use of a claimed code revokes the family, and so every token it issued (RFC 6749
  sec. 4.1.2, RFC 9700 sec. 4.5.3).
- Refresh tokens rotate (RFC 9700 sec. 4.14.2): each use claims the token and a new one is issued.
  A claimed token presented again is a replay: the family is revoked, for the attacker and the
  client alike, since the server cannot tell them apart.
- No token of a family outlives its ``expires_at``: :data:`FAMILY_LIFETIME` after approval, and
  never past the end of the latest grant it carries. A grant narrowed by its member (fewer
  fields, an earlier end) is restated in every family carrying it, in the narrowing's own
  transaction (:meth:`restate_for_grant`), so the details the family reports are the grants'
  as they stand.
- A grant's ending (withdrawn, expired, replaced) revokes every family that carries it and no
  other live grant (:meth:`revoke_for_grant`, from :mod:`brand_gateway.observers`), in the
  ending's own transaction; a family that still carries a live grant keeps reading that one
  (the decision point denies the ended grant at once).
- Every revocation records why (:class:`FamilyEnd`). One that starts on the brand's side (a
  replayed code or refresh token, the brand's RFC 7009 revocation, a disabled client, the
  family's absolute end) is told, in the revocation's transaction, to the store's ``on_end``
  hook, which records the ending on the family's grants (receipt, ledger entry, webhook;
  :mod:`brand_gateway.observers`). One that follows a grant's own ending (withdrawn, expired,
  replaced, released) is recorded by that ending already and tells nobody.
- A family past its absolute end is denied by every token lookup at once
  (:meth:`brand_gateway.tokens.TokenStore.find` reads token and family together);
  :meth:`AuthorizationStore.expire_families` records the ending afterwards, from a background
  pass, never on a brand's read.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from vault.clock import Clock

from .tokens import token_hash

if TYPE_CHECKING:
    from .repositories import AuthorizationRepository

CODE_BYTES = 32
CODE_LIFETIME = 300                 # seconds; RFC 9700 sec. 4.5.3 "short", at most 5 minutes
REFRESH_TOKEN_BYTES = 32
FAMILY_LIFETIME = 30 * 86_400       # absolute: the member re-approves after this


class FamilyEnd(StrEnum):
    """Why a family was revoked, in the words stored in its row."""

    CODE_REPLAY = "authorization code used twice"
    REFRESH_REPLAY = "refresh token replayed"
    REVOKED_BY_CLIENT = "revoked by the client"
    CLIENT_DISABLED = "client disabled"
    EXPIRED = "family expired"
    GRANT_WITHDRAWN = "grant withdrawn"
    GRANT_EXPIRED = "grant expired"
    GRANT_RELEASED = "grant released"
    GRANT_REPLACED = "grant replaced"

    @property
    def from_brand_side(self) -> bool:
        """Started on the brand's side, not by the ending of a grant."""
        return self in _BRAND_SIDE


class RefreshRefusal(StrEnum):
    """Why a refresh token was refused, as far as its client may be told: a replay that ended
    a live family is the client's own doing and news to it; whether an ended family was
    withdrawn, expired or its member erased is the member's, and is never told apart from a
    token this server does not know."""

    REPLAYED = "replayed"
    NOT_VALID = "not valid"


_BRAND_SIDE = frozenset({FamilyEnd.CODE_REPLAY, FamilyEnd.REFRESH_REPLAY,
                         FamilyEnd.REVOKED_BY_CLIENT, FamilyEnd.CLIENT_DISABLED,
                         FamilyEnd.EXPIRED})

#: Told of each family a brand-side cause revoked, inside the revocation's transaction.
FamilyEndHook = Callable[["Family", FamilyEnd, int], None]


@dataclass(frozen=True)
class Family:
    id: str
    client_id: str
    member_id: str
    authorization_details: tuple[dict[str, Any], ...]
    created_at: int
    expires_at: int
    revoked_at: int | None
    revoked_reason: FamilyEnd | None

    def live(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class AuthorizationCode:
    """A claimed code, as the token endpoint needs it."""

    family: Family
    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str


def new_secret(size: int = CODE_BYTES) -> str:
    return secrets.token_urlsafe(size)


class AuthorizationStore:
    def __init__(self, *, families: AuthorizationRepository, clock: Clock,
                 on_end: FamilyEndHook | None = None) -> None:
        self._families = families
        self._clock = clock
        self._on_end = on_end

    def now(self) -> int:
        return int(self._clock())

    # -- families ---------------------------------------------------------------------------
    def create_family(self, *, client_id: str, member_id: str, grant_ids: Sequence[str],
                      authorization_details: Sequence[dict[str, Any]], grants_end: int) -> Family:
        now = self.now()
        family_id = "fam_" + os.urandom(12).hex()
        expires_at = min(now + FAMILY_LIFETIME, grants_end)
        self._families.insert_family(family_id, client_id=client_id, member_id=member_id,
                                     authorization_details=authorization_details,
                                     created_at=now, expires_at=expires_at,
                                     grant_ids=grant_ids)
        return self.family(family_id)

    def family(self, family_id: str) -> Family:
        family = self._families.family(family_id)
        if family is None:
            raise LookupError("no such token family")
        return family

    def families_for_member(self, member_id: str) -> list[Family]:
        return self._families.families_for_member(member_id)

    def grant_ids(self, family_id: str) -> list[str]:
        """The grants the family carries, by grant id."""
        return self._families.grant_ids(family_id)

    def revoke_family(self, family_id: str, reason: FamilyEnd) -> bool:
        """Idempotent; whether this call revoked it. Every token of the family stops at once;
        a brand-side ``reason`` is told to the ``on_end`` hook in the same transaction."""
        now = self.now()
        with self._families.transaction():
            changed = self._families.revoke(family_id, FamilyEnd(reason), now)
            if changed and self._on_end is not None and FamilyEnd(reason).from_brand_side:
                self._on_end(self.family(family_id), FamilyEnd(reason), now)
        return changed

    def revoke_for_grant(self, grant_id: str, reason: FamilyEnd, *,
                         unless_live: Callable[[str], bool] | None = None) -> int:
        """Revoke every family carrying ``grant_id``; how many were live. With
        ``unless_live``, a family that still carries another grant for which it answers True
        is kept (a replaced grant leaves the family's other purposes readable)."""
        revoked = 0
        for family_id in self._families.families_with_grant(grant_id):
            others = [g for g in self.grant_ids(family_id) if g != grant_id]
            if unless_live is not None and any(unless_live(g) for g in others):
                continue
            revoked += self.revoke_family(family_id, reason)
        return revoked

    def restate_for_grant(self, grant_id: str,
                          restate: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        """Replace, in every unrevoked family carrying ``grant_id``, that grant's object of the
        authorization details by ``restate(object)``, and end the family no later than its
        objects' ``expires_at`` allow (a member narrowed the grant: :mod:`.observers`); how
        many families changed. What a family says it authorizes is what introspection and a
        refresh answer (RFC 9396 sec. 7, 9.2)."""
        changed = 0
        for family_id in self._families.families_with_grant(grant_id):
            family = self.family(family_id)
            if family.revoked_at is not None:
                continue
            details = [restate(dict(detail)) if detail.get("grant_id") == grant_id else detail
                       for detail in family.authorization_details]
            ends = [int(detail["expires_at"]) for detail in details]
            self._families.update_family(
                family_id, authorization_details=details,
                expires_at=min(family.expires_at, max(ends, default=family.expires_at)))
            changed += 1
        return changed

    def expire_families(self) -> int:
        """Revoke, as :attr:`FamilyEnd.EXPIRED`, every family past its absolute end that is not
        revoked yet, so that its ending is recorded (tokens were denied from the end on
        regardless); how many. Idempotent, and safe to run from several processes: each family
        is revoked, and told to the hook, by one of them only."""
        return sum(self.revoke_family(family_id, FamilyEnd.EXPIRED)
                   for family_id in self._families.expired_unrevoked(self.now()))

    def revoke_for_client(self, client_id: str, reason: FamilyEnd) -> int:
        return sum(self.revoke_family(family_id, reason)
                   for family_id in self._families.unrevoked_for_client(client_id))

    # -- codes ------------------------------------------------------------------------------
    def save_code(self, code: str, *, family_id: str, client_id: str, redirect_uri: str,
                  code_challenge: str, code_challenge_method: str) -> None:
        now = self.now()
        self._families.insert_code(
            token_hash(code), family_id=family_id, client_id=client_id,
            redirect_uri=redirect_uri, code_challenge=code_challenge,
            code_challenge_method=code_challenge_method, issued_at=now,
            expires_at=now + CODE_LIFETIME)

    def claim_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Redeem ``code`` for ``client_id`` once; ``None`` if unknown, expired, another
        client's, or already used (which revokes the family it issued)."""
        if not isinstance(code, str) or not code or len(code) > 512:
            return None
        digest = token_hash(code)
        now = self.now()
        with self._families.transaction():
            stored = self._families.code(digest)
            if stored is None or stored.client_id != client_id:
                return None
            if stored.used_at is not None:
                self.revoke_family(stored.family_id, FamilyEnd.CODE_REPLAY)
                return None
            self._families.use_code(digest, now)
            if now >= stored.expires_at:
                return None
            family = self.family(stored.family_id)
            if not family.live(now):
                return None
            return AuthorizationCode(family, stored.client_id, stored.redirect_uri,
                                     stored.code_challenge, stored.code_challenge_method)

    # -- refresh tokens ---------------------------------------------------------------------
    def save_refresh_token(self, token: str, family_id: str) -> None:
        self._families.insert_refresh_token(token_hash(token), family_id, self.now())

    def claim_refresh_token(self, token: str, client_id: str) -> Family | None:
        """Use ``token`` once; its family if live, else ``None``. A replay revokes the family."""
        claimed = self.claim_refresh(token, client_id)
        return claimed if isinstance(claimed, Family) else None

    def claim_refresh(self, token: str, client_id: str) -> Family | RefreshRefusal:
        """Use ``token`` once; its family if live, else why not (:class:`RefreshRefusal`:
        ``REPLAYED`` only for a replay that found its family live, and revoked it)."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return RefreshRefusal.NOT_VALID
        digest = token_hash(token)
        now = self.now()
        with self._families.transaction():
            stored = self._families.refresh_token(digest)
            if stored is None or stored.client_id != client_id:
                return RefreshRefusal.NOT_VALID
            if stored.used_at is not None:
                live = self.family(stored.family_id).live(now)
                self.revoke_family(stored.family_id, FamilyEnd.REFRESH_REPLAY)
                return RefreshRefusal.REPLAYED if live else RefreshRefusal.NOT_VALID
            self._families.use_refresh_token(digest, now)
            family = self.family(stored.family_id)
            return family if family.live(now) else RefreshRefusal.NOT_VALID

    def refresh_token_used(self, token: str) -> bool:
        stored = self._families.refresh_token(token_hash(token))
        return stored is None or stored.used_at is not None

    def find_refresh_family(self, token: str) -> Family | None:
        """The family of a refresh token, without using it (revocation, introspection)."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        stored = self._families.refresh_token(token_hash(token))
        return None if stored is None else self.family(stored.family_id)
