"""The OAuth 2.0 authorization server of the brand gateway, on Authlib (DESIGN.md sec. 4).

``authorization`` is created unbound here and bound to an app by :func:`init_oauth` (STYLE
point 2). What it serves, for now:

- Token endpoint, client credentials grant only (RFC 6749 sec. 4.4). No implicit and no
  password grant (RFC 9700 sec. 2.1.2, 2.4); the authorization code flow comes later.
- Client authentication by ``client_secret_basic`` only (RFC 6749 sec. 2.3.1), through
  :meth:`ClientRegistry.authenticate`, so an unknown client costs the same work as a wrong
  secret, and a disabled client is refused (``invalid_client``, 401, like a wrong secret).
- Revocation (RFC 7009) and introspection (RFC 7662), both client-authenticated. A client only
  ever acts on, or learns about, its own tokens: another client's token is revoked by nobody
  but its owner (the answer is still 200, as for an unknown token, RFC 7009 sec. 2.2) and
  introspects as ``{"active": false}`` (RFC 7662 sec. 2.2).
- Opaque bearer tokens (:mod:`brand_gateway.tokens`): 256 random bits, stored as SHA-256, valid
  for 10 minutes, no refresh token.

Errors keep the RFC 6749 sec. 5.2 format Authlib produces, with ``Cache-Control: no-store``.

Hooks read the request's services through a provider given to :func:`init_oauth`, kept per app
in ``app.extensions``, so this module needs neither ``flask.g`` nor the web package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError, TokenMixin
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, current_app

from vault.errors import NotFoundError

from .clients import ClientRegistry, OAuthClient
from .errors import ClientAuthenticationError
from .tokens import ACCESS_TOKEN_LIFETIME, AccessToken, TokenStore, new_access_token

#: Scopes of brand-level work (client credentials), with what each allows.
SCOPES: dict[str, str] = {
    "intents:read": "Read members' published purchase intents in the brand's categories.",
    "offers:write": "Post offers in answer to intents.",
    "insights:read": "Query aggregate, anonymised insights about the brand's categories.",
}
AUTH_METHOD = "client_secret_basic"
#: Grants this server runs today; a client must also have them registered.
ENABLED_GRANT_TYPES = ("client_credentials",)
_EXTENSION = "brand_gateway.oauth"


@dataclass(frozen=True)
class OAuthServices:
    """What the hooks need for one request."""

    clients: ClientRegistry
    tokens: TokenStore


ServicesProvider = Callable[[], OAuthServices]


class GatewayClient(ClientMixin):  # type: ignore[misc]
    """Authlib's view of one of our :class:`OAuthClient` records."""

    def __init__(self, client: OAuthClient) -> None:
        self.record = client
        self.client_id = client.client_id

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.record.redirect_uris[0] if self.record.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        # RFC 6749 sec. 3.3: no default scope; a request must name what it needs.
        if not scope:
            return None
        return " ".join(s for s in dict.fromkeys(scope_to_list(scope)) if s in SCOPES) or None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return self.record.check_redirect_uri(redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        # Secrets are checked only by ClientRegistry.authenticate (see _authenticate_basic).
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == AUTH_METHOD == self.record.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ENABLED_GRANT_TYPES and grant_type in self.record.grant_types


class GatewayToken(TokenMixin):  # type: ignore[misc]
    """Authlib's view of an :class:`AccessToken`, judged by the store's clock."""

    def __init__(self, record: AccessToken, now: float) -> None:
        self.record = record
        self._now = now

    def check_client(self, client: GatewayClient) -> bool:
        return client.get_client_id() == self.record.client_id

    def get_scope(self) -> str:
        return self.record.scope

    def get_expires_in(self) -> int:
        return self.record.expires_at - self.record.issued_at

    def is_expired(self) -> bool:
        return self.record.is_expired(self._now)

    def is_revoked(self) -> bool:
        return self.record.revoked

    def get_user(self) -> None:
        return None

    def get_client(self) -> GatewayClient:
        """The client the token was issued to (looked up in the registry)."""
        return GatewayClient(services().clients.get(self.record.client_id))


def services() -> OAuthServices:
    provider: ServicesProvider = current_app.extensions[_EXTENSION]
    return provider()


def _find_token(token_string: str) -> GatewayToken | None:
    store = services().tokens
    record = store.find(token_string)
    return None if record is None else GatewayToken(record, store.now())


class GatewayRevocationEndpoint(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = [AUTH_METHOD]

    def authenticate_token(self, request: Any, client: GatewayClient) -> GatewayToken | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        # Another client's token is treated as unknown: nothing happens and the answer is 200
        # (RFC 7009 sec. 2.2), so a client cannot probe which tokens exist.
        if token is None or not token.check_client(client):
            return None
        return token

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        # Only access tokens exist; a hint is a hint (RFC 7009 sec. 2.1), so search anyway.
        return _find_token(token_string)

    def revoke_token(self, token: GatewayToken, request: Any) -> None:
        services().tokens.revoke(token.record)


class GatewayIntrospectionEndpoint(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = [AUTH_METHOD]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return _find_token(token_string)

    def check_permission(self, token: GatewayToken, client: GatewayClient,
                         request: Any) -> bool:
        # A client learns only about its own tokens (RFC 7662 sec. 2.2 "not allowed to
        # introspect this particular token" gives active: false).
        return token.check_client(client)

    def introspect_token(self, token: GatewayToken) -> dict[str, Any]:
        record = token.record
        return {
            "active": True,
            "client_id": record.client_id,
            "sub": record.client_id,        # client credentials: the client is the subject
            "scope": record.scope,
            "token_type": "Bearer",
            "iat": record.issued_at,
            "exp": record.expires_at,
        }


def _authenticate_basic(query_client: Any, request: Any) -> GatewayClient | None:
    """``client_secret_basic`` through our registry, in place of Authlib's own."""
    client_id, secret = extract_basic_authorization(request.headers)
    if not client_id or not secret:
        return None
    try:
        return GatewayClient(services().clients.authenticate(client_id, secret))
    except ClientAuthenticationError:   # unknown, wrong secret or disabled: all invalid_client
        return None


def _query_client(client_id: str) -> GatewayClient | None:
    try:
        client = services().clients.get(client_id)
    except NotFoundError:
        return None
    return GatewayClient(client) if client.active else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    services().tokens.save(
        token["access_token"], client_id=request.client.get_client_id(),
        grant_type=request.payload.grant_type, scope=token.get("scope", ""),
        expires_in=int(token["expires_in"]),
    )


def _generate_access_token(**_: Any) -> str:
    return new_access_token()


class GatewayAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask server with our grants, endpoints and token format fixed in code."""

    def __init__(self) -> None:
        super().__init__(query_client=_query_client, save_token=_save_token)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(GatewayRevocationEndpoint)
        self.register_endpoint(GatewayIntrospectionEndpoint)
        self.register_client_auth_method(AUTH_METHOD, _authenticate_basic)

    def load_config(self, config: Any) -> None:
        # Not from app config: the token format and scopes are part of the design.
        self.register_token_generator("default", BearerTokenGenerator(
            access_token_generator=_generate_access_token,
            expires_generator=ACCESS_TOKEN_LIFETIME,
        ))
        self.scopes_supported = list(SCOPES)

    def validate_requested_scope(self, scope: str | None) -> None:
        if not scope:
            raise InvalidScopeError(description="Ask for the scopes you need: "
                                                + " ".join(SCOPES))
        super().validate_requested_scope(scope)


authorization = GatewayAuthorizationServer()


def init_oauth(app: Flask, *, services: ServicesProvider) -> None:
    """Bind :data:`authorization` to ``app``; ``services`` gives the request's stores."""
    app.extensions[_EXTENSION] = services
    authorization.init_app(app)


def server_metadata(issuer: str, *, token_endpoint: str, revocation_endpoint: str,
                    introspection_endpoint: str) -> dict[str, Any]:
    """The RFC 8414 sec. 2 document for what this server does today."""
    return {
        "issuer": issuer,
        "token_endpoint": token_endpoint,
        "token_endpoint_auth_methods_supported": [AUTH_METHOD],
        "grant_types_supported": list(ENABLED_GRANT_TYPES),
        # REQUIRED by RFC 8414 sec. 2; empty until the authorization endpoint exists.
        "response_types_supported": [],
        "scopes_supported": list(SCOPES),
        "revocation_endpoint": revocation_endpoint,
        "revocation_endpoint_auth_methods_supported": [AUTH_METHOD],
        "introspection_endpoint": introspection_endpoint,
        "introspection_endpoint_auth_methods_supported": [AUTH_METHOD],
        "code_challenge_methods_supported": ["S256"],
    }
