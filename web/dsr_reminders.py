"""Deadline mail for data subject requests, sent from the keeper pass of ``vrmvault serve``
(web/keeper.py): when an open request crosses into amber (under 10 days left), red (under 5)
or overdue, the compliance officers and the member are told, once per level.

Once, across worker processes and restarts: the level a request was last reminded of is stored
on it, and moving it on is one conditional write (``RequestService.reminders_due``), which only
one caller wins; the mail is sent after the claim, one message per recipient, each tried
whatever became of the others. A claim none of whose messages could be handed over (the mail
server is down) is given back, so the next pass tries again; once any was handed over the claim
stands, and a recipient the server refused is not tried again (a warning says how many): giving
the claim back would tell everyone else again on every pass, and an address refused first
stopped everyone after it being told at all. A request that jumped a level (a quiet week-end of
the keeper) is told its current level only.

Mail carries the request's id, kind and due date and the member's ledger pseudonym to officers
(never an address), and to the member what they asked and by when: nothing sealed is opened.
An erased member has no address left: only the officers are told.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from brand_gateway.dsr import calendar_of, dsr_service
from compliance.deadlines import Urgency
from compliance.requests import Request
from consent.context import Consent
from vault.errors import MailError, MemberKeyMissingError, NotFoundError
from vault.mail import Mailer, compose
from vault.members import COMPLIANCE

from .config import DEFAULT_PUBLIC_URL
from .mailing import mailer_for

logger = logging.getLogger(__name__)

#: How often the keeper looks (its pass runs every 0.25 s; deadlines move by the day).
EVERY = 60.0
_WORDS = {Urgency.AMBER: "is due in under 10 days", Urgency.RED: "is due in under 5 days",
          Urgency.OVERDUE: "is overdue"}


class DeadlineReminders:
    """The reminders of one home, with the mail and deadline settings of ``settings``."""

    def __init__(self, settings: Mapping[str, Any], home: Path, *,
                 mailer: Mailer | None = None) -> None:
        self._settings = settings
        self._mailer = mailer or mailer_for(settings, home)
        self._last: float | None = None

    def due(self, now: float) -> bool:
        return self._last is None or now - self._last >= EVERY

    def send(self, consent: Consent) -> int:
        """Claim and send every reminder due now; how many requests were told about."""
        settings = self._settings
        self._last = consent.vault.clock()
        public = str(settings.get("VRMVAULT_PUBLIC_URL") or DEFAULT_PUBLIC_URL)
        service = dsr_service(consent, callback_base=public, calendar=calendar_of(settings),
                              zone=settings["VRMVAULT_DEADLINE_TIMEZONE"])
        # An officer whose key was lost in a restore has no address to read: the others are
        # still told (it stopped every reminder).
        officers = [m.email for m in consent.vault.members.with_role(COMPLIANCE,
                                                                      readable_only=True)]
        told = 0
        for request, level in service.reminders_due():
            messages = self._messages(consent, request, level, officers, public)
            refused = []
            for message in messages:
                try:
                    self._mailer.send(message)
                except MailError as exc:
                    refused.append(type(exc).__name__)
            if refused and len(refused) == len(messages):
                logger.warning("deadline reminder for %s not sent (%s); tried again next pass",
                               request.id, refused[0])
                service.release_reminder(request.id, level=level,
                                         previous=request.row.reminder_level)
                continue
            if refused:
                logger.warning("deadline reminder for %s not handed over for %d of %d"
                               " recipients (%s); not tried again", request.id, len(refused),
                               len(messages), refused[0])
            told += 1
        return told

    def _messages(self, consent: Consent, request: Request, level: Urgency,
                  officers: list[str], public: str) -> list[EmailMessage]:
        """One message to each officer, then one to the member (unless erased)."""
        row, label = request.row, request.spec.label
        sender = self._settings["VRMVAULT_MAIL_FROM"]
        messages = [compose(
            sender=sender, to=address,
            subject=f"Data subject request {row.id} {_WORDS[level]}",
            text=(f"Hello,\n\nthe request {row.id} ({label}, {row.regime.upper()}) of the"
                  f" member {row.principal} {_WORDS[level]}: due {row.due_on}.\n\n"
                  f"{public}/console/requests/{row.id}\n\nvrmvault\n")) for address in officers]
        if row.member_id is None:
            return messages
        try:
            address = consent.vault.members.get(row.member_id).email
        except (NotFoundError, MemberKeyMissingError):
            return messages
        return [*messages, compose(
            sender=sender, to=address, subject=f"Your request {_WORDS[level]}",
            text=(f"Hello,\n\nyour request \"{label}\" made on {row.received_on} {_WORDS[level]}"
                  f" (due {row.due_on}). We are on it; you can follow what each brand did on"
                  f" your page:\n\n{public}/member/requests\n\nvrmvault\n"))]
