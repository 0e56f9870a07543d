"""After a restore: what the ledger recorded since the backup, made to hold again in the data
store, so that restoring an older copy never gives back an access that was taken away (a
brand's under a member's grant, an account's staff role, an exception to a member's terms for
one brand, an offer of terms taken back or refused) nor undoes a member's latest terms.

A backup of the data store is older than the ledger, which is not restored with it. The
ledger's grant entries (``consent:grant:*``, ``consent:access:ended``) each carry the grant as it
stood after the change (:class:`consent.event_details.GrantChange`), so the newest entry of a
grant is where the grant ended up; its role entries (``officer:role:*``) say which role each
account was last given or had taken away; its entries of a member's standing terms
(``consent:terms:changed`` without a brand) carry the terms whole, as saved, and those of an
exception for one brand (with a ``brand``) what it holds after the change (``removed`` when
taken back); its agreement entries (``consent:agreement:*``) name the agreement by its id.

Invariants:
- Each grant the restored store holds is brought to the state of the newest change the ledger
  records for it, when that state is newer than the row's: a higher version (a narrowing, a
  withdrawal, a release, a replacement), or at the same version an end of the brand's access or
  a recorded expiry the row does not show. The time of each change is the time its entry was
  recorded (a recorded expiry changes no time, as when it was first recorded).
- An account whose restored staff role is not the role the ledger last recorded it holding (it
  was revoked, or changed) becomes a member again.
- A member's standing terms are those of the newest entry, when it is a newer version than the
  store's (aggregate use, the opt-out of sale and sharing and its GPC time included): the
  member's own latest choice, whichever way it went.
- What a member accepted for one brand only is never more than their latest choice: the
  purposes of the store's exception that the newest entry of the pair still holds, the shorter
  of the two longest grants, at the entry's version; none if it was taken back, or if nothing
  is left (an exception given or widened since is not given again).
- An offer of terms the store holds waiting (proffered or countered) that the ledger records
  withdrawn by the member or rejected since is withdrawn or rejected again, at the time
  recorded: the brand can no longer accept what was taken back.
- An agreement the ledger records made since (``consent:terms:agreed``, the newest of its
  member and brand) that the store lacks, or holds still waiting, is made again when its term
  permits the brand no more than the agreement the store holds in force (a member who
  narrowed their terms with a brand keeps them narrowed): its record is rebuilt from the
  entries of its offer (``proffered``, ``countered``), the brand's pairwise pseudonym of the
  member and the time it was agreed, found within :data:`RECORD_SLACK` seconds before its
  entry, and made again only if its SHA-256 is the one the entry holds (the record is then the
  very one both sides hold, and the vault's Ed25519 signature over it the same). An agreement
  made since that permits more, or with no agreement in force in the store, or whose record
  cannot be rebuilt to its digest (the vocabulary changed since), is lost with the restore,
  and the one it superseded stands in force again.
- Only in that direction: nothing is given. A grant given after the backup is not in the store
  and stays absent (consent given since is lost with the restore, and the brand must ask
  again), and one it replaced stays replaced (never more than the member's latest choice); a
  role given since is not given again; a row newer than the ledger's record of it is left as
  it is.
- Nothing is appended to the ledger: the entries are there already. Running it twice changes
  nothing the second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from vault.members import COMPLIANCE, MEMBER, STAFF_ROLES, MemberService

from .events import EventTag
from .ledger_search import tagged
from .model import (
    AccessEnd,
    AgreementRecord,
    AgreementStatus,
    AgreementVia,
    BrandTerms,
    GrantStatus,
    PersonalTerms,
    RecordedGrant,
)
from .repositories import (
    AgreementRepository,
    GrantRepository,
    LedgerSearchRepository,
    TermsRepository,
)
from .terms import agreement_document, canonical
from .vocabulary import AGREEMENT_BY_CODE

#: The ledger's tags that change a grant after it was given.
CHANGES = (EventTag.CONSENT_GRANT_NARROWED, EventTag.CONSENT_GRANT_WITHDRAWN,
           EventTag.CONSENT_GRANT_RELEASED, EventTag.CONSENT_GRANT_REPLACED,
           EventTag.CONSENT_ACCESS_ENDED, EventTag.CONSENT_GRANT_EXPIRED)
# The changes that end the consent itself, and the status each leaves.
_ENDING = {EventTag.CONSENT_GRANT_WITHDRAWN: GrantStatus.WITHDRAWN,
           EventTag.CONSENT_GRANT_RELEASED: GrantStatus.RELEASED,
           EventTag.CONSENT_GRANT_REPLACED: GrantStatus.REPLACED}
# The changes that end the brand's access (a release ends the consent as well).
_ACCESS_ENDING = (EventTag.CONSENT_ACCESS_ENDED, EventTag.CONSENT_GRANT_RELEASED)


@dataclass
class _Newest:
    """What the ledger's entries of one grant, read newest first, say of it."""

    tag: str
    at: int
    details: dict[str, Any]
    changed_at: int | None = None               # the newest change but an expiry's record
    access_end: tuple[int, str] | None = None   # the newest end of the brand's access
    expired: bool = False                       # its expiry was recorded


