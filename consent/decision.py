"""The decision point: may brand B, for purpose P, see field F of member M in mode X, now?

One answer, default deny, with the reason. :meth:`DecisionPoint.policy` reads the member's terms
as they stand for one brand (the standing terms with what the member accepted for that brand
only) and their grants to it from the store (two indexed queries); :meth:`MemberPolicy.decide`
then answers per field in memory, so a brand response checks every field it returns against
fresh state. Nothing is cached between requests: a withdrawal or an expiry is seen by the very
next request.

Rules, in order: the purpose and field must be known; a processing restriction the member asked
for (GDPR Art. 18 restriction, Art. 21 objection: everything to the brands it names; a CPRA limit
on sensitive personal information: the sensitive fields) denies while it holds; a GPC opt-out
denies purposes that sell or share; the purpose must be one the member accepts at all; then a
grant must be active (not withdrawn by the member, released by the brand or replaced by a
newer grant), started, not ended, for this purpose, cover the field (categories never cover
sensitive fields), allow the mode (an aggregate-only grant never allows individual reads),
and not share onward under a GPC opt-out. Narrowing a grant can only remove what it covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .model import Grant, GrantStatus, Mode, PersonalTerms, Restriction, RestrictionScope
from .repositories import GrantRepository, RestrictionRepository
from .terms import TermsService
from .vocabulary import FIELD_CATEGORY, PURPOSE_BY_CODE, SENSITIVE_FIELDS


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    grant_id: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


# The reasons, most specific last: a denial names the furthest a request got.
_NO_GRANT = "no grant from this member to this brand for this purpose"
_NOT_STARTED = "the grant has not started yet"
_WITHDRAWN = "the member withdrew the grant"
_RELEASED = "the brand gave the grant up"
_REPLACED = "a newer grant for this purpose replaced the grant"
_EXPIRED = "the grant has expired"
_FIELD = "the grant does not cover this field"
_MODE = "the grant allows aggregate use only"
_GPC_SHARING = "the member opted out of sale and sharing (GPC); this grant shares onward"
_RESTRICTED = {"restriction": "the member restricted processing (GDPR Art. 18)",
               "objection": "the member objected to processing (GDPR Art. 21)",
               "limit_sensitive": "the member limited the use of sensitive personal information"}


@dataclass(frozen=True)
class MemberPolicy:
    terms: PersonalTerms
    grants: tuple[Grant, ...]
    restrictions: tuple[Restriction, ...] = ()      # holding now, towards this brand

    def _restricted(self, field: str) -> Decision | None:
        """The first restriction holding that covers ``field``, as a denial."""
        for restriction in self.restrictions:
            if restriction.scope is RestrictionScope.ALL or field in SENSITIVE_FIELDS:
                return Decision(False, _RESTRICTED[restriction.basis.value])
        return None

    def decide(self, purpose: str, field: str, mode: Mode | str, at: float) -> Decision:
        spec = PURPOSE_BY_CODE.get(purpose)
        if spec is None:
            return Decision(False, f"unknown purpose {purpose!r}")
        if field not in FIELD_CATEGORY:
            return Decision(False, f"unknown field {field!r}")
        try:
            kind = mode if isinstance(mode, Mode) else Mode(mode)
        except ValueError:
            return Decision(False, f"unknown mode {mode!r}")
        restricted = self._restricted(field)
        if restricted is not None:
            return restricted
        refusal = self._refusal(purpose, spec.sale_or_sharing)
        if refusal is not None:
            return refusal
        found = _first_allowing(_judged(self.grants, purpose, kind, at, self.terms.gpc_opt_out),
                                field)
        if isinstance(found, str):
            return Decision(False, found)
        return Decision(True, f"allowed by grant {found.id}", found.id)

    def decide_fields(self, purpose: str, fields: Iterable[str], mode: Mode | str,
                      at: float) -> dict[str, Decision]:
        """:meth:`decide` for each of ``fields`` (one purpose, mode and moment), by the same
        rules in the same order (the same helpers); what does not depend on the field is judged
        once, and one Decision is shared per grant or reason."""
        fields = tuple(dict.fromkeys(fields))
        spec = PURPOSE_BY_CODE.get(purpose)
        if spec is None:
            return dict.fromkeys(fields, Decision(False, f"unknown purpose {purpose!r}"))
        decisions = {f: Decision(False, f"unknown field {f!r}")
                     for f in fields if f not in FIELD_CATEGORY}
        for f in fields:
            restricted = None if f in decisions else self._restricted(f)
            if restricted is not None:
                decisions[f] = restricted
        known = [f for f in fields if f not in decisions]
        refusal: Decision | None
        try:
            kind = mode if isinstance(mode, Mode) else Mode(mode)
        except ValueError:
            refusal = Decision(False, f"unknown mode {mode!r}")
        else:
            refusal = self._refusal(purpose, spec.sale_or_sharing)
        if refusal is not None:
            decisions.update(dict.fromkeys(known, refusal))
        else:
            judged = _judged(self.grants, purpose, kind, at, self.terms.gpc_opt_out)
            answers: dict[str, Decision] = {}      # one Decision per grant or reason
            for field in known:
                found = _first_allowing(judged, field)
                key = found if isinstance(found, str) else found.id
                if key not in answers:
                    answers[key] = (Decision(False, found) if isinstance(found, str) else
                                    Decision(True, f"allowed by grant {found.id}", found.id))
                decisions[field] = answers[key]
        return {f: decisions[f] for f in fields}

    def _refusal(self, purpose: str, sale_or_sharing: bool) -> Decision | None:
        """Why the member's terms refuse ``purpose`` whatever the field, if they do."""
        if self.terms.gpc_opt_out and sale_or_sharing:
            return Decision(False, "the member opted out of sale and sharing (GPC)")
        if purpose not in self.terms.purposes:
            return Decision(False, "the member's terms do not accept this purpose")
        return None


