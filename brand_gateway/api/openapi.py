"""``GET /api/v1/openapi.json``: the brand API's OpenAPI 3.1 document.

Generated from :mod:`brand_gateway.api.schemas` (never written by hand) with the configured
public URL as its server and OAuth URLs, built once per URL set: it depends on nothing else.
"""

from __future__ import annotations

import json
from functools import lru_cache

from flask import Blueprint, Response, url_for
from werkzeug.routing import BuildError

from ..oauth import issuer, public_url
from . import PREFIX
from .payloads import load_query
from .schemas import OpenApiQuery, openapi_document

bp = Blueprint("api_openapi", __name__, url_prefix=PREFIX)

_OPENAPI_QUERY = OpenApiQuery()


@bp.get("/openapi.json")
def openapi() -> Response:
    load_query(_OPENAPI_QUERY)
    base = issuer()
    try:
        authorization_url = public_url(url_for("authorize.authorize"))
    except BuildError:      # the authorization endpoint is not registered in this app
        authorization_url = base + "/oauth/authorize"
    body = _openapi_json(base + PREFIX, authorization_url, public_url(url_for("oauth.token")))
    return Response(body, mimetype="application/json")


@lru_cache(maxsize=8)
def _openapi_json(server: str, authorization_url: str, token_url: str) -> str:
    # Ending with a newline, as every JSON answer of the API does.
    return json.dumps(openapi_document(server=server, authorization_url=authorization_url,
                                       token_url=token_url)) + "\n"
