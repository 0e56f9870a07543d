"""Authorization codes, refresh tokens and their token families (RFC 6749 sec. 4.1, 6, 10.4).

A *family* is one approval by one member of one client's request: the grants the approval
recorded in ``consent/``, the authorization details as granted, and an absolute end. The code,
every access token and every refresh token it leads to belong to it.

Invariants:
- Codes and refresh tokens exist in clear only in the responses that carry them; the store keeps
  their SHA-256 (256 random bits each: nothing to guess).
- A code lives at most :data:`CODE_LIFETIME` seconds and is redeemed once: it is *claimed* by one
  conditional UPDATE under the write lock, so two concurrent exchanges cannot both succeed. A
  second use of a claimed code revokes the family, and so every token it issued (RFC 6749
  sec. 4.1.2, RFC 9700 sec. 4.5.3).
- Refresh tokens rotate (RFC 9700 sec. 4.14.2): each use claims the token and a new one is issued.
  A claimed token presented again is a replay: the family is revoked, for the attacker and the
  client alike, since the server cannot tell them apart.
- No token of a family outlives its ``expires_at``: :data:`FAMILY_LIFETIME` after approval, and
  never past the end of the latest grant it carries.
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
- A family past its absolute end is denied by every token lookup at once (the join in
  :meth:`brand_gateway.tokens.TokenStore.find`); :meth:`AuthorizationStore.expire_families`
  records the ending afterwards, from a background pass, never on a brand's read.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vault.clock import Clock
from vault.storage import Database

from .tokens import token_hash

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
    def __init__(self, *, database: Database, clock: Clock,
                 on_end: FamilyEndHook | None = None) -> None:
        self._db = database
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
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO oauth_token_families (id, client_id, member_id,"
                " authorization_details, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (family_id, client_id, member_id, json.dumps(list(authorization_details)),
                 now, expires_at))
            for grant_id in grant_ids:
                self._db.execute("INSERT INTO oauth_family_grants (grant_id, family_id)"
                                 " VALUES (?, ?)", (grant_id, family_id))
        return self.family(family_id)

    def family(self, family_id: str) -> Family:
        row = self._db.one("SELECT * FROM oauth_token_families WHERE id = ?", (family_id,))
        if row is None:
            raise LookupError("no such token family")
        return _family(row)

    def families_for_member(self, member_id: str) -> list[Family]:
        return [_family(r) for r in self._db.all(
            "SELECT * FROM oauth_token_families WHERE member_id = ? ORDER BY created_at DESC",
            (member_id,))]

    def grant_ids(self, family_id: str) -> list[str]:
        return [r["grant_id"] for r in self._db.all(
            "SELECT grant_id FROM oauth_family_grants WHERE family_id = ?", (family_id,))]

    def revoke_family(self, family_id: str, reason: FamilyEnd) -> bool:
        """Idempotent; whether this call revoked it. Every token of the family stops at once;
        a brand-side ``reason`` is told to the ``on_end`` hook in the same transaction."""
        now = self.now()
        with self._db.transaction():
            changed = self._db.execute(
                "UPDATE oauth_token_families SET revoked_at = ?, revoked_reason = ?"
                " WHERE id = ? AND revoked_at IS NULL",
                (now, FamilyEnd(reason).value, family_id)).rowcount
            self._db.execute(
                "UPDATE oauth_access_tokens SET revoked_at = ? WHERE family_id = ?"
                " AND revoked_at IS NULL", (now, family_id))
            if changed and self._on_end is not None and FamilyEnd(reason).from_brand_side:
                self._on_end(self.family(family_id), FamilyEnd(reason), now)
        return bool(changed)

    def revoke_for_grant(self, grant_id: str, reason: FamilyEnd, *,
                         unless_live: Callable[[str], bool] | None = None) -> int:
        """Revoke every family carrying ``grant_id``; how many were live. With
        ``unless_live``, a family that still carries another grant for which it answers True
        is kept (a replaced grant leaves the family's other purposes readable)."""
        rows = self._db.all("SELECT family_id FROM oauth_family_grants WHERE grant_id = ?",
                            (grant_id,))
        revoked = 0
        for row in rows:
            others = [g for g in self.grant_ids(row["family_id"]) if g != grant_id]
            if unless_live is not None and any(unless_live(g) for g in others):
                continue
            revoked += self.revoke_family(row["family_id"], reason)
        return revoked

    def expire_families(self) -> int:
        """Revoke, as :attr:`FamilyEnd.EXPIRED`, every family past its absolute end that is not
        revoked yet, so that its ending is recorded (tokens were denied from the end on
        regardless); how many. Idempotent, and safe to run from several processes: each family
        is revoked, and told to the hook, by one of them only."""
        rows = self._db.all("SELECT id FROM oauth_token_families WHERE revoked_at IS NULL"
                            " AND expires_at <= ?", (self.now(),))
        return sum(self.revoke_family(r["id"], FamilyEnd.EXPIRED) for r in rows)

    def revoke_for_client(self, client_id: str, reason: FamilyEnd) -> int:
        rows = self._db.all("SELECT id FROM oauth_token_families WHERE client_id = ?"
                            " AND revoked_at IS NULL", (client_id,))
        return sum(self.revoke_family(r["id"], reason) for r in rows)

    # -- codes ------------------------------------------------------------------------------
    def save_code(self, code: str, *, family_id: str, client_id: str, redirect_uri: str,
                  code_challenge: str, code_challenge_method: str) -> None:
        now = self.now()
        self._db.execute(
            "INSERT INTO oauth_authorization_codes (code_hash, family_id, client_id,"
            " redirect_uri, code_challenge, code_challenge_method, issued_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (token_hash(code), family_id, client_id, redirect_uri, code_challenge,
             code_challenge_method, now, now + CODE_LIFETIME))

    def claim_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Redeem ``code`` for ``client_id`` once; ``None`` if unknown, expired, another
        client's, or already used (which revokes the family it issued)."""
        if not isinstance(code, str) or not code or len(code) > 512:
            return None
        digest = token_hash(code)
        now = self.now()
        with self._db.transaction():
            row = self._db.one("SELECT * FROM oauth_authorization_codes WHERE code_hash = ?",
                               (digest,))
            if row is None or row["client_id"] != client_id:
                return None
            if row["used_at"] is not None:
                self.revoke_family(row["family_id"], FamilyEnd.CODE_REPLAY)
                return None
            self._db.execute("UPDATE oauth_authorization_codes SET used_at = ?"
                             " WHERE code_hash = ?", (now, digest))
            if now >= row["expires_at"]:
                return None
            family = self.family(row["family_id"])
            if not family.live(now):
                return None
            return AuthorizationCode(family, row["client_id"], row["redirect_uri"],
                                     row["code_challenge"], row["code_challenge_method"])

    # -- refresh tokens ---------------------------------------------------------------------
    def save_refresh_token(self, token: str, family_id: str) -> None:
        self._db.execute(
            "INSERT INTO oauth_refresh_tokens (token_hash, family_id, issued_at)"
            " VALUES (?, ?, ?)", (token_hash(token), family_id, self.now()))

    def claim_refresh_token(self, token: str, client_id: str) -> Family | None:
        """Use ``token`` once; its family if live, else ``None``. A replay revokes the family."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        digest = token_hash(token)
        now = self.now()
        with self._db.transaction():
            row = self._db.one(
                "SELECT r.used_at, r.family_id, f.client_id FROM oauth_refresh_tokens r"
                " JOIN oauth_token_families f ON f.id = r.family_id WHERE r.token_hash = ?",
                (digest,))
            if row is None or row["client_id"] != client_id:
                return None
            if row["used_at"] is not None:
                self.revoke_family(row["family_id"], FamilyEnd.REFRESH_REPLAY)
                return None
            self._db.execute("UPDATE oauth_refresh_tokens SET used_at = ? WHERE token_hash = ?",
                             (now, digest))
            family = self.family(row["family_id"])
            return family if family.live(now) else None

    def refresh_token_used(self, token: str) -> bool:
        row = self._db.one("SELECT used_at FROM oauth_refresh_tokens WHERE token_hash = ?",
                           (token_hash(token),))
        return row is None or row["used_at"] is not None

    def find_refresh_family(self, token: str) -> Family | None:
        """The family of a refresh token, without using it (revocation, introspection)."""
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        row = self._db.one("SELECT family_id FROM oauth_refresh_tokens WHERE token_hash = ?",
                           (token_hash(token),))
        return None if row is None else self.family(row["family_id"])


def _family(row: Any) -> Family:
    return Family(row["id"], row["client_id"], row["member_id"],
                  tuple(json.loads(row["authorization_details"])), row["created_at"],
                  row["expires_at"], row["revoked_at"],
                  None if row["revoked_reason"] is None else FamilyEnd(row["revoked_reason"]))
