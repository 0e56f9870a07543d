"""Deadline mail for data subject requests, sent from the keeper pass of ``vrmvault serve``
(web/keeper.py): when an open request crosses into amber (under 10 days left), red (under 5)
or overdue, the compliance officers and the member are told, once per level.

Once, across worker processes and restarts: the level a request was last reminded of is stored
on it, and moving it on is one conditional write (``RequestService.reminders_due``), which only
one caller wins; the mail is sent after the claim, and a claim whose mail could not be handed
over is given back, so the next pass tries again (at most once, never lost for good). A request
that jumped a level (a quiet week-end of the keeper) is told its current level only.

Mail carries the request's id, kind and due date and the member's ledger pseudonym to officers
(never an address), and to the member what they asked and by when: nothing sealed is opened.
An erased member has no address left: only the officers are told.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
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
        officers = [m.email for m in consent.vault.members.with_role(COMPLIANCE)]
        told = 0
        for request, level in service.reminders_due():
            previous = request.row.reminder_level
            try:
                self._tell(consent, request, level, officers, public)
            except MailError as exc:
                logger.warning("deadline reminder for %s not sent (%s); tried again next pass",
                               request.id, type(exc).__name__)
                service.release_reminder(request.id, level=level, previous=previous)
                continue
            told += 1
        return told

    def _tell(self, consent: Consent, request: Request, level: Urgency, officers: list[str],
              public: str) -> None:
        row, label = request.row, request.spec.label
        sender = self._settings["VRMVAULT_MAIL_FROM"]
        for address in officers:
            self._mailer.send(compose(
                sender=sender, to=address,
                subject=f"Data subject request {row.id} {_WORDS[level]}",
                text=(f"Hello,\n\nthe request {row.id} ({label}, {row.regime.upper()}) of the"
                      f" member {row.principal} {_WORDS[level]}: due {row.due_on}.\n\n"
                      f"{public}/console/requests/{row.id}\n\nvrmvault\n")))
        if row.member_id is None:
            return
        try:
            address = consent.vault.members.get(row.member_id).email
        except (NotFoundError, MemberKeyMissingError):
            return
        self._mailer.send(compose(
            sender=sender, to=address, subject=f"Your request {_WORDS[level]}",
            text=(f"Hello,\n\nyour request \"{label}\" made on {row.received_on} {_WORDS[level]}"
                  f" (due {row.due_on}). We are on it; you can follow what each brand did on"
                  f" your page:\n\n{public}/member/requests\n\nvrmvault\n")))
