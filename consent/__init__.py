"""Consent: personal terms, grants, the decision point, receipts and the ledger.

Plain Python with no Flask: services take and return the records of :mod:`consent.model` and
raise the exceptions of :mod:`consent.errors`; the ledger (:mod:`consent.ledger`) is its own
SQLCipher file, the other records live in the vault's data store.
"""
