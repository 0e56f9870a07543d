"""Demo data for a guided tour or a load test, kept apart from the domain packages.

``vrmvault demo`` (and ``vrmvault init --demo``) runs the loaders in this order:

- :mod:`demo.members`: the demo brands, then members with partial profiles and a feedback
  journal, drawn from the invented tables of :mod:`demo.content`;
- :mod:`demo.consents`: personal terms, IEEE 7012 agreements and grants to the demo brands;
- :mod:`demo.brand_clients`: OAuth clients for the first demo brands, with their credentials in
  a file beside the store.

Invariants:
- Every record is written through the domain's own services (sealing, receipts, ledger
  entries, secret hashing), never by hand, so demo data is shaped exactly like real data.
- The domain packages never import this one.
"""
