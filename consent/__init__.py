"""Consent: personal terms, grants, the decision point, receipts and the ledger (issue 3)."""