def reapply_grant_changes(search: LedgerSearchRepository, grants: GrantRepository) -> int:
    """Bring every grant of the data store to the newest state the ledger records for it (see
    the module docstring); how many grants changed."""
    newest: dict[str, _Newest] = {}
    for hit in tagged(search, CHANGES):
        details, tag, at = hit.details(), hit.row.tag, hit.row.at
        seen = newest.setdefault(details["grant"], _Newest(tag, at, details))
        if tag in _ACCESS_ENDING and seen.access_end is None:
            seen.access_end = (at, details["reason"])
        if tag == EventTag.CONSENT_GRANT_EXPIRED:
            seen.expired = True         # recorded without changing the grant's own time
        elif seen.changed_at is None:
            seen.changed_at = at
    # A grant the store does not hold was given after the backup, or its member was erased:
    # the row's own update matches nothing then, as it does for a row already as recorded or
    # newer. All of them in one transaction: all or nothing.
    changed = 0
    with grants.transaction():
        for grant_id, seen in newest.items():
            changed += grants.reapply(_recorded(grant_id, seen))
    return changed


def _recorded(grant_id: str, seen: _Newest) -> RecordedGrant:
    details = seen.details
    ending = _ENDING.get(EventTag(seen.tag))
    access_at, reason = seen.access_end if seen.access_end is not None else (None, None)
    return RecordedGrant(
        grant_id, status=ending or GrantStatus.ACTIVE, fields=frozenset(details["fields"]),
        ends_at=int(details["ends_at"]), version=int(details["version"]),
        updated_at=seen.changed_at,
        withdrawn_at=seen.at if ending is not None else None,
        access_ended_at=access_at, access_ended=None if reason is None else AccessEnd(reason),
        replaced_by=details.get("replaced_by"), expiry_recorded=seen.expired)


#: The ledger's tags of a staff role given or taken away.
ROLE_CHANGES = (EventTag.OFFICER_ROLE_GRANTED, EventTag.OFFICER_ROLE_REVOKED)


def revoke_lapsed_roles(search: LedgerSearchRepository, members: MemberService,
                        principal: Callable[[str], str]) -> list[str]:
    """Make a member again every account whose staff role the ledger last recorded otherwise
    (see the module docstring; ``principal``: an account's pseudonym in the ledger); their ids."""
    staff = {principal(member.id): (member.id, role)
             for role in STAFF_ROLES for member in members.with_role(role)}
    recorded: dict[str, str] = {}           # pseudonym -> the role last recorded
    for hit in tagged(search, ROLE_CHANGES):
        who = hit.row.principal             # the account the entry names
        if who in staff and who not in recorded:
            # Entries made before there were two roles name none, and mean compliance.
            recorded[who] = (MEMBER if hit.row.tag == EventTag.OFFICER_ROLE_REVOKED
                             else hit.details().get("role", COMPLIANCE))
    lapsed = [member_id for who, (member_id, role) in staff.items()
              if who in recorded and recorded[who] != role]
    for member_id in lapsed:
        members.set_role(member_id, MEMBER)
    return lapsed


