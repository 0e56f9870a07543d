"""What a brand's member-delegated token may read now, field by field.

A token carries the authorization details its member approved (RFC 9396; one object per
purpose, naming vault fields and the grant recorded for them). Each request judges them again
against the member's policy as it is now (:meth:`consent.decision.DecisionPoint.policy`, loaded
once per request), so narrowing, withdrawal, expiry, a change of terms or a GPC opt-out shows on
the very next call. No Flask here: :mod:`brand_gateway.reads` calls these with the request's stores.

Rules:
- Only a member-delegated token naming at least one detail of our type reaches member data; a
  brand-level (client credentials) token is refused with ``insufficient_scope``.
- Decisions are taken on the token's *own* grants (those its details name), not on any grant the
  member gave the brand: a field is released only if the token names it for the purpose AND one
  of the token's grants allows it now. If none of the token's grants is live any more (withdrawn
  or ended), the token is as good as revoked: ``invalid_token``, whether or not the withdrawal has
  revoked the token's family yet.
- **Withheld**: a profile response lists as ``withheld`` every requested field it does not
  return, with no reason. Unfilled and not allowed look the same, and whether a field is
  withheld never depends on a value the brand may not see: a field the brand may not read is
  withheld whether or not the member has filled it.
- **Feedback**: a brand sees only the journal entries about itself, never what the member said
  about other brands (a grant to brand B shares the member's feedback *to* B). The journal is
  withheld as a whole when the purpose does not allow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consent.decision import MemberPolicy
from consent.model import Mode
from consent.vocabulary import FEEDBACK, SURVEY
from vault.feedback import FeedbackEntry

from .api_errors import InsufficientScopeError, InvalidTokenError, QueryError
from .rar import DETAIL_TYPE
from .tokens import AccessToken


@dataclass(frozen=True)
class PurposeAccess:
    """One purpose of a token, as the member's policy allows it now."""

    purpose: str
    authorized: tuple[str, ...]         # the fields the token names for the purpose
    allowed: tuple[str, ...]            # of those, the ones allowed now
    grants: Mapping[str, str]           # allowed field -> the grant that allows it
    ends_at: int | None                 # end of the token's live grant for it (None: no live grant)

    def grant_ids(self, fields: Iterable[str]) -> list[str]:
        return sorted({self.grants[f] for f in fields if f in self.grants})


@dataclass(frozen=True)
class MemberAccess:
    """The live authorization of one member-delegated token."""

    member_id: str
    purposes: Mapping[str, PurposeAccess]

    def for_purpose(self, purpose: str | None) -> PurposeAccess:
        """The purpose asked for; with none asked, the token's only one.

        :class:`QueryError` if the token has several and none was named;
        :class:`InsufficientScopeError` for a purpose the token was not given.
        """
        if purpose is None:
            if len(self.purposes) == 1:
                return next(iter(self.purposes.values()))
            raise QueryError({"purpose": [
                "This token covers several purposes; name one of: "
                + ", ".join(self.purposes) + "."]})
        found = self.purposes.get(purpose)
        if found is None:
            raise InsufficientScopeError(f"The member did not authorize {purpose} for this token.")
        return found


def _details(token: AccessToken) -> list[Mapping[str, Any]]:
    return [d for d in token.authorization_details
            if isinstance(d, Mapping) and d.get("type") == DETAIL_TYPE
            and "read" in d.get("actions", ("read",))]


def delegated_member(token: AccessToken) -> str:
    """The member ``token`` speaks for; :class:`InsufficientScopeError` for a brand-level token
    or one that names no member data."""
    return _delegated(token, _details(token))


def _delegated(token: AccessToken, details: list[Mapping[str, Any]]) -> str:
    if not token.delegated or token.member_id is None or not details:
        raise InsufficientScopeError("This endpoint needs a member's authorization "
                                     "(the authorization code flow), not a brand-level token.")
    return token.member_id


def member_access(token: AccessToken, policy: MemberPolicy, now: float) -> MemberAccess:
    """Judge ``token`` (already found active) against ``policy`` (its member's, to its brand)."""
    details = _details(token)
    member_id = _delegated(token, details)
    grant_ids = {d.get("grant_id") for d in details}
    own = tuple(g for g in policy.grants if g.id in grant_ids)
    live = [g for g in own if g.live_at(now)]
    if not live:
        raise InvalidTokenError("The member's authorization has ended.")
    scoped = MemberPolicy(policy.terms, own, policy.restrictions)
    purposes: dict[str, PurposeAccess] = {}
    for detail in details:
        purpose = detail.get("purpose")
        datatypes = detail.get("datatypes")
        if not isinstance(purpose, str) or not isinstance(datatypes, list) or purpose in purposes:
            continue
        authorized = tuple(dict.fromkeys(f for f in datatypes if isinstance(f, str)))
        decisions = scoped.decide_fields(purpose, authorized, Mode.INDIVIDUAL, now)
        grants = {field: decision.grant_id for field, decision in decisions.items()
                  if decision.allowed and decision.grant_id is not None}
        ends = [g.ends_at for g in live if g.purpose == purpose]
        purposes[purpose] = PurposeAccess(
            purpose, authorized, tuple(f for f in authorized if f in grants), grants,
            max(ends) if ends else None)
    return MemberAccess(member_id, purposes)


@dataclass(frozen=True)
class ProfileRelease:
    values: dict[str, Any]
    withheld: tuple[str, ...]
    grant_ids: list[str]


def release_profile(access: PurposeAccess, requested: Sequence[str] | None,
                    read_profile: Callable[[Sequence[str]], Mapping[str, Any]]
                    ) -> ProfileRelease:
    """The values of ``requested`` (default: every profile field the token names) that may be
    released, and the rest as withheld. ``read_profile(fields)`` is given only the fields that
    may be released, and is called only if there is one: nothing else is read, let alone
    decrypted, and nothing at all for a request that may see nothing."""
    wanted = list(dict.fromkeys(requested if requested is not None else
                                (f for f in access.authorized if f not in (FEEDBACK, SURVEY))))
    allowed = [f for f in wanted if f in access.grants and f != SURVEY]
    profile = read_profile(allowed) if allowed else {}
    values = {f: profile[f] for f in allowed if f in profile}
    return ProfileRelease(values, tuple(f for f in wanted if f not in values),
                          access.grant_ids(values))


@dataclass(frozen=True)
class FeedbackRelease:
    entries: list[FeedbackEntry]
    total: int
    withheld: tuple[str, ...]
    grant_ids: list[str]


def release_feedback(access: PurposeAccess, brand_id: str,
                     read_entries: Callable[[], Iterable[FeedbackEntry]], *,
                     limit: int, offset: int = 0) -> FeedbackRelease:
    """The member's journal entries about ``brand_id``, newest first, one page of them; or
    nothing, with the journal withheld, if the purpose does not allow it now."""
    if FEEDBACK not in access.grants:
        return FeedbackRelease([], 0, (FEEDBACK,), [])
    about_brand = [e for e in read_entries() if e.brand_id == brand_id]
    return FeedbackRelease(about_brand[offset:offset + limit], len(about_brand), (),
                           access.grant_ids([FEEDBACK]))
