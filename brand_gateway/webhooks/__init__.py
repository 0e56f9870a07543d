"""Signed webhooks that tell brands to delete their copies (DESIGN.md sec. 4, GDPR Art. 19).

Four events: ``consent.withdrawn``, ``consent.expired`` and ``authorization.ended`` (to the
grant's brand) and ``member.erased`` (to every brand that ever knew the member). A giving or a
narrowing is not notified. ``authorization.ended`` says the brand's access under a grant ended
and why (``reason``: ``code-replay``, ``refresh-replay``, ``client-disabled``,
``authorization-expired``, ``revoked-by-brand``, ``replaced``) and whether the member's consent
``stands`` (the brand may ask again), ``ended`` (it revoked the authorization itself) or was
``replaced`` (by ``replaced_by``, the grant of its newer authorization). Each event is written
to a durable outbox in the transaction of the change it announces, then sent by the
dispatcher, retried with backoff, and every attempt is recorded for compliance
(``vrmvault webhooks attempts``).

The package, one module per seam:

- :mod:`.endpoints`: the registry of each brand's endpoints and the rules an endpoint URL and
  its host's addresses must meet.
- :mod:`.signing`: the vault's Ed25519 webhook key, the Standard Webhooks ``v1a`` signature and
  the check a brand's receiver makes.
- :mod:`.outbox`: what is queued for whom, and every read and write of the outbox and
  attempt tables.
- :mod:`.delivery`: sending to the checked address, the retry schedule, dead-lettering.

Invariants, across the modules:
- Payloads are pseudonymous: the brand's own pairwise id of the member
  (:class:`~brand_gateway.pseudonyms.PairwisePseudonyms`), grant ids, a purpose code and a time.
  Never a member id, an e-mail address or a profile value.
- An event id is per brand: two brands told of the same erasure get unrelated ids, so they can
  join on neither the subject nor the event.
- Every live endpoint of the brand's clients is told, a disabled client's too: the brand still
  holds the copies Art. 19 is about.
- Logs name outbox and endpoint ids and error classes; never payloads or error messages.
"""
