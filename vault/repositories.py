"""What the vault's services may ask of storage: one repository contract per aggregate.

Services hold no SQL and do not know the engine. They are given repositories typed by these
``typing.Protocol`` classes; each engine has its own implementation of every one of them, holding
every statement and every engine-specific construct and concurrency mechanism (SQLCipher's in
``vault/sqlcipher/``, PostgreSQL's in ``vault/postgresql/``, one module per aggregate, what both
run alike in ``vault/sql/``). ``tests/unit/storage/`` is the conformance suite that every
implementation passes on a real store of its engine; :mod:`vault.engines` picks one by the
store's connection, so no service names an engine.

Invariants every implementation keeps:

- Repositories of one store share that store's connection, so :meth:`Transactional.transaction`
  taken on any of them is one unit of work for all of them: it takes the store's write lock (or
  the rows' locks) before it reads what it changes, nested uses join the outer one, and any
  exception rolls all of it back. The data store and the key store are apart: no transaction
  spans both (``vault/members.py`` and ``vault/erasure.py`` say how they are ordered instead).
- A statement outside a transaction commits on its own.
- Values are passed and returned as they are: sealed values and hashes as ``bytes``, times as
  integer Unix seconds; what a service must not see (a driver's row, an engine's error) never
  leaves an implementation: a broken constraint the caller must handle is a return value.
- Results come in a stated order wherever order is part of the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from .brands import Brand


class Transactional(Protocol):
    def transaction(self) -> AbstractContextManager[object]:
        """A write transaction over the repository's whole store (see the module docstring)."""


T = TypeVar("T")


class Memo(Protocol):
    """A store's :meth:`Store.memoized`, handed to a service that may remember what it reads
    (the brand API's read path)."""

    def __call__(self, key: Hashable, load: Callable[[], T]) -> T: ...