def reapply_standing_terms(search: LedgerSearchRepository, terms: TermsRepository,
                           member_ids: Iterable[str], principal: Callable[[str], str]) -> int:
    """Save again every member's standing terms the ledger records newer than the store's
    (see the module docstring; ``principal``: a member's pseudonym in the ledger, the actor of
    their terms' entries); how many members' terms changed."""
    newest: dict[str, tuple[int, dict[str, Any]]] = {}     # pseudonym -> (time, details)
    gpc_at: dict[str, int | None] = {}      # pseudonym -> when GPC last opted them out
    for hit in tagged(search, (EventTag.CONSENT_TERMS_CHANGED,)):
        details = hit.details()
        actor = hit.row.principal           # the member, who changed them
        if "brand" in details or actor is None:
            continue                        # one brand's exception, not the standing terms
        if actor not in newest:
            newest[actor] = (hit.row.at, details)
        if actor not in gpc_at and (details.get("via_gpc")
                                    or not details.get("sale_sharing_opt_out")):
            # Newest first: an opt-out by GPC sets the time; a later end of the opt-out, None.
            gpc_at[actor] = hit.row.at if details.get("via_gpc") else None
    changed = 0
    with terms.transaction():
        for member_id in member_ids:
            who = principal(member_id)
            if who not in newest:
                continue
            at, details = newest[who]
            current = terms.standing(member_id) or PersonalTerms(member_id)
            if current.version >= int(details["version"]):
                continue
            opted_out = bool(details.get("sale_sharing_opt_out", current.gpc_opt_out))
            terms.save_standing(PersonalTerms(
                member_id, agreement=details.get("agreement") or current.agreement,
                purposes=frozenset(details["purposes"]), max_days=int(details["max_days"]),
                aggregate_allowed=bool(details.get("aggregate_allowed",
                                                   current.aggregate_allowed)),
                gpc_opt_out=opted_out,
                gpc_at=gpc_at.get(who, current.gpc_at) if opted_out else None,
                version=int(details["version"]), updated_at=at))
            changed += 1
    return changed


def narrow_brand_exceptions(search: LedgerSearchRepository, terms: TermsRepository,
                            member_ids: Iterable[str], principal: Callable[[str], str]) -> int:
    """Bring every exception for one brand the store holds to no more than the newest the
    ledger records for it (see the module docstring); how many changed."""
    members = {principal(member_id): member_id for member_id in member_ids}
    newest: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for hit in tagged(search, (EventTag.CONSENT_TERMS_CHANGED,)):
        details = hit.details()
        who = hit.row.principal
        if "brand" in details and who in members:
            newest.setdefault((who, details["brand"]), (hit.row.at, details))
    changed = 0
    with terms.transaction():
        for (who, brand_id), (at, details) in newest.items():
            held = terms.brand_terms_for(members[who], brand_id)
            if held is None:
                continue                    # none held: nothing to take back
            kept = _kept(held, details, at)
            if kept == held:
                continue
            if kept is None:
                terms.remove_brand_terms(held.member_id, brand_id)
            else:
                terms.save_brand_terms(kept)
            changed += 1
    return changed


def _kept(held: BrandTerms, details: dict[str, Any], at: int) -> BrandTerms | None:
    """What of ``held`` the newest entry of its exception (``details``, recorded at ``at``)
    still holds: ``held`` itself if all of it, None if nothing."""
    if details.get("removed"):
        return None
    purposes = held.purposes & frozenset(details["purposes"])
    max_days = min(held.max_days, int(details["max_days"]))
    if purposes == held.purposes and max_days == held.max_days:
        return held
    if not purposes and not max_days:
        return None
    return BrandTerms(held.member_id, held.brand_id, purposes, max_days,
                      int(details["version"]), at)


#: The ledger's tags of an offer of terms ended before it was agreed.
AGREEMENT_ENDINGS = (EventTag.CONSENT_AGREEMENT_WITHDRAWN, EventTag.CONSENT_AGREEMENT_REJECTED)
_WAITING = (AgreementStatus.PROFFERED, AgreementStatus.COUNTERED)


def end_agreement_offers(search: LedgerSearchRepository,
                         agreements: AgreementRepository) -> int:
    """Withdraw or reject again every offer of terms the store holds waiting that the ledger
    records withdrawn or rejected (see the module docstring); how many."""
    ended = 0
    with agreements.transaction():
        for hit in tagged(search, AGREEMENT_ENDINGS):
            record = agreements.get(hit.details()["agreement"])
            if record is None or record.status not in _WAITING:
                continue                    # made since, or answered as recorded already
            if hit.row.tag == EventTag.CONSENT_AGREEMENT_WITHDRAWN:
                agreements.withdraw(record.id, hit.row.at)
            else:
                agreements.reject(record.id, hit.row.at)
            ended += 1
    return ended


#: The ledger's tags of an offer of terms made or answered with another term.
AGREEMENT_OFFERS = (EventTag.CONSENT_AGREEMENT_PROFFERED, EventTag.CONSENT_AGREEMENT_COUNTERED)
#: How long before its entry an agreement's record may be dated (seconds): the record is
#: dated, signed, then written and recorded, and the entry may wait for the ledger's lock.
RECORD_SLACK = 60


