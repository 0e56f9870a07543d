"""Reveals: an officer sees a member's login address for one case, with a written reason.

Officers see members by their ledger pseudonym (``consent.principal``) everywhere in the
console. Revealing the address behind one is an explicit act, with these invariants:

- Only an account holding the ``compliance`` role with two-step sign-in on may reveal
  (:class:`~compliance.errors.RevealRefusedError` otherwise); the role is read at each call.
- A reveal names its case: ``dsr_`` and 24 hex digits (a data subject request) or
  ``exposure:`` and a brand id (a breach exposure report). An exposure reveal is refused for a
  member who never granted that brand anything (the member is not in that report).
- The reason is required (at least :data:`MIN_REASON` characters after trimming) and is about
  the member, so it is personal data: it is sealed under the member's own key, bound to the
  reveal (erasure shreds it), and only its SHA-256 is kept in clear and put in the ledger.
- Every reveal is an ``officer:identity:revealed`` ledger entry (officer and member by
  pseudonym, the case, the reason's digest), written in the transaction that stores the
  reveal, before the address is returned: no address leaves without its entry.
- :meth:`RevealService.revealed` gives an officer the addresses they revealed for that case
  and no other: a reveal for one case shows nothing in another, nor to another officer.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from consent.event_details import IdentityRevealed
from consent.ledger import Ledger
from vault.catalog import clean_text
from vault.clock import Clock
from vault.errors import (
    MemberKeyDestroyedError,
    MemberKeyMissingError,
    NotFoundError,
    ValidationError,
)
from vault.keys import KeyStore
from vault.members import COMPLIANCE, MemberService
from vault.sealing import associated_data

from .errors import RevealRefusedError
from .repositories import RevealRecord, RevealRepository

MIN_REASON = 10
MAX_REASON = 2000
DSR_CASE = re.compile(r"dsr_[0-9a-f]{24}")
EXPOSURE_CASE = re.compile(r"exposure:(brand_[0-9a-f]{16})")
PRINCIPAL = re.compile(r"member:[0-9a-f]{32}")

#: The ids of the members a case is about (``None``: the case's kind does not say, and every
#: account is searched): an exposure report's are those who ever granted the brand anything.
CaseMembers = Callable[[str], Iterable[str] | None]


@dataclass(frozen=True)
class Reveal:
    """A reveal as the accountability page lists it: never the reason's text, nor the
    address."""

    id: str
    officer_id: str
    case: str
    principal: str
    reason_sha256: str
    revealed_at: int


def case_problem(case: object) -> str | None:
    """Why ``case`` is not a case a reveal may name, or ``None``."""
    if not isinstance(case, str) or not (DSR_CASE.fullmatch(case)
                                         or EXPOSURE_CASE.fullmatch(case)):
        return ("A case is a data subject request (dsr_ and 24 hex digits) or a breach"
                " exposure report (exposure: and a brand id).")
    return None


def reason_digest(reason: str) -> str:
    return hashlib.sha256(reason.encode()).hexdigest()


class RevealService:
    def __init__(self, *, reveals: RevealRepository, members: MemberService, keys: KeyStore,
                 ledger: Ledger, principal: Callable[[str], str], case_members: CaseMembers,
                 clock: Clock) -> None:
        self._reveals = reveals
        self._members = members
        self._keys = keys
        self._ledger = ledger
        self._principal = principal
        self._case_members = case_members
        self._clock = clock

    def reveal(self, *, officer_id: str, case: str, principal: str, reason: str) -> str:
        """Record that ``officer_id`` is shown the address of the member ``principal`` for
        ``case`` because of ``reason``, with its ledger entry; the address."""
        self._require_officer(officer_id)
        errors: dict[str, list[str]] = {}
        problem = case_problem(case)
        if problem:
            errors["case"] = [problem]
        if not isinstance(principal, str) or not PRINCIPAL.fullmatch(principal):
            errors["principal"] = ["A member is named by their pseudonym: member: and 32 hex"
                                   " digits, as the console shows it."]
        try:
            text = clean_text(reason, max_length=MAX_REASON, multiline=True)
        except ValueError as exc:
            errors["reason"] = [str(exc)]
        else:
            if len(text) < MIN_REASON:
                # The page puts its label (why you need the identity) in front of this.
                errors["reason"] = [f"Write the reason, in {MIN_REASON} characters at least."]
        if errors:
            raise ValidationError(errors)
        member_id = self._member_behind(principal, self._case_members(case))
        if member_id is None:
            raise NotFoundError("No member with that pseudonym is in that case.")
        reveal_id = "reveal_" + os.urandom(12).hex()
        try:
            cipher = self._keys.cipher(member_id)
        except MemberKeyDestroyedError as exc:      # erased while we looked
            raise NotFoundError("No member with that pseudonym is in that case.") from exc
        digest = reason_digest(text)
        with self._reveals.transaction():
            self._reveals.insert(RevealRecord(
                reveal_id, officer_id, case, member_id, principal,
                cipher.seal_text(associated_data(member_id, "identity_reveals", reveal_id,
                                                 "reason"), text),
                digest, int(self._clock())))
            officer = self._principal(officer_id)
            self._ledger.record_event(actor=officer, details=IdentityRevealed(
                officer=officer, member=principal, case=case, reason_sha256=digest))
        return self._members.get(member_id).email

    def revealed(self, *, officer_id: str, case: str) -> dict[str, str]:
        """principal -> address, for the reveals ``officer_id`` made for ``case`` (only while
        the officer holds the role; a member erased since is gone from it)."""
        self._require_officer(officer_id)
        found: dict[str, str] = {}
        for reveal in self._reveals.for_case(officer_id, case):
            try:
                found[reveal.principal] = self._members.get(reveal.member_id).email
            except (NotFoundError, MemberKeyMissingError):
                continue
        return found

    def reason(self, officer_id: str, reveal: RevealRecord) -> str:
        """The reason's text, for the officer who wrote it."""
        self._require_officer(officer_id)
        if reveal.officer_id != officer_id:
            raise NotFoundError("no such reveal")
        return self._keys.cipher(reveal.member_id).open_text(
            associated_data(reveal.member_id, "identity_reveals", reveal.id, "reason"),
            reveal.reason_sealed)

    def latest(self, officer_id: str, *, limit: int, offset: int = 0) -> list[Reveal]:
        """Every officer's reveals, newest first, without reasons or addresses."""
        self._require_officer(officer_id)
        return [Reveal(r.id, r.officer_id, r.case, r.principal, r.reason_sha256,
                       r.revealed_at)
                for r in self._reveals.latest(limit=limit, offset=offset)]

    def count(self) -> int:
        return self._reveals.count()

    def _require_officer(self, officer_id: str) -> None:
        if self._members.role(officer_id) != COMPLIANCE or \
                not self._members.has_second_factor(officer_id):
            raise RevealRefusedError("Only a compliance officer with two-step sign-in may"
                                     " reveal a member's identity.")

    def _member_behind(self, principal: str, candidates: Iterable[str] | None) -> str | None:
        """The account among ``candidates`` (every account if ``None``) whose ledger pseudonym
        is ``principal``. Pseudonyms are keyed hashes with no stored inverse, so this computes
        each candidate's: one HMAC per member of the case, for an act that is rare."""
        for member_id in self._reveals.member_ids() if candidates is None else candidates:
            if self._principal(member_id) == principal:
                return member_id
        return None