class Store(Transactional, Protocol):
    """A store as a whole, as a service that spans its repositories may use it (the brand read,
    the approval of a request): each engine's connection offers these, by its own means."""

    @property
    def engine(self) -> str:
        """``sqlcipher`` or ``postgresql``: whose repositories this store gets
        (:mod:`vault.engines`)."""

    def snapshot(self) -> AbstractContextManager[object]:
        """A read transaction: everything read inside sees one state of the store; no write
        may start inside it."""

    def memoized(self, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``, or what it returned for ``key`` before if nothing at all was committed
        to the store since, by any connection (values are immutable, never decrypted data)."""


# -- the data store -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemberRecord:
    id: str
    email_sealed: bytes
    password_hash: str
    created_at: int
    totp_sealed: bytes | None
    totp_last_step: int | None
    role: str


@dataclass(frozen=True)
class NewMember:
    """An account to add: its id, blind index, sealed address, password hash and time."""

    id: str
    email_index: bytes
    email_sealed: bytes
    password_hash: str
    created_at: int


class MemberRepository(Transactional, Protocol):
    def insert(self, member_id: str, *, email_index: bytes, email_sealed: bytes,
               password_hash: str, created_at: int) -> bool:
        """Add an account (role ``member``); ``False`` (and nothing written) when the blind
        index or the id is taken already."""

    def insert_many(self, rows: Sequence[NewMember]) -> None:
        """Add accounts (role ``member``) in a few statements, inside the caller's
        transaction: :class:`~vault.errors.ConstraintViolationError` when a blind index or an
        id is taken already, and the caller rolls back what its transaction wrote."""

    def get(self, member_id: str) -> MemberRecord | None: ...

    def find_by_index(self, email_index: bytes) -> MemberRecord | None: ...

    def exists(self, member_id: str) -> bool: ...

    def ids(self) -> list[str]:
        """Every account, in the order they were made."""

    def ids_with_role(self, role: str) -> list[str]:
        """The accounts with ``role``, in the order they were made (``member``: those with
        no other role)."""

    def set_role(self, member_id: str, role: str) -> bool:
        """Whether the account existed with another role (and has ``role`` now). One role per
        account: a staff role replaces the one held; ``member`` takes it away."""

    def set_password_hash(self, member_id: str, password_hash: str) -> None: ...

    def set_second_factor(self, member_id: str, totp_sealed: bytes | None,
                          last_step: int | None) -> None:
        """Turn the TOTP secret on (sealed, with its last accepted step) or off (``None``)."""

    def set_last_step(self, member_id: str, step: int) -> None: ...

    def cut_login(self, member_id: str, email_index: bytes) -> None:
        """Replace the account's blind index (erasure: a random one matches no address)."""


class RecoveryCodeRepository(Transactional, Protocol):
    def replace(self, member_id: str, code_hashes: Sequence[bytes], created_at: int) -> None:
        """The member's codes become exactly ``code_hashes``, all unused."""

    def spend(self, member_id: str, code_hash: bytes, used_at: int) -> bool:
        """Mark the code used if it is one of the member's unused ones; whether it was."""

    def remaining(self, member_id: str) -> int: ...

    def delete_for_member(self, member_id: str) -> None: ...


@dataclass(frozen=True)
class SessionRow:
    id_hash: bytes
    member_id: str | None
    data: str                       # JSON text
    device: str
    created_at: int
    last_seen: int
    expires_at: int


class SessionRepository(Transactional, Protocol):
    def insert(self, row: SessionRow) -> None:
        """Add a session, deleting every session ended by ``row.created_at`` first."""

    def get(self, id_hash: bytes) -> SessionRow | None: ...

    def save(self, id_hash: bytes, data: str, last_seen: int) -> None: ...

    def touch(self, id_hash: bytes, last_seen: int) -> None: ...

    def delete(self, id_hash: bytes) -> None: ...

    def delete_for_member(self, member_id: str, *, keep: bytes | None = None) -> int:
        """Delete the member's sessions (but the one ``keep`` names); how many."""

    def for_member(self, member_id: str) -> list[SessionRow]:
        """Every session of the member (ended ones too), most recently seen first."""

    def live_for_member(self, member_id: str, now: int) -> list[SessionRow]:
        """The member's sessions not past ``expires_at``, most recently seen first."""

    def prune(self, *, now: int, seen_before: int) -> int:
        """Delete the sessions ended at ``now`` or idle since before ``seen_before``."""


class LoginAttemptRepository(Transactional, Protocol):
    """Failed sign-in counts per subject (a keyed hash), for ``vault/throttle.py``."""

    def locked_until(self, subject: bytes) -> int | None: ...

    def failures(self, subject: bytes) -> tuple[int, int] | None:
        """``(failures, last_failure)`` of the subject, if it has any."""

    def record(self, subject: bytes, *, failures: int, last_failure: int,
               locked_until: int) -> None: ...

    def forget(self, subject: bytes) -> None: ...

    def give_back(self, subject: bytes, *, free_failures: int) -> None:
        """One failure fewer (never below 0); the lock ends once fewer than ``free_failures``
        remain."""


class RequestCountRepository(Transactional, Protocol):
    """Fixed-window request counts per subject, for ``vault/throttle.py``."""

    def window(self, subject: bytes) -> tuple[int, int] | None:
        """``(window_start, requests)`` of the subject, if it has a window."""

    def record(self, subject: bytes, *, window_start: int, requests: int) -> None: ...

    def forget_before(self, window_start: int) -> None:
        """Delete every window that started before ``window_start``."""


@dataclass(frozen=True)
class SignupRow:
    token_hash: bytes
    email_index: bytes
    sealed: bytes
    created_at: int
    expires_at: int


class SignupRepository(Transactional, Protocol):
    def insert(self, row: SignupRow) -> None:
        """Add a pending sign-up, deleting every one expired by ``row.created_at`` first."""

    def get(self, token_hash: bytes) -> SignupRow | None: ...

    def is_live(self, token_hash: bytes, now: int) -> bool: ...

    def delete(self, token_hash: bytes) -> bool:
        """Whether there was such a pending sign-up."""

    def delete_for_address(self, email_index: bytes) -> None: ...


class PasswordResetRepository(Transactional, Protocol):
    def insert(self, token_hash: bytes, member_id: str, *, created_at: int,
               expires_at: int) -> None:
        """Add a reset link, deleting every one expired by ``created_at`` first."""

    def member_for(self, token_hash: bytes, now: int) -> str | None:
        """The account of the link if it is live at ``now``."""

    def spend(self, token_hash: bytes, now: int) -> bool:
        """Delete the link if it is live at ``now``; whether it was."""

    def delete(self, token_hash: bytes) -> None: ...

    def delete_for_member(self, member_id: str) -> None: ...


class BrandRepository(Transactional, Protocol):
    def insert(self, brand: Brand, created_at: int) -> bool:
        """Add a brand; ``False`` (nothing written) when its name or id is taken."""

    def all(self) -> list[Brand]:
        """Every brand, by name."""

    def get(self, brand_id: str) -> Brand | None: ...

    def exists(self, brand_id: str) -> bool: ...


class ProfileRepository(Transactional, Protocol):
    def values(self, member_id: str, attributes: Sequence[str] | None = None
               ) -> list[tuple[str, bytes]]:
        """``(attribute, sealed value)`` of the member: all of them, or only ``attributes``
        (the brand API's hot path: only those rows are read)."""

    def put(self, member_id: str, attribute: str, sealed: bytes, updated_at: int) -> None:
        """Set the value (insert or replace)."""

    def put_many(self, rows: Iterable[tuple[str, str, bytes, int]]) -> None:
        """Insert ``(member_id, attribute, sealed, updated_at)`` rows not stored yet (a bulk
        load)."""

    def remove(self, member_id: str, attribute: str) -> None: ...


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    brand_id: str
    touchpoint: str
    rating: int
    nps: int | None
    comment_sealed: bytes | None
    occurred_on: str
    updated_at: int


@dataclass(frozen=True)
class TouchpointCounts:
    touchpoint: str
    entries: int
    mean_rating: float
    promoters: int
    detractors: int
    scored: int                     # entries with an NPS score


class FeedbackRepository(Transactional, Protocol):
    def next_ids(self) -> int:
        """The first of the ids the next insert may use: greater than any id ever used (ids
        of deleted entries are never reused). Call it inside the inserting transaction."""

    def member_numbers(self, member_ids: Sequence[str]) -> dict[str, int]:
        """The integer key of each of these members that exists (absent: no such member)."""

    def member_number(self, member_id: str) -> int | None:
        """The member's integer key (hot tables reference members by it), if they exist."""

    def insert_many(self, rows: Sequence[tuple[int, int, FeedbackRow]]) -> None:
        """Insert ``(id, member number, entry)`` rows (``entry.id`` is ignored)."""

    def update(self, member_id: str, entry: FeedbackRow) -> bool:
        """Replace the member's entry ``entry.id``; whether the member has it."""

    def delete(self, member_id: str, entry_id: int) -> bool: ...

    def get(self, member_id: str, entry_id: int) -> FeedbackRow | None: ...

    def for_member(self, member_id: str) -> list[FeedbackRow]:
        """The member's entries, newest ``occurred_on`` first, then newest id first."""

    def by_touchpoint(self, brand_id: str | None = None) -> list[TouchpointCounts]:
        """Counts per touchpoint over every member (or one brand), by touchpoint."""


@dataclass(frozen=True)
class ErasureRecord:
    erased_at: int
    rows_deleted: int


class ErasureRepository(Transactional, Protocol):
    def begin(self, member_id: str, erased_at: int) -> int:
        """Record the intent (the first one's time is kept); the intent's time."""

    def intents(self) -> list[tuple[str, int]]:
        """``(member_id, erased_at)`` of every erasure begun and not done, oldest first."""

    def is_pending(self, member_id: str) -> bool: ...

    def finish(self, member_id: str) -> None:
        """Forget the intent."""

    def delete_member_rows(self, member_id: str) -> int:
        """Delete every row of the member, their account last; how many rows."""

    def record(self, subject: str, erased_at: int, rows_deleted: int) -> None:
        """Keep the pseudonymous record of an erasure (the first one's is kept)."""

    def recorded(self, subject: str) -> ErasureRecord | None: ...

    def times(self) -> dict[str, int]:
        """Every recorded erasure: its subject and when it was made."""

    def count(self) -> int: ...

    def purge_freed_pages(self) -> None:
        """Make sure what was deleted is gone from disk too (SQLite: checkpoint the WAL)."""


# -- the key store --------------------------------------------------------------------------------
class MemberKeyRepository(Transactional, Protocol):
    def insert(self, member_id: str, wrapped: bytes, created_at: int) -> bool:
        """Store the wrapped key; ``False`` (nothing written) when the member has one."""

    def insert_many(self, rows: Sequence[tuple[str, bytes, int]]) -> None:
        """Store ``(member_id, wrapped, created_at)`` keys in one statement, inside the
        caller's transaction: :class:`~vault.errors.ConstraintViolationError` when a member
        has one already, and the caller rolls back."""

    def wrapped(self, member_id: str) -> bytes | None: ...

    def remove(self, member_id: str) -> None:
        """Delete the member's key without listing an erasure (undoing a failed sign-up)."""

    def destroy(self, member_id: str, erased_at: int) -> bool:
        """Delete the member's key and list the erasure (the first time is kept), in one
        transaction, then purge the freed pages from disk; whether there was a key."""

    def erased_at(self, member_id: str) -> int | None: ...

    def holders(self) -> list[str]:
        """The members who hold a key, by id."""

    def erased(self) -> list[tuple[str, int]]:
        """``(member_id, erased_at)`` of every listed erasure."""
