"""The authorization server's endpoints (DESIGN.md sec. 4), served by Authlib, and what it
publishes about itself.

- ``POST /oauth/token``, ``/oauth/revoke`` (RFC 7009), ``/oauth/introspect`` (RFC 7662):
  machine endpoints for brands, not pages: no session, no CSRF token (the ``oauth`` blueprint
  is not in ``security.FORM_BLUEPRINTS``); clients authenticate with HTTP Basic on every
  request, and each request a client authenticates counts against its rate limit, the one
  it has at the brand API (429 ``slow_down`` with ``Retry-After`` past it). Errors keep
  Authlib's RFC 6749 sec. 5.2 format, not problem+json (STYLE point 10), and every answer
  carries ``Cache-Control: no-store`` (RFC 6749 sec. 5.1); a body over the app's limit too
  (``invalid_request``, with the HTTP status 413). The parameters come in the body, in the
  ``application/x-www-form-urlencoded`` format only (``invalid_request`` for any other, or for
  any in the URL's query).
- ``GET /.well-known/oauth-authorization-server``: the RFC 8414 metadata, with the configured
  public URL as issuer (never the request's Host).
- ``GET /.well-known/jwks.json``: the public keys that verify what the vault signs for brands
  and members: consent receipts and agreement records (the receipt key) and webhook deliveries
  (the webhook key, Standard Webhooks v1a), each with its own kid. Derived from the master key:
  no store is opened.

The request's stores come from :mod:`brand_gateway.request_stores`.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Blueprint, Response, json, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from consent.receipts import DEFAULT_CONTROLLER, ReceiptSigner

from .api.bearer import request_limiter
from .authorizations import Family, FamilyEnd
from .clients import ClientSecretHasher
from .oauth import OAuthServices, authorization, issuer, public_url, server_metadata
from .observers import family_end_hook
from .request_stores import request_stores
from .storage import authorization_store, client_registry, pairwise_pseudonyms, token_store
from .webhooks.signing import webhook_public_jwk

bp = Blueprint("oauth", __name__)
API_PATH = "api/v1"


def gateway_services() -> OAuthServices:
    """The request's client registry and token store, over the request's vault."""
    stores = request_stores()
    vault, clock = stores.vault(), stores.clock
    pairwise = pairwise_pseudonyms(database=vault.data, master=vault.master)
    return OAuthServices(
        clients=client_registry(database=vault.data, clock=clock,
                                hasher=ClientSecretHasher.from_master(vault.master)),
        tokens=token_store(database=vault.data, clock=clock),
        authorizations=authorization_store(database=vault.data, clock=clock,
                                           on_end=_authorization_ended),
        subject=pairwise.pairwise_id,
        api_base=public_url("/" + API_PATH),
        count_request=_count_request,
    )


def _count_request(client_id: str) -> None:
    request_limiter().hit(client_id)


def _authorization_ended(family: Family, reason: FamilyEnd, now: int) -> None:
    """A replayed code or refresh token, or the brand's own revocation, ended an authorization:
    record it on its grants (receipts, ledger, webhooks). Consent services are opened only
    here, at the ending, never for an ordinary token request."""
    stores = request_stores()
    family_end_hook(stores.consent().grants, stores.vault().data)(family, reason, now)


FORM = "application/x-www-form-urlencoded"


def _oauth_error(oauth_error: InvalidRequestError) -> Response:
    return Response(json.dumps(dict(oauth_error.get_body())), status=oauth_error.status_code,
                    headers=dict(oauth_error.get_headers()))


def _not_a_form() -> Response | None:
    """The token, revocation and introspection endpoints take their parameters in the
    ``application/x-www-form-urlencoded`` format, in the request body (RFC 6749 sec. 3.2 and
    4.1.3, RFC 7009 sec. 2.1, RFC 7662 sec. 2.1): a body in another (multipart, JSON) or in none
    is refused with ``invalid_request``, rather than read as werkzeug reads a multipart form,
    and so is any parameter in the URL's query, which Authlib would read with the body's: a
    code, refresh token or verifier there is in every log and proxy the URL passes (RFC 6750
    sec. 2.3 gives the same reason for access tokens). A request with no body at all is left
    to say which parameter it lacks."""
    if request.args:
        return _oauth_error(InvalidRequestError(
            f"Send the parameters in the body as {FORM}, none in the URL (RFC 6749 sec. 3.2)."))
    if request.mimetype == FORM or not (request.mimetype or request.content_length):
        return None
    return _oauth_error(InvalidRequestError(
        f"Send the parameters in the body as {FORM} (RFC 6749 sec. 3.2)."))


@bp.errorhandler(RequestEntityTooLarge)
def body_too_large(error: RequestEntityTooLarge) -> Response:
    """A body over the app's limit, in the RFC 6749 sec. 5.2 form of every answer here (with
    the HTTP status that says what went wrong)."""
    limit = request.max_content_length
    return _oauth_error(InvalidRequestError(
        f"The request body is larger than {limit} bytes.", status_code=413))


@bp.post("/oauth/token")
def token() -> Response:
    return _not_a_form() or authorization.create_token_response()


@bp.post("/oauth/revoke")
def revoke() -> Response:
    return _not_a_form() or authorization.create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
def introspect() -> Response:
    return _not_a_form() or authorization.create_endpoint_response("introspection")


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
        jwks_uri=public_url(url_for("oauth.jwks")),
    )
    response = Response(json.dumps(document), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    master = request_stores().master()
    document = ReceiptSigner(master, controller=DEFAULT_CONTROLLER).jwks()
    document["keys"] = [*document["keys"], webhook_public_jwk(master)]
    response = Response(json.dumps(document), mimetype="application/jwk-set+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
