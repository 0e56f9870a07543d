"""Domain exceptions of the vault.

Every exception the vault raises to its callers is one of these; library errors (sqlcipher3,
psycopg, cryptography) are translated at the boundary with ``raise ... from exc``.
``web/errors.py`` turns them into HTTP answers in one place, from what each class carries
(``status``, ``type``, ``title``, :meth:`~vrmvault.errors.VrmvaultError.headers`,
:meth:`~vrmvault.errors.VrmvaultError.extensions`)::

    VrmvaultError (vrmvault/errors.py)
    └── VaultError                       500  internal
        ├── StoreError                   500  the store cannot be opened or is damaged
        │   ├── StoreNotInitialisedError      no store at the configured home
        │   ├── TransactionFailedError        a step failed after writing and its failure
        │   │                                 was caught: the whole transaction rolled back
        │   ├── SnapshotMovedError            the store changed between a read's first look
        │   │                                 and its first statement (PostgreSQL), after
        │   │                                 remembered values were used: read again
        │   ├── StoreRestoredError            a database was put back from a dump under a
        │   │                                 serving host (PostgreSQL): it stops serving
        │   ├── StoreUnreachableError    503  the database server cannot be reached, or no
        │   │                                 connection came free in time (PostgreSQL):
        │   │                                 ``Retry-After``; a client is told no more
        │   └── WrongKeyError                 the key does not open the store
        ├── ConstraintViolationError     500  a UNIQUE, FOREIGN KEY or CHECK constraint refused
        │                                     a write; services that expect one translate it
        ├── KeyMaterialError             500  master key missing, malformed or unsafe
        ├── MemberKeyMissingError        500  the key store holds no data key for the member
        │   ├── MemberKeyDestroyedError  410  the member was erased: the key store lists it
        │   └── MemberKeyLostError       503  no erasure is listed: the key store was restored
        │                                     from a backup older than the member's key, and
        │                                     their data cannot be opened until a newer one is
        ├── IntegrityError               500  a sealed value failed authentication
        ├── ValidationError              422  input broke a rule; ``errors`` maps field ->
        │                                     messages
        ├── ConflictError                409  e.g. an e-mail address already registered
        ├── NotFoundError                404  no such record for this member
        ├── AuthenticationError          401  wrong credentials (never says which part)
        │   └── SecondFactorRequiredError     password right, TOTP code needed
        ├── ThrottledError               429  too many attempts; ``Retry-After: retry_after``
        ├── LinkExpiredError             410  a mailed link was used already, or is too old
        └── MailError                    503  a message could not be handed over for delivery
            └── RecipientNotSupportedError 422  the mail server cannot carry this address (one
                                              with letters outside ASCII before the @, to a
                                              server without SMTPUTF8): not worth a retry
"""

from __future__ import annotations

from typing import Any

from vrmvault.errors import VrmvaultError


class VaultError(VrmvaultError):
    """The root of the vault's tree: internal (500) unless a subclass says otherwise."""


class StoreError(VaultError):
    type = "store-unavailable"
    title = "The store cannot be used"


class StoreRestoredError(StoreError):
    """The data database was put back from a dump while a host served it (PostgreSQL): what
    the ledger recorded since (a withdrawal, an erasure) does not hold until
    ``reapply-erasures`` has run, so the host stops serving (web/keeper.py)."""


class StoreUnreachableError(StoreError):
    """The database server stopped, restarted, refused the connection or cannot be reached, or
    every pooled connection stayed busy (PostgreSQL): a state of the service, not the caller's
    doing, and one a retry may find over (RFC 9110 sec. 15.6.4). The message names the setting
    and the cause for the operator (the command line prints it); an HTTP client is told only
    that the store cannot be reached just now."""

    status = 503
    operational = True
    type = "store-unreachable"
    title = "The store cannot be reached"
    RETRY_AFTER = 5

    def public_detail(self) -> str:
        return "The vault's store cannot be reached just now. Try again in a few seconds."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.RETRY_AFTER)}


class TransactionFailedError(StoreError):
    """A write transaction rolled back at its end because a step inside it failed after
    writing and the failure was caught (vault/transactions.py): committing the rest would have
    kept that step's half. A defect of the caller, never of the input."""

    title = "The change could not be saved"


class SnapshotMovedError(StoreError):
    """Raised by a PostgreSQL read whose snapshot began after it had used remembered values
    and found the store changed in between (vault/postgresql/database.py): those values may
    be older than the rest of the read, so the caller reads again (the brand read does)."""

    type = "store-changed"
    title = "The store changed during a read"


class StoreNotInitialisedError(StoreError):
    type = "store-not-initialised"
    title = "No store has been initialised"


class WrongKeyError(StoreError):
    type = "wrong-key"
    title = "The key does not open the store"


class ConstraintViolationError(VaultError):
    """Translated from the driver's ``IntegrityError``; the message names the constraint (a
    table and column), never a value."""

    type = "constraint-violation"
    title = "A constraint refused the write"


class KeyMaterialError(VaultError):
    type = "key-material"
    title = "Key material is missing or unsafe"


class MemberKeyMissingError(VaultError):
    """The member's data key is not in the key store; which of the two it is, the key store's
    erasure list says (:meth:`vault.keys.KeyStore.cipher`). Catch this where either means
    "this member's data cannot be opened"."""


class MemberKeyDestroyedError(MemberKeyMissingError):
    status = 410
    type = "member-erased"
    title = "This member's data was erased"


class MemberKeyLostError(MemberKeyMissingError):
    """No key and no erasure listed: the key store was restored from a backup made before the
    member's key (``vrmvault reapply-erasures`` counts these members). Nothing was erased,
    so never 410: the data is there, unreadable until the operator restores a newer backup of
    the keys, which is the service's state and not the caller's doing, hence 503 (RFC 9110
    sec. 15.6.4). The member may still delete their account."""

    status = 503
    operational = True
    type = "member-key-lost"
    title = "This member's data cannot be opened"


class IntegrityError(VaultError):
    type = "integrity"
    title = "A sealed value failed authentication"


class ValidationError(VaultError):
    status = 422
    type = "validation"
    title = "The input is not valid"

    def __init__(self, errors: dict[str, list[str]], message: str = "") -> None:
        super().__init__(message or "The input is not valid")
        self.errors = errors

    def extensions(self) -> dict[str, Any]:
        return {"errors": self.errors}


class ConflictError(VaultError):
    status = 409
    type = "conflict"
    title = "Conflict"


class NotFoundError(VaultError):
    status = 404
    type = "not-found"
    title = "Not found"


class AuthenticationError(VaultError):
    status = 401
    type = "authentication"
    title = "Wrong e-mail address or password"


class SecondFactorRequiredError(AuthenticationError):
    type = "second-factor-required"
    title = "A one-time code is needed"

    def __init__(self, member_id: str) -> None:
        super().__init__(self.title)
        self.member_id = member_id


class ThrottledError(VaultError):
    status = 429
    type = "throttled"
    title = "Too many attempts"

    def __init__(self, retry_after: int) -> None:
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(f"Too many attempts. Try again in {retry_after} {unit}.")
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class LinkExpiredError(VaultError):
    status = 410
    type = "link-expired"
    title = "This link has expired"


class MailError(VaultError):
    status = 503
    type = "mail-unavailable"
    title = "The mail could not be sent"


class RecipientNotSupportedError(MailError):
    status = 422
    type = "recipient-not-supported"
    title = "The mail server cannot send to this address"
