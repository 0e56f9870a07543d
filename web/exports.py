"""A member's export, assembled from every layer's part (see :mod:`vault.export` for how).

This list is where the layers meet: the vault's part, consent's, the brand gateway's. A layer
that starts to keep member records adds its exporter here; a table it adds to a store is one
line in its exporter (``tests/unit/web/test_export_coverage.py`` finds any table left out).
"""

from __future__ import annotations

from brand_gateway.storage import accepts_term, gateway_exporter
from community.export import care_exporter
from community.storage import care_service, member_community_export, member_survey_export
from compliance.export import compliance_exporter
from compliance.storage import member_request_export
from consent.context import Consent
from intents.storage import member_intent_export
from vault.export import MemberExport


def member_export(consent: Consent) -> MemberExport:
    """Everything about a member, over ``consent``'s vault and ledger. Merge the access spools
    first for the reads of the last second (the export page does)."""
    vault = consent.vault
    return MemberExport([
        vault.export,
        consent.export,
        gateway_exporter(database=vault.data, ledger=consent.ledger, clock=vault.clock,
                         principal=consent.principal, subject=consent.brand_subject),
        care_exporter(care=care_service(consent=consent, accepts_term=accepts_term(
            database=vault.data, clock=vault.clock, master=vault.master))),
        member_community_export(consent),
        member_survey_export(consent),
        member_request_export(consent),
        member_intent_export(consent),
        compliance_exporter(),
    ], clock=vault.clock)
