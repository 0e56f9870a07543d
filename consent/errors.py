"""Domain exceptions of the consent area: grants, receipts, access spools and the ledger.

``web/errors.py`` and the command line turn them into answers, each in one place, from what each
class carries (``status``, ``type``, ``title``). Library errors (sqlcipher3, cryptography, json)
are translated where they happen with ``raise ... from exc``. Grants and terms raise the vault's
``ValidationError``, ``ConflictError`` and ``NotFoundError`` for bad input, a conflicting state
and an unknown record::

    VrmvaultError (vrmvault/errors.py)
    └── ConsentError                     500  internal
        ├── ConsentInputError            422  an event, an actor or its details broke a rule
        │   └── PersonalDataError        422  details hold what looks like personal data
        ├── ProofRequestError            422  no such entry, or tree sizes out of range
        ├── SearchCursorError            400  a ledger search cursor was changed or belongs
        │                                     to another search
        ├── CheckpointError              500  a checkpoint cannot be signed or trusted
        │   ├── InconsistentCheckpointError  the tree does not extend the last signed one
        │   └── NoteVerificationError    400  a signed note is malformed or its signature fails
        ├── LedgerIntegrityError         500  the stored ledger is damaged; ``seq`` names where
        │   └── LedgerDamageError        500  the first damage a verification pass found; it
        │                                     ends the pass and becomes its report
        ├── ReceiptVerificationError     400  a receipt token is malformed or not signed by
        │                                     this vault's key
        └── SpoolDamagedError            500  an access spool's records were changed

``ConsentInputError``, ``ProofRequestError`` and ``SearchCursorError`` are also
``ValueError``\\ s: the caller passed a value the ledger refuses, and code that guards with
``except ValueError`` catches them.
"""

from __future__ import annotations

from vrmvault.errors import VrmvaultError


class ConsentError(VrmvaultError):
    type = "consent-internal"
    title = "Consent error"


class ConsentInputError(ConsentError, ValueError):
    status = 422
    type = "consent-input"
    title = "The consent event is not valid"


class PersonalDataError(ConsentInputError):
    """Raised as a guard: ledger entries hold pseudonyms and digests, never personal data."""

    type = "personal-data-refused"
    title = "Ledger entries must not hold personal data"


class ProofRequestError(ConsentError, ValueError):
    status = 422
    type = "proof-request"
    title = "No proof exists for these sizes"


class SearchCursorError(ConsentError, ValueError):
    """A ledger search cursor (consent/ledger_search.py) that this vault did not make for
    this search: edited, cut short, or carried over from other filters."""

    status = 400
    type = "search-cursor"
    title = "The page link is not valid"


class CheckpointError(ConsentError):
    type = "checkpoint"
    title = "The checkpoint cannot be signed or trusted"


class InconsistentCheckpointError(CheckpointError):
    """A log must never sign two checkpoints that no consistency proof links (C2SP tlog-checkpoint).
    """

    type = "inconsistent-checkpoint"
    title = "The ledger does not extend its last signed checkpoint"


class NoteVerificationError(CheckpointError):
    status = 400
    type = "note-verification"
    title = "The signed note does not verify"


class LedgerIntegrityError(ConsentError):
    type = "ledger-integrity"
    title = "The ledger is damaged"

    def __init__(self, message: str = "", *, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class LedgerDamageError(LedgerIntegrityError):
    """Raised inside ``Ledger.verify`` at the first damage found, and caught there: the pass
    stops and reports ``seq`` and ``problem`` instead of raising."""

    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem, seq=seq)
        self.problem = problem


class ReceiptVerificationError(ConsentError):
    """A receipt token is malformed, not signed by this vault's key, or not EdDSA."""

    status = 400
    type = "receipt-verification"
    title = "The consent receipt does not verify"


class SpoolDamagedError(ConsentError):
    """A spool's records do not open or do not follow each other: they were changed."""

    type = "spool-damaged"
    title = "An access spool is damaged"
