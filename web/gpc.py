"""Global Privacy Control: the GPC support resource (``/.well-known/gpc.json``), and where the
signal is read. (The authorization server's own statements, RFC 8414 metadata and the key set,
are :mod:`brand_gateway.oauth_endpoints`'.) The GPC specification defines one header field whose
value is exactly ``1``; any other value is no signal. What that means on the wire:

- HTTP drops the spaces and tabs around a field value before the app sees it (RFC 9110 sec. 5.5;
  ``web/limits.py`` trims what the server leaves), so ``Sec-GPC:  1`` *is* the value ``1`` and
  counts; ``0``, ``true``, ``01`` or ``1.0`` do not.
- A request with two ``Sec-GPC`` fields reaches the app as one value, joined by the server with
  a comma (uWSGI: ``1, 0``, werkzeug: ``1,0``; RFC 9110 sec. 5.3). ``Sec-GPC`` is not a list field,
  so that value is not ``1`` and there is no signal, whatever the fields held (``1,1`` too):
  a client that sends a singleton field twice has sent an invalid one (RFC 9110 sec. 5.5).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, request

from .requests import request_service
from .sessions import current_member_id
from .vaults import get_consent

bp = Blueprint("gpc", __name__, url_prefix="/.well-known")

GPC_LAST_UPDATE = "2026-11-24"


@bp.get("/gpc.json")
def gpc() -> Response:
    # https://privacycg.github.io/gpc-spec/ section on the GPC support resource.
    response = Response(json.dumps({"gpc": True, "lastUpdate": GPC_LAST_UPDATE}),
                        mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def gpc_signal(raw: str | None) -> bool:
    """True when the Sec-GPC value the server passed on is exactly "1" (see the module
    docstring: several fields arrive comma-joined, and that is not "1")."""
    return raw == "1"


def record_gpc() -> None:
    """A signed-in member's browser sends GPC: save it as their opt-out of sale/sharing."""
    # The header first: most requests (every brand API call) carry none, and stop here.
    if not gpc_signal(request.environ.get("HTTP_SEC_GPC")) or request.path.startswith("/static/"):
        return
    member_id = current_member_id()
    if member_id is None:
        return
    if get_consent().terms.record_gpc(member_id):
        # The signal is an opt-out request (CCPA regulations sec. 7025, 7026), recorded once
        # (record_gpc is True only when it changed the terms) and forwarded to the brands,
        # with no verification of identity asked.
        service = request_service()
        filed = service.file(member_id, kind="opt_out_sale_sharing", source="gpc")
        service.fulfilled(filed.id, "opt_out")
        current_app.logger.info("GPC opt-out recorded")


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    app.before_request(record_gpc)