def make_narrower_agreements_again(search: LedgerSearchRepository,
                                   agreements: AgreementRepository, member_ids: Iterable[str],
                                   principal: Callable[[str], str], *,
                                   subject: Callable[[str, str], str],
                                   sign: Callable[[dict[str, Any]], str]) -> int:
    """Make again every agreement made since that narrowed the one the store holds in force
    (see the module docstring; ``subject``: the brand's pairwise pseudonym of a member,
    ``sign``: the vault's record signer); how many."""
    members = {principal(member_id): member_id for member_id in member_ids}
    offers: dict[str, dict[str, tuple[str, int]]] = {}    # agreement -> tag -> (term, when)
    via: dict[str, AgreementVia] = {}                   # agreement -> how it was made
    for hit in tagged(search, AGREEMENT_OFFERS):
        details = hit.details()
        offers.setdefault(details["agreement"], {}).setdefault(
            hit.row.tag, (details["term"], hit.row.at))
        if hit.row.tag == EventTag.CONSENT_AGREEMENT_PROFFERED:
            via[details["agreement"]] = AgreementVia(details.get("via", AgreementVia.MEMBER))
    newest: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for hit in tagged(search, (EventTag.CONSENT_TERMS_AGREED,)):
        details = hit.details()
        if hit.row.principal in members:
            newest.setdefault((hit.row.principal, details["brand"]), (hit.row.at, details))
    made = 0
    with agreements.transaction():
        for (who, brand_id), (at, details) in newest.items():
            held = agreements.get(details["agreement"])
            in_force = agreements.in_force(members[who], brand_id)
            if (held is not None and held.status not in _WAITING) or in_force is None \
                    or not _no_broader(details["term"], in_force.agreed):
                continue                    # as recorded, or it would give
            rebuilt = _rebuilt(members[who], brand_id, details, at,
                               offers.get(details["agreement"], {}), subject,
                               via.get(details["agreement"], AgreementVia.MEMBER))
            if rebuilt is not None:
                _agree_again(agreements, held, rebuilt, sign)
                made += 1
    return made


@dataclass(frozen=True)
class _Rebuilt:
    """An agreement's record rebuilt to the ledger's digest, and the offer it answered."""

    record: AgreementRecord
    document: dict[str, Any]
    text: str
    digest: str
    proffered_at: int
    countered_at: int | None


def _no_broader(code: str, than: str | None) -> bool:
    """Whether the term ``code`` permits the brand nothing that ``than`` does not."""
    new, old = AGREEMENT_BY_CODE.get(code), AGREEMENT_BY_CODE.get(than or "")
    return new is not None and old is not None and new.uses <= old.uses and (
        old.anonymised_third_party or not new.anonymised_third_party)


def _rebuilt(member_id: str, brand_id: str, details: dict[str, Any], at: int,
             offered: dict[str, tuple[str, int]], subject: Callable[[str, str], str],
             via: AgreementVia) -> _Rebuilt | None:
    """The record of the agreement ``details`` (recorded at ``at``) names, if the entries of
    its offer rebuild it to the digest the entry holds; else None."""
    if EventTag.CONSENT_AGREEMENT_PROFFERED not in offered:
        return None
    proffered, proffered_at = offered[EventTag.CONSENT_AGREEMENT_PROFFERED]
    countered, countered_at = offered.get(EventTag.CONSENT_AGREEMENT_COUNTERED, (None, None))
    first_party = subject(member_id, brand_id)
    for agreed_at in range(at, at - RECORD_SLACK - 1, -1):
        record = AgreementRecord(details["agreement"], member_id, brand_id, proffered,
                                 countered, AgreementStatus.AGREED, details["term"], None,
                                 None, None, proffered_at, agreed_at, via)
        document = agreement_document(record, details["term"], first_party, agreed_at)
        text = canonical(document)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest == details["sha256"]:
            return _Rebuilt(record, document, text, digest, proffered_at, countered_at)
    return None


def _agree_again(agreements: AgreementRepository, held: AgreementRecord | None,
                 rebuilt: _Rebuilt, sign: Callable[[dict[str, Any]], str]) -> None:
    """Write the rebuilt agreement as its offer, answer and agreement wrote it, at their
    times (of the offer, the times of its entries)."""
    record = rebuilt.record
    if held is None:
        agreements.insert(record.id, record.member_id, record.brand_id, record.proffered,
                          rebuilt.proffered_at, via=record.via)
    if record.countered is not None and rebuilt.countered_at is not None and (
            held is None or held.status is AgreementStatus.PROFFERED):
        agreements.counter(record.id, record.countered, rebuilt.countered_at)
    assert record.agreed is not None
    agreements.agree(record.id, term=record.agreed, record=rebuilt.text,
                     record_hash=rebuilt.digest,
                     signature=sign(rebuilt.document | {"sha256": rebuilt.digest}),
                     now=record.updated_at)
