"""Public, machine-readable statements: the receipt-signing keys and the GPC support resource.

Also where Global Privacy Control is read. Per the GPC specification only the value ``1``
counts (``0``, `` 1`` or ``true`` do not); when several ``Sec-GPC`` headers arrive (joined by
the server with commas), the signal counts if any one of them is exactly ``1``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, request

from brand_gateway.webhooks import webhook_public_jwk
from consent.receipts import DEFAULT_CONTROLLER, ReceiptSigner

from .sessions import current_member_id
from .vaults import get_consent

bp = Blueprint("wellknown", __name__, url_prefix="/.well-known")

GPC_LAST_UPDATE = "2026-11-24"


@bp.get("/jwks.json")
def jwks() -> Response:
    # Public keys need neither the stores nor the ledger: derive them from the master key.
    # The receipt key signs consent receipts and agreement records; the webhook key signs
    # webhook deliveries (Standard Webhooks v1a); each has its own kid.
    master = current_app.extensions["vrmvault"].master()
    document = ReceiptSigner(master, controller=DEFAULT_CONTROLLER).jwks()
    document["keys"] = [*document["keys"], webhook_public_jwk(master)]
    response = Response(json.dumps(document), mimetype="application/jwk-set+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/gpc.json")
def gpc() -> Response:
    # https://privacycg.github.io/gpc-spec/ section on the GPC support resource.
    response = Response(json.dumps({"gpc": True, "lastUpdate": GPC_LAST_UPDATE}),
                        mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def gpc_signal(raw: str | None) -> bool:
    """True when the (possibly comma-joined) Sec-GPC value holds an element exactly "1"."""
    if raw is None:
        return False
    parts = raw.split(",")
    # Elements after the first may carry the one space a server puts after the joining comma.
    return parts[0] == "1" or any(p == "1" or p == " 1" for p in parts[1:])


def record_gpc() -> None:
    """A signed-in member's browser sends GPC: save it as their opt-out of sale/sharing."""
    if request.path.startswith("/static/"):
        return
    member_id = current_member_id()
    if member_id is None or not gpc_signal(request.environ.get("HTTP_SEC_GPC")):
        return
    if get_consent().terms.record_gpc(member_id):
        current_app.logger.info("GPC opt-out recorded")


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    app.before_request(record_gpc)
