"""The brand API under ``/api/v1``: one blueprint module per resource, their schemas, and the
bearer-token check and payload handling they share.

- :mod:`.member`: a member's shared data (``/member``, ``/member/profile``, ``/member/feedback``)
- :mod:`.receipts`: the consent receipts of the member's grants to the brand
- :mod:`.webhooks`: the brand's webhook endpoints
- :mod:`.agreements`: IEEE 7012 agreements the brand answers
- :mod:`.insights`: differentially private insights (:mod:`.insight_schemas`: their schemas)
- :mod:`.openapi`: the OpenAPI 3.1 document, generated from :mod:`.schemas`
- :mod:`.bearer`: RFC 6750 bearer tokens, scopes; :mod:`.payloads`: queries, bodies, JSON out
"""

PREFIX = "/api/v1"
