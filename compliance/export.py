"""What compliance contributes to a member's export (``vault/export.py``): nothing shown, one
table withheld with the reason why."""

from __future__ import annotations

from vault.export import DATA_STORE, Exporter


def compliance_exporter() -> Exporter:
    """Reveals are the officers' records about a case, not the member's data: withheld, with
    the reason the export's schema states."""
    return Exporter("compliance", sections=(), withheld={
        f"{DATA_STORE}:identity_reveals": "a compliance officer's record of being shown your"
        " address for one case (a request you made, or a brand's breach), kept for the"
        " controller's accountability (GDPR Art. 5(2)) while your account exists; its reason"
        " is sealed under your key. Erasing your account deletes it; its ledger entry, which"
        " names you by pseudonym only, stays",
    })
