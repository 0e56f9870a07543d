"""What consent's services may ask of the data store: one repository contract per aggregate.

The same seam as ``vault/repositories.py`` (read its docstring for the invariants every
implementation keeps: repositories of one store share its transactions, a broken constraint a
caller handles is a return value, results come in a stated order). Consent's services hold no
SQL; the implementations are in ``consent/sqlcipher/`` and ``consent/postgresql/`` (what both
share in ``consent/sql/``), one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``. Values are consent's own records (``consent/model.py``), with sets
stored as the implementation likes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from vault.repositories import Transactional

from .model import (
    AccessEnd,
    AgreementRecord,
    AgreementStatus,
    AgreementVia,
    BrandTerms,
    Grant,
    PersonalTerms,
    RecordedGrant,
    Restriction,
    TermsReceipt,
)

if TYPE_CHECKING:
    from .access_index import IndexedRead, MemberReads, ReadsOnDay
    from .grants import StoredReceipt
    from .ledger_proofs import Checkpoint
    from .ledger_search import LedgerQuery, Position, SearchHit, SearchRow


class TermsRepository(Transactional, Protocol):
    """A member's standing terms, what they accepted for single brands, and the receipts of
    those single-brand changes."""

    def standing(self, member_id: str) -> PersonalTerms | None:
        """The member's standing terms, if they ever saved any."""

    def for_brand(self, member_id: str, brand_id: str
                  ) -> tuple[PersonalTerms | None, BrandTerms | None]:
        """The standing terms and what was accepted for ``brand_id`` only, read together (the
        decision point reads these)."""

    def save_standing(self, terms: PersonalTerms) -> None:
        """Insert or replace the member's standing terms."""

    def brand_terms(self, member_id: str) -> list[BrandTerms]:
        """What the member accepted for single brands, the latest change first."""

    def brand_terms_for(self, member_id: str, brand_id: str) -> BrandTerms | None: ...

    def save_brand_terms(self, terms: BrandTerms) -> None:
        """Insert or replace what the member accepted for ``terms.brand_id``."""

    def remove_brand_terms(self, member_id: str, brand_id: str) -> None: ...

    def add_receipt(self, receipt: TermsReceipt) -> None: ...

    def receipts(self, member_id: str) -> list[TermsReceipt]:
        """The member's terms receipts, newest first (of one second, the last added first)."""