def _judged(grants: Iterable[Grant], purpose: str, mode: Mode, at: float,
            gpc: bool) -> list[tuple[Grant, str | None, str | None]]:
    """Each grant for ``purpose`` with what it says whatever the field: the first rule it fails
    before the field's (withdrawn, not started, ended), and after it (mode, GPC); or None."""
    judged = []
    for grant in grants:
        if grant.purpose != purpose:
            continue
        if grant.status is not GrantStatus.ACTIVE:
            before: str | None = _ENDED_BY[grant.status]
        elif at < grant.starts_at:
            before = _NOT_STARTED
        elif at >= grant.ends_at:
            before = _EXPIRED
        else:
            before = None
        if mode is Mode.INDIVIDUAL and grant.mode is Mode.AGGREGATE:
            after: str | None = _MODE
        elif gpc and grant.onward_sharing:
            after = _GPC_SHARING
        else:
            after = None
        judged.append((grant, before, after))
    return judged


def _first_allowing(judged: list[tuple[Grant, str | None, str | None]],
                    field: str) -> Grant | str:
    """The first judged grant that allows ``field``; else the most specific reason any gave.
    A grant's reason is the first rule it fails, in order: before the field, the field (does
    it cover it), after the field."""
    best, rank = _NO_GRANT, 0
    for grant, before, after in judged:
        reason = before or (_FIELD if field not in grant.covered else after)
        if reason is None:
            return grant
        level = _RANK[reason]
        if level > rank:
            best, rank = reason, level
    return best


_ENDED_BY = {GrantStatus.WITHDRAWN: _WITHDRAWN, GrantStatus.RELEASED: _RELEASED,
             GrantStatus.REPLACED: _REPLACED}
_RANK = {_NO_GRANT: 0, _REPLACED: 1, _RELEASED: 1, _WITHDRAWN: 1, _NOT_STARTED: 2,
         _EXPIRED: 3, _FIELD: 4, _MODE: 5, _GPC_SHARING: 6}


class DecisionPoint:
    def __init__(self, *, grants: GrantRepository, terms: TermsService,
                 restrictions: RestrictionRepository | None = None) -> None:
        self._grants = grants
        self._terms = terms
        self._restrictions = restrictions

    def policy(self, member_id: str, brand_id: str) -> MemberPolicy:
        grants = self._grants.for_member_and_brand(member_id, brand_id)
        restrictions = (() if self._restrictions is None else
                        tuple(self._restrictions.live_for(member_id, brand_id)))
        # The terms as they stand for this brand: a purpose the member accepted for this brand
        # only allows its grants (one query, as the standing terms alone were).
        return MemberPolicy(self._terms.for_brand(member_id, brand_id),
                            tuple(grants), restrictions)

    def decide(self, brand_id: str, purpose: str, member_id: str, field: str,
               mode: Mode | str, at: float) -> Decision:
        return self.policy(member_id, brand_id).decide(purpose, field, mode, at)

