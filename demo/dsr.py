"""Demo data subject requests: the showcase member's access request to the brands that hold
their data (open, for a brand to answer through the API with the demo credentials), and a few
other demo members' requests of other kinds, so the console's queue has something to order.

Through the request service (so each has its ledger entries, its brands' tasks and, where the
vault does its part, that part done): the showcase member's request is left open; of the
others, a restriction is applied at the decision point and an opt-out goes into the member's
terms, as the My rights page does.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from brand_gateway.dsr import calendar_of, dsr_service
from consent.context import Consent
from consent.grants import Mode

from .members import SHOWCASE_EMAIL

#: The kinds the other demo members ask for, with what the vault does of each at once.
OTHER_KINDS = ("know", "restriction", "opt_out_sale_sharing", "correct", "objection")


@dataclass(frozen=True)
class DsrDemoReport:
    requests: int
    forwarded: int


def load_dsr_demo(consent: Consent, settings: Mapping[str, Any], *, callback_base: str,
                  seed: int = 2026) -> DsrDemoReport:
    vault = consent.vault
    service = dsr_service(consent, callback_base=callback_base, calendar=calendar_of(settings),
                          zone=settings["VRMVAULT_DEADLINE_TIMEZONE"])
    showcase = vault.members.find(SHOWCASE_EMAIL)
    if showcase is None:
        raise ValueError("load the vault demo first: it makes the showcase member")
    filed = [service.file(showcase, kind="access",
                          text="Which of my orders and ratings do you keep?")]
    service.fulfilled(filed[0].id, "export")
    rng = random.Random(seed)
    holders = [m for m in _members_with_grants(consent) if m != showcase]
    for kind, member_id in zip(OTHER_KINDS, rng.sample(holders, min(len(holders),
                                                                    len(OTHER_KINDS))),
                               strict=False):
        request = service.file(member_id, kind=kind)
        if kind in ("restriction", "objection", "opt_out_sale_sharing"):
            service.fulfil(member_id, request)
        else:
            service.fulfilled(request.id, "export" if kind == "know" else "profile")
        filed.append(request)
    return DsrDemoReport(len(filed), sum(len(r.tasks) for r in filed))


def _members_with_grants(consent: Consent, most: int = 200) -> list[str]:
    """Demo members holding a grant of individual use (their requests go to a brand), the
    first ``most`` of them by id."""
    holders: list[str] = []
    for member_id in consent.vault.accounts.ids():
        if any(grant.mode is Mode.INDIVIDUAL for grant in consent.grants.for_member(member_id)):
            holders.append(member_id)
            if len(holders) == most:
                break
    return holders
