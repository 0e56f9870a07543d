"""The brand gateway: everything a brand meets, the OAuth 2.0 authorization server and the
brand API, and what the vault owes brands (pairwise pseudonyms, rate limits, webhooks).

Invariants: a brand only ever sees its own pairwise pseudonym of a member, never an identifier
another brand also receives; every read of member data goes through the consent decision point
and is recorded in the ledger.
"""
