"""``GET /api/v1/member/receipts``: the signed consent receipts of a member's grants to the brand.

A member-delegated token; the brand so holds the same record of consent as the member and can
verify it against ``/.well-known/jwks.json``. No member data is sent, so no ledger entry is
made. The member is named by the brand's pairwise ``subject`` only.

Only the receipts of grants of individual use are sent, whatever their state. A grant of
aggregate use (a community member counted in totals only) gives the brand nothing of the member,
and its receipt, naming the brand's pairwise subject and the community join that made it, would
tell the brand who is in its community: the README's promise that a brand never learns that. The
grant's mode never changes (narrowing only removes fields or brings the end nearer), so a
withdrawn, replaced or expired aggregate grant stays out too; webhooks follow the same rule
(brand_gateway/webhooks/outbox.py).

Each receipt comes with its entry in the public log (consent/receipt_position.py): the index
the signed receipt names and the entry's exact body, whose actor is that same pairwise subject,
so the brand can prove from the files under ``/log/`` that the receipt is in the log.
"""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from consent.model import Mode
from consent.receipt_position import receipt_entry

from ..member_data import delegated_member
from ..oauth import public_url
from ..request_stores import request_stores
from ..storage import pairwise_pseudonyms
from . import PREFIX
from .bearer import authenticate
from .payloads import iso, json_response, load_query
from .schemas import EmptyQuery

bp = Blueprint("api_receipts", __name__, url_prefix=PREFIX)

_EMPTY_QUERY = EmptyQuery()


@bp.get("/member/receipts")
def receipts() -> Response:
    caller = authenticate()
    load_query(_EMPTY_QUERY)
    member_id = delegated_member(caller.token)
    brand_id = caller.client.brand_id
    vault = caller.vault
    subject = pairwise_pseudonyms(database=vault.data, master=vault.master
                                  ).pairwise_id(member_id, brand_id)
    consent = request_stores().consent()
    individual = {g.id for g in consent.grants.for_member(member_id)
                  if g.brand_id == brand_id and g.mode is Mode.INDIVIDUAL}
    items = [{"grant_id": r.grant_id, "event": r.event, "issued_at": iso(r.created_at),
              "receipt": r.token, "ledger": receipt_entry(consent.ledger, r.token)}
             for r in consent.grants.receipts(member_id)
             if r.grant_id in individual]
    return json_response({"subject": subject, "receipts": items,
                          "jwks_uri": public_url(url_for("oauth.jwks")),
                          "log_uri": public_url("/log/")})
