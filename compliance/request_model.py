"""What a data subject request is: its kinds under each law (with what the vault does of each
and which Ketch Forwarder dsr/v1 message carries it to brands), its states and its tasks'
states, its due date, and the records the request service returns (compliance/requests.py).

Pure values and date arithmetic over compliance/deadlines.py: no store, no clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from . import deadlines
from .deadlines import DEFAULT_TIMEZONE, HolidayCalendar, Urgency, received_on
from .repositories import HistoryRow, RequestRow, TaskRow

MAX_TEXT = 2000
MAX_REASON = 500
MIN_EXTENSION_REASON = 10
MAX_RESULT_BYTES = 1_000_000          # per task, as the Ketch Forwarder limits JSON results
NO_SUCH_REQUEST = "There is no such request."
DAY = 86_400


class Regime(StrEnum):
    GDPR = "gdpr"
    CCPA = "ccpa"


class Kind(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"
    KNOW = "know"
    DELETE = "delete"
    CORRECT = "correct"
    OPT_OUT = "opt_out_sale_sharing"
    LIMIT_SENSITIVE = "limit_sensitive"


class Message(StrEnum):
    """The Ketch Forwarder ``dsr/v1`` request kinds."""

    ACCESS = "AccessRequest"
    DELETE = "DeleteRequest"
    CORRECTION = "CorrectionRequest"
    RESTRICT = "RestrictProcessingRequest"


class RequestState(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class TaskState(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DENIED = "denied"


FINAL_STATES = frozenset({TaskState.COMPLETED, TaskState.CANCELLED, TaskState.DENIED})
LEVELS = (Urgency.GREEN, Urgency.AMBER, Urgency.RED, Urgency.OVERDUE)   # reminders, in order


@dataclass(frozen=True)
class KindSpec:
    regime: Regime
    label: str
    explanation: str
    message: Message
    fulfilment: str              # what the vault does itself
    extendable: bool = True
    optout: bool = False         # CCPA sec. 7026: 15 business days, no verification


KINDS: dict[Kind, KindSpec] = {
    Kind.ACCESS: KindSpec(Regime.GDPR, "Access (Art. 15)",
                          "Get a copy of your data and learn who used it and why.",
                          Message.ACCESS, "export"),
    Kind.RECTIFICATION: KindSpec(Regime.GDPR, "Rectification (Art. 16)",
                                 "Correct what is wrong: you fix it on your Profile page, and"
                                 " the brands that received it are told to fix their copies.",
                                 Message.CORRECTION, "profile"),
    Kind.ERASURE: KindSpec(Regime.GDPR, "Erasure (Art. 17)",
                           "Have your data erased: your vault is deleted at once and the"
                           " brands are told to delete their copies.",
                           Message.DELETE, "erasure"),
    Kind.RESTRICTION: KindSpec(Regime.GDPR, "Restriction of processing (Art. 18)",
                               "Stop the brands using your data for now: they can read nothing"
                               " more of it until you lift the restriction.",
                               Message.RESTRICT, "restriction"),
    Kind.OBJECTION: KindSpec(Regime.GDPR, "Objection (Art. 21)",
                             "Object to the brands' use of your data: they can read nothing"
                             " more of it until you withdraw the objection.",
                             Message.RESTRICT, "objection"),
    Kind.PORTABILITY: KindSpec(Regime.GDPR, "Portability (Art. 20)",
                               "Take your data with you, in machine-readable files.",
                               Message.ACCESS, "export"),
    Kind.KNOW: KindSpec(Regime.CCPA, "Right to know",
                        "Know what personal information was collected about you, and get it.",
                        Message.ACCESS, "export"),
    Kind.DELETE: KindSpec(Regime.CCPA, "Right to delete",
                          "Have your personal information deleted, here and by the brands.",
                          Message.DELETE, "erasure"),
    Kind.CORRECT: KindSpec(Regime.CCPA, "Right to correct",
                           "Correct inaccurate personal information: you fix it on your Profile"
                           " page, and the brands are told.", Message.CORRECTION, "profile"),
    Kind.OPT_OUT: KindSpec(Regime.CCPA, "Opt out of sale or sharing",
                           "No brand may sell or share your personal information.",
                           Message.RESTRICT, "opt_out", extendable=False, optout=True),
    Kind.LIMIT_SENSITIVE: KindSpec(Regime.CCPA, "Limit the use of sensitive information",
                                   "Brands may not use your sensitive personal information"
                                   " (such as health or religion).",
                                   Message.RESTRICT, "limit_sensitive", extendable=False,
                                   optout=True),
}


@dataclass(frozen=True)
class Forwarded:
    """What the ``forward`` hook needs to send one brand its message."""

    task: TaskRow
    regime: Regime
    kind: Kind
    submitted_at: int            # the start of the day of receipt (Unix seconds, start_of)
    due_at: int                  # the end of the due day (Unix seconds)


@dataclass(frozen=True)
class Result:
    """A document a brand returned, opened for the member."""

    task_uid: str
    name: str
    media_type: str
    data: bytes
    created_at: int


@dataclass(frozen=True)
class Request:
    """A request with its tasks (and, for its member, what they wrote and the results)."""

    row: RequestRow
    tasks: tuple[TaskRow, ...] = ()
    text: str | None = None
    results: tuple[Result, ...] = ()
    history: tuple[HistoryRow, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def kind(self) -> Kind:
        return Kind(self.row.kind)

    @property
    def spec(self) -> KindSpec:
        return KINDS[self.kind]

    @property
    def due(self) -> dt.date:
        return dt.date.fromisoformat(self.row.due_on)

    def urgency(self, today: dt.date) -> Urgency | None:
        """None once closed."""
        if self.row.state == RequestState.CLOSED:
            return None
        return deadlines.urgency(self.due, today)


def day_of(seconds: float, zone: str = DEFAULT_TIMEZONE) -> dt.date:
    """The day ``seconds`` falls on in the deadline time zone (compliance/deadlines.py)."""
    return received_on(dt.datetime.fromtimestamp(seconds, dt.UTC), zone)


def start_of(day: dt.date, zone: str = DEFAULT_TIMEZONE) -> int:
    """The first second of ``day`` in the deadline time zone, as Unix seconds: when a request
    was received, as brands are told it. Never the second it was filed: every brand of a
    request would get that same second, a value two brands could join their pairwise subjects
    on; the day is what its deadline is counted from, and no finer than its due date."""
    return int(dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).timestamp())


def end_of(day: dt.date, zone: str = DEFAULT_TIMEZONE) -> int:
    """The last second of ``day`` in the deadline time zone, as Unix seconds."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ZoneInfo(zone))
    return int(midnight.timestamp()) - 1


def due_on(kind: Kind, received: dt.date, calendar: HolidayCalendar) -> dt.date:
    spec = KINDS[kind]
    if spec.optout:
        return deadlines.optout_due(received, calendar)
    if spec.regime is Regime.GDPR:
        return deadlines.gdpr_due(received)
    return deadlines.ccpa_due(received)
