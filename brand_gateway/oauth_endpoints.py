"""The brand gateway's OAuth 2.0 endpoints (DESIGN.md sec. 4), served by Authlib.

Machine endpoints for brands, not pages: no session, no CSRF token (the ``oauth`` blueprint is
not in ``security.FORM_BLUEPRINTS``); clients authenticate with HTTP Basic on every request.
Errors keep Authlib's RFC 6749 sec. 5.2 format, not problem+json (STYLE point 10), and every
answer carries ``Cache-Control: no-store`` (RFC 6749 sec. 5.1).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, url_for

from brand_gateway.authorizations import AuthorizationStore, Family, FamilyEnd
from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.oauth import (
    OAuthServices,
    authorization,
    issuer,
    public_url,
    server_metadata,
)
from brand_gateway.observers import family_end_hook
from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.tokens import TokenStore

from .vaults import get_consent, get_vault

bp = Blueprint("oauth", __name__)
API_PATH = "api/v1"


def gateway_services() -> OAuthServices:
    """The request's client registry and token store, over the request's vault."""
    vault = get_vault()
    clock = current_app.extensions["vrmvault"].clock
    pairwise = PairwisePseudonyms.from_master(database=vault.data, master=vault.master)
    return OAuthServices(
        clients=ClientRegistry(database=vault.data, clock=clock,
                               hasher=ClientSecretHasher.from_master(vault.master)),
        tokens=TokenStore(database=vault.data, clock=clock),
        authorizations=AuthorizationStore(database=vault.data, clock=clock,
                                          on_end=_authorization_ended),
        subject=pairwise.pairwise_id,
        api_base=public_url("/" + API_PATH),
    )


def _authorization_ended(family: Family, reason: FamilyEnd, now: int) -> None:
    """A replayed code or refresh token, or the brand's own revocation, ended an authorization:
    record it on its grants (receipts, ledger, webhooks). Consent services are opened only
    here, at the ending, never for an ordinary token request."""
    family_end_hook(get_consent().grants, get_vault().data)(family, reason, now)


@bp.post("/oauth/token")
def token() -> Response:
    return authorization.create_token_response()


@bp.post("/oauth/revoke")
def revoke() -> Response:
    return authorization.create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
def introspect() -> Response:
    return authorization.create_endpoint_response("introspection")


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    # RFC 8414 sec. 2: the issuer is the configured public URL (VRMVAULT_PUBLIC_URL), never
    # the request's Host, without a trailing slash, query or fragment.
    document = server_metadata(
        issuer(),
        authorization_endpoint=public_url(url_for("authorize.authorize")),
        token_endpoint=public_url(url_for("oauth.token")),
        revocation_endpoint=public_url(url_for("oauth.revoke")),
        introspection_endpoint=public_url(url_for("oauth.introspect")),
        jwks_uri=public_url(url_for("wellknown.jwks")),
    )
    response = Response(json.dumps(document), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