class AgreementRepository(Transactional, Protocol):
    """IEEE 7012 agreements between members and brands."""

    def insert(self, agreement_id: str, member_id: str, brand_id: str, proffered: str,
               now: int, *, via: AgreementVia) -> None:
        """A new offer (``proffered``), made ``via`` the member's offer or a join."""

    def get(self, agreement_id: str) -> AgreementRecord | None: ...

    def open_offer(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        """The member's offer to the brand still proffered or countered, if any."""

    def in_force(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        """The agreed one changed last (of one second, the one written last)."""

    def for_member(self, member_id: str) -> list[AgreementRecord]:
        """The member's agreements, latest change first."""

    def for_brand(self, brand_id: str, *, status: AgreementStatus | None, limit: int,
                  offset: int) -> list[AgreementRecord]:
        """The brand's agreements (of ``status`` if given), latest change first, then by id:
        those the member offered only (a join's agreement is not the brand's to see)."""

    def counter(self, agreement_id: str, term: str, now: int) -> None: ...

    def reject(self, agreement_id: str, now: int) -> None: ...

    def withdraw(self, agreement_id: str, now: int) -> None:
        """The member took their offer back before the brand answered."""

    def agree(self, agreement_id: str, *, term: str, record: str, record_hash: str,
              signature: str, now: int) -> None: ...


class GrantRepository(Transactional, Protocol):
    """Grants, and the signed receipts of their events."""

    def insert(self, grant: Grant) -> None:
        """A new grant, as given (its status, version and times included)."""

    def get(self, grant_id: str, member_id: str | None = None) -> Grant | None:
        """The grant (only if it is ``member_id``'s, when given)."""

    def live(self, member_id: str, brand_id: str, purpose: str, now: int) -> list[Grant]:
        """The active grants not ended at ``now`` for the member, brand and purpose, oldest
        first (of one second, the one written first)."""

    def live_ids(self, member_id: str, brand_id: str, purpose: str, now: int) -> list[str]:
        """The ids of :meth:`live`, in its order."""

    def duplicated(self, now: int) -> list[tuple[str, str, str]]:
        """``(member_id, brand_id, purpose)`` having more than one live grant at ``now``."""

    def for_member(self, member_id: str) -> list[Grant]:
        """The member's grants, by status, then by end."""

    def for_member_and_brand(self, member_id: str, brand_id: str) -> list[Grant]:
        """Every grant of the member to the brand, in any state (the decision point's)."""

    def ended_unrecorded(self, now: int) -> list[Grant]:
        """Active grants ended by ``now`` whose expiry was not recorded yet."""

    def recorded_expiries(self, member_id: str) -> set[str]:
        """The ids of the member's grants whose expiry was recorded (for their export)."""

    def record_expiry(self, grant_id: str) -> bool:
        """Mark the grant's expiry recorded; whether this call did (concurrent sweeps)."""

    def narrow(self, grant_id: str, *, fields: frozenset[str], ends_at: int,
               now: int) -> None:
        """New fields and end, one version more."""

    def withdraw(self, grant_id: str, now: int) -> None: ...

    def replace(self, grant_id: str, by: str, now: int) -> None: ...

    def release(self, grant_id: str, cause: AccessEnd, now: int) -> None:
        """The brand gave the access up: the consent ends with it (``released``)."""

    def end_access(self, grant_id: str, cause: AccessEnd, now: int) -> None:
        """The brand's access ended; the consent stands (status and version unchanged)."""

    def reapply(self, recorded: RecordedGrant) -> bool:
        """Bring the grant to ``recorded`` if the row is older: a lower version, or at the same
        version no end of access or no recorded expiry where ``recorded`` has one. Whether the
        row changed."""

    def add_receipt(self, member_id: str, receipt: StoredReceipt) -> None: ...

    def receipts(self, member_id: str) -> list[StoredReceipt]:
        """The member's grant receipts, newest first (of one second, the last added first)."""



# -- the ledger store -----------------------------------------------------------------------------
class LedgerRepository(Transactional, Protocol):
    """The ledger store (``consent/ledger.py``): entries, the Merkle tree's stored nodes, signed
    checkpoints, the brand-read index's rows and the spools' merge marks, in one store whose
    transactions cover them all.

    Append-only but for the marks: nothing here updates or deletes an entry, a node or a
    checkpoint. Bodies and hashes are ``bytes`` exactly as given; entries are numbered by
    ``seq`` from 0 and nodes by their post-order ``position`` (``consent/merkle.py``)."""

    def snapshot(self) -> AbstractContextManager[object]:
        """A read transaction: everything read inside sees one state of the store (joins a
        write transaction already open)."""

    def savepoint(self) -> AbstractContextManager[object]:
        """Inside a write transaction: a nested unit that an exception rolls back alone (and
        then raises on), leaving the outer transaction open."""

    def end_use(self) -> bool:
        """Roll back whatever a failed caller left open; whether there was anything."""

    def close(self) -> None: ...

    # entries and nodes
    def size(self) -> int:
        """How many entries there are (one past the highest ``seq``; 0 when empty)."""

    def body(self, seq: int) -> bytes | None: ...

    def latest_body(self, prefix: bytes, containing: bytes) -> bytes | None:
        """The body of the highest ``seq`` that starts with ``prefix`` and contains
        ``containing`` (a scan: for rare look-ups)."""

    def bodies_containing(self, needle: bytes) -> list[tuple[int, bytes]]:
        """``(seq, body)`` of every entry whose body contains ``needle``, by ``seq``."""

    def entries(self) -> Iterator[tuple[int, bytes]]:
        """Every ``(seq, body)`` by ``seq``, streamed (use it inside :meth:`snapshot`)."""

    def nodes(self) -> Iterator[tuple[int, bytes]]:
        """Every ``(position, hash)`` by position, streamed."""

    def nodes_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The stored hashes at ``positions`` (those absent are left out)."""

    def nodes_from(self, first: int) -> list[tuple[int, bytes]]:
        """``(position, hash)`` of every node at ``first`` or after, by position."""

    def last_position(self) -> int | None:
        """The highest stored node position, if any."""

    def append(self, entries: Sequence[tuple[int, bytes]], nodes: Sequence[tuple[int, bytes]],
               search: Sequence[SearchRow] = ()) -> None:
        """Write entries ``(seq, body)``, tree nodes ``(position, hash)`` and search index
        rows (one per entry, consent/ledger_search.py; the brand reads are found among them),
        each list as one batch."""

    # checkpoints
    def checkpoints(self) -> list[Checkpoint]:
        """Every signed checkpoint, by tree size."""

    def latest_checkpoint(self) -> Checkpoint | None: ...

    def latest_checkpoint_size(self) -> int | None: ...

    def add_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    # spool marks
    def spool_marks(self) -> dict[str, int]:
        """Per spool id, the number of the last record of it appended to the ledger."""

    def spool_mark(self, spool_id: str) -> int:
        """The spool's mark; 0 when none of it was appended yet."""

    def set_spool_mark(self, spool_id: str, n: int) -> None:
        """Insert or move the spool's mark."""


class AccessIndexRepository(Protocol):
    """The brand reads of the ledger store (``consent/access_index.py``), found in its search
    index; read only here: :meth:`LedgerRepository.append` writes the rows with their
    entries."""

    def count(self, principal: str) -> int: ...

    def reads(self, principal: str, *, limit: int, offset: int = 0) -> list[IndexedRead]:
        """The member's reads by the time they were served, newest first (then by ``seq``,
        highest first), ``offset`` skipped."""

    def daily(self, principal: str, *, since: int, day: int) -> list[ReadsOnDay]:
        """Reads per brand per ``day``-second period from Unix time ``since`` on, by period."""

    def by_brand(self, brand_id: str) -> list[MemberReads]:
        """What the brand read of each member it read, by principal: a breach report's "what
        it read" (a scan of the index, summed in the store: for rare reports, never a request
        path)."""


class LedgerSearchRepository(Protocol):
    """The search index of the ledger store (``consent/ledger_search.py``); read only here:
    :meth:`LedgerRepository.append` writes its rows with their entries.

    Every filter of a :class:`~consent.ledger_search.LedgerQuery` given must hold; ``tags`` is a
    set of exact tags (any one of them). Results are ordered by ``(at, seq)``, highest first,
    and carry the entry's body as stored. A page's cost follows its own rows, not its depth:
    implementations walk an index from the position."""

    def search(self, query: LedgerQuery, *, before: Position | None = None,
               after: Position | None = None, limit: int) -> list[SearchHit]:
        """The ``limit`` entries matching ``query`` just older than ``before`` (the newest
        without either), or just newer than ``after``; newest first either way."""

    def count(self, query: LedgerQuery) -> int:
        """How many entries match ``query`` (a walk of the index: for progress bars)."""

    def rows(self, seqs: Sequence[int]) -> list[SearchRow]:
        """The index rows of these entries, by seq (those not indexed are left out)."""


class RestrictionRepository(Transactional, Protocol):
    """Restrictions of processing (consent/restrictions.py); rows are added and lifted, never
    changed otherwise. Erasing the member deletes theirs."""

    def add(self, restriction: Restriction) -> int:
        """Store ``restriction`` (its ``id`` ignored); the new id."""

    def reinstate(self, restriction: Restriction) -> bool:
        """Store ``restriction`` again under its own id (after a restore, a row the backup did
        not hold: compliance/after_restore.py); False, storing nothing, if a row has that id
        or the store holds no such member. Ids handed out later stay unique."""

    def live_for(self, member_id: str, brand_id: str) -> list[Restriction]:
        """The restrictions holding now for the member towards ``brand_id``: those naming it
        and those naming every brand; by id."""

    def for_member(self, member_id: str) -> list[Restriction]:
        """Every restriction of the member, lifted ones too, newest first."""

    def lift(self, member_id: str, restriction_id: int, at: int) -> bool:
        """Lift the member's restriction; False if there is none such holding."""
