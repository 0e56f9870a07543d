"""The OAuth 2.0 authorization server of the brand gateway, on Authlib (DESIGN.md sec. 4).

``authorization`` is created unbound here and bound to an app by :func:`init_oauth` (STYLE
point 2). Hardened per RFC 9700 and OWASP ASVS 5.0 V10:

- Grants: authorization code (member data), refresh token, client credentials (brand-level
  work). No implicit and no password grant (RFC 9700 sec. 2.1.2, 2.4): ``response_type`` is
  ``code`` only.
- PKCE with ``S256`` is required of every client, confidential ones included (RFC 9700
  sec. 2.1.1); ``plain`` is refused, and so is a challenge that is no SHA-256 in base64url (43
  characters, RFC 7636 sec. 4.2); a missing verifier at the token endpoint is an error.
  Authlib's defaults allow ``plain`` and let confidential clients skip PKCE: overridden here.
- ``redirect_uri`` is required and compared as an exact string with a registered one (RFC 9700
  sec. 2.1, 4.1.3). Errors before it is validated are shown to the member, never redirected.
- Authorization codes: single use, at most 5 minutes, bound to client, redirect URI and PKCE
  challenge; a reused code revokes every token it issued (:mod:`brand_gateway.authorizations`).
- Every authorization response, errors included, carries ``iss`` (RFC 9207), in the redirect
  URI's query: a ``response_mode`` other than ``query`` is refused with ``invalid_request``.
- Member data is asked for with ``authorization_details`` (RFC 9396, :mod:`brand_gateway.rar`),
  not with scopes; the approved details come back in the token response (RFC 9396 sec. 7).
- Refresh tokens are bound to the member's approval (a token family), rotated on every use;
  a replayed one revokes the family; none outlives the family's absolute end.
- Token, revocation and introspection requests carry each parameter once (RFC 6749 sec. 3.2):
  a repeated one is ``invalid_request`` before any code or token is looked up. A
  ``token_type_hint`` is only a hint, whatever it says.
- Client authentication: ``client_secret_basic`` only (RFC 6749 sec. 2.3.1), through
  :meth:`ClientRegistry.authenticate`; a disabled client is ``invalid_client``.
- Revocation (RFC 7009) and introspection (RFC 7662) of access and refresh tokens, each client
  only ever acting on, or learning about, its own tokens. Revoking a refresh token revokes its
  family (RFC 7009 sec. 2.1), and the brand so gives up the member's consent under it
  (:mod:`consent.grants`); revoking an access token ends that token only.

Hooks read the request's services through a provider given to :func:`init_oauth`, kept per app
in ``app.extensions``, so this module needs neither ``flask.g`` nor the web package.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from base64 import urlsafe_b64encode
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError, TokenMixin
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, current_app
from werkzeug.wrappers import Response

from vault.errors import NotFoundError

from . import rar
from .api_errors import RateLimitedError
from .authorizations import (
    REFRESH_TOKEN_BYTES,
    AuthorizationCode,
    AuthorizationStore,
    Family,
    FamilyEnd,
    RefreshRefusal,
    new_secret,
)
from .clients import SCOPES, ClientRegistry, OAuthClient
from .errors import ClientAuthenticationError, TokenEndpointRateLimitedError
from .tokens import ACCESS_TOKEN_LIFETIME, AccessToken, TokenStore, new_access_token

__all__ = ["SCOPES", "authorization", "init_oauth", "server_metadata"]

AUTH_METHOD = "client_secret_basic"
#: Grants this server runs; a client must also have them registered.
ENABLED_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
RESPONSE_TYPES = ("code",)
#: How the authorization response reaches the client: in the redirect URI's query only (OAuth
#: 2.0 Multiple Response Type Encoding Practices sec. 2.1, the default of response_type=code).
RESPONSE_MODES = ("query",)
_EXTENSION = "brand_gateway.oauth"
#: The parameters a token request may carry, and those of a revocation or introspection
#: request: each at most once, in the body (RFC 6749 sec. 3.2; sec. 5.2 makes a repeated one
#: invalid_request; one in the URL's query is refused before, by the endpoints). Authlib reads
#: the first of each, so a request with two redirect URIs or code verifiers was answered on one
#: of them; others are ignored (3.2).
TOKEN_REQUEST_PARAMETERS = ("grant_type", "code", "redirect_uri", "code_verifier",
                            "refresh_token", "scope", "authorization_details", "client_id",
                            "client_secret")
TOKEN_LOOKUP_PARAMETERS = ("token", "token_type_hint")


@dataclass(frozen=True)
class OAuthServices:
    """What the hooks need for one request."""

    clients: ClientRegistry
    tokens: TokenStore
    authorizations: AuthorizationStore
    subject: Callable[[str, str], str]      # (member id, brand id) -> pairwise pseudonym
    api_base: str = ""                      # the brand API's URL, for RAR "locations"
    #: Counts one request of an authenticated client against its rate limit (the brand API's,
    #: shared with it); RateLimitedError past it.
    count_request: Callable[[str], None] = lambda client_id: None


ServicesProvider = Callable[[], OAuthServices]


@dataclass(frozen=True)
class Approval:
    """What the consent screen hands the code grant: the member and the family it made."""

    member_id: str
    family: Family


class GatewayClient(ClientMixin):  # type: ignore[misc]
    """Authlib's view of one of our :class:`OAuthClient` records."""

    def __init__(self, client: OAuthClient) -> None:
        self.record = client
        self.client_id = client.client_id

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Never guessed: a request must name its redirect URI (see MemberDataCodeGrant).
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        # RFC 6749 sec. 3.3: no default scope. The member-data flow takes no scope at all
        # (the code grant refuses one before this is asked) and gets "".
        if not scope:
            return ""
        allowed = [s for s in dict.fromkeys(scope_to_list(scope)) if s in self.record.scopes]
        return " ".join(allowed) or None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return self.record.check_redirect_uri(redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        # Secrets are checked only by ClientRegistry.authenticate (see _authenticate_basic).
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == AUTH_METHOD == self.record.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in RESPONSE_TYPES and "authorization_code" in self.record.grant_types

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


class GatewayRefreshToken(TokenMixin):  # type: ignore[misc]
    """A refresh token, by its family (whose state decides whether it is active)."""

    def __init__(self, family: Family, now: float, *, used: bool = False) -> None:
        self.family = family
        self._now = now
        self._used = used

    def check_client(self, client: GatewayClient) -> bool:
        return client.get_client_id() == self.family.client_id

    def get_scope(self) -> str:
        return ""

    def get_expires_in(self) -> int:
        return self.family.expires_at - self.family.created_at

    def is_expired(self) -> bool:
        return self._now >= self.family.expires_at

    def is_revoked(self) -> bool:
        return self._used or self.family.revoked_at is not None

    def get_user(self) -> str:
        return self.family.member_id


class _CodeRecord:
    """Authlib's view of a claimed authorization code."""

    def __init__(self, code: AuthorizationCode) -> None:
        self.record = code
        self.code_challenge = code.code_challenge
        self.code_challenge_method = code.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.record.redirect_uri

    def get_scope(self) -> str:
        return ""


def services() -> OAuthServices:
    provider: ServicesProvider = current_app.extensions[_EXTENSION]
    return provider()


# -- PKCE: S256, always -------------------------------------------------------------------------
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}", flags=re.ASCII)


def _s256_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    expected = urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, challenge)


class RequiredS256Challenge(CodeChallenge):  # type: ignore[misc]
    """RFC 7636 with ``S256`` only, required of every client (RFC 9700 sec. 2.1.1)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": _s256_matches}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with "
                                      "code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if not S256_CHALLENGE.fullmatch(data["code_challenge"]):
            # RFC 7636 sec. 4.2: BASE64URL(SHA256(verifier)), 43 characters without padding.
            # Authlib takes 43 to 128 of the verifier's characters, so a challenge no verifier
            # can meet reached the consent screen: the member granted, and the code was dead.
            raise InvalidRequestError("code_challenge must be the base64url SHA-256 of the "
                                      "code_verifier: 43 characters, no padding.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


# -- grants -------------------------------------------------------------------------------------
class MemberDataCodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    """The authorization code grant for member data, asked for with authorization_details."""

    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]
    _SINGLE = ("authorization_details", "code_challenge", "code_challenge_method",
               "response_mode")

    def validate_authorization_request(self) -> str:
        payload = self.request.payload
        if not payload.redirect_uri:
            # Not redirected: without it, the error would go to a guessed address.
            raise InvalidRequestError("Missing 'redirect_uri': name one you registered.")
        redirect_uri: str = super().validate_authorization_request()
        try:
            for name in self._SINGLE:
                if len(payload.datalist.get(name, [])) > 1:
                    raise InvalidRequestError(f"Multiple '{name}' in request.")
            # Authlib ignores response_mode: a client asking for the fragment or a form post
            # got the code in the query, where it did not look for it (or did not want it,
            # the reason for asking). An empty one counts as left out (RFC 6749 sec. 3.1).
            if payload.data.get("response_mode") and \
                    payload.data["response_mode"] not in RESPONSE_MODES:
                raise InvalidRequestError("Unsupported response_mode. " + RESPONSE_MODE_HELP)
            self.request.authorization_details = rar.parse(
                payload.data.get("authorization_details"),
                locations=[services().api_base] if services().api_base else [])
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def validate_authorization_redirect_uri(self, request: Any, client: GatewayClient) -> str:
        # Not Authlib's: it echoes the URI into error_description, where RFC 6749 sec. 4.1.2.1
        # allows only some ASCII, and a quote or a non-ASCII character then became a 500.
        redirect_uri: str = request.payload.redirect_uri
        if not client.check_redirect_uri(redirect_uri):
            raise InvalidRequestError("This 'redirect_uri' is not registered for the client; "
                                      "it must match a registered one exactly.")
        return redirect_uri

    def validate_requested_scope(self) -> None:
        if self.request.payload.scope:
            raise InvalidScopeError(description="Ask for member data with "
                                                "authorization_details, not scope.")

    def save_authorization_code(self, code: str, request: Any) -> None:
        approval: Approval = request.user
        data = request.payload.data
        services().authorizations.save_code(
            code, family_id=approval.family.id, client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri, code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"])

    def query_authorization_code(self, code: str, client: GatewayClient) -> _CodeRecord | None:
        claimed = services().authorizations.claim_code(code, client.get_client_id())
        return None if claimed is None else _CodeRecord(claimed)

    def delete_authorization_code(self, authorization_code: _CodeRecord) -> None:
        """Nothing to do: :meth:`query_authorization_code` claimed it (single use)."""

    def authenticate_user(self, authorization_code: _CodeRecord) -> str:
        return authorization_code.record.family.member_id

    def generate_token(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        token: dict[str, Any] = super().generate_token(*args, **kwargs)
        family = self.request.authorization_code.record.family
        token["authorization_details"] = list(family.authorization_details)
        return _within_family(token, family)


class MemberDataRefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    """Refresh with rotation and replay detection (RFC 9700 sec. 4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> GatewayRefreshToken | None:
        if self.request.payload.scope:
            # Refused before the token is claimed: a request refused for its scope must not use
            # the token up, or the client's corrected retry would look like a replay and end
            # the family. A member-data token has no scope to narrow (RFC 6749 sec. 6).
            raise InvalidScopeError(description="Member-data tokens carry "
                                                "authorization_details, not scopes.")
        store = services().authorizations
        claimed = store.claim_refresh(refresh_token, self.request.client.get_client_id())
        if isinstance(claimed, RefreshRefusal):
            # Authlib's own refusal has no error_description (RFC 6749 sec. 5.2).
            raise InvalidGrantError(REFRESH_REFUSED_HELP[claimed])
        return GatewayRefreshToken(claimed, store.now())

    def authenticate_user(self, refresh_token: GatewayRefreshToken) -> str:
        return refresh_token.family.member_id

    def revoke_old_credential(self, refresh_token: GatewayRefreshToken) -> None:
        """Nothing to do: :meth:`authenticate_refresh_token` claimed it (rotation)."""

    def generate_token(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        token: dict[str, Any] = super().generate_token(*args, **kwargs)
        family = self.request.refresh_token.family
        token["authorization_details"] = list(family.authorization_details)
        return _within_family(token, family)


def _within_family(token: dict[str, Any], family: Family) -> dict[str, Any]:
    """No access token outlives its family: ``expires_in`` (RFC 6749 sec. 5.1), and so the
    stored expiry and the introspected ``exp``, stop at the family's end."""
    left = family.expires_at - services().authorizations.now()
    token["expires_in"] = max(1, min(int(token["expires_in"]), left))
    return token


class BrandCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]

    def validate_requested_scope(self) -> None:
        scope = self.request.payload.scope
        if not scope:
            raise InvalidScopeError(description="Ask for the scopes you need: "
                                                + " ".join(SCOPES))
        self.server.validate_requested_scope(scope)
        # Each client may only ask for the scopes it was registered with.
        if not set(scope_to_list(scope)) <= set(self.request.client.record.scopes):
            raise InvalidScopeError(description="This client is not registered for all of "
                                                "these scopes.")


def refuse_repeated(request: Any, names: Sequence[str]) -> None:
    """``invalid_request`` if ``request`` carries any of ``names`` more than once."""
    for name in names:
        if len(request.payload.datalist.get(name, [])) > 1:
            raise InvalidRequestError(f"Multiple '{name}' in request.")


# -- token lookups for revocation and introspection ---------------------------------------------
def _find_token(token_string: str, hint: str | None = None
                ) -> GatewayToken | GatewayRefreshToken | None:
    found = services()
    now = found.tokens.now()
    # A hint is a hint (RFC 7009 sec. 2.1): search both kinds, the hinted one first.
    order = ("refresh_token", "access_token") if hint == "refresh_token" else \
        ("access_token", "refresh_token")
    for kind in order:
        if kind == "access_token":
            record = found.tokens.find(token_string)
            if record is not None:
                return GatewayToken(record, now)
        else:
            family = found.authorizations.find_refresh_family(token_string)
            if family is not None:
                used = found.authorizations.refresh_token_used(token_string)
                return GatewayRefreshToken(family, now, used=used)
    return None


class TokenLookupParameters:
    """``check_params`` of the revocation and introspection endpoints, in place of Authlib's,
    which answers a ``token_type_hint`` it does not know 401 ``unsupported_token_type``: a 401
    is for ``invalid_client`` only (RFC 6749 sec. 5.2), and a hint is one the server may ignore
    (RFC 7009 sec. 2.1, RFC 7662 sec. 2.1); :func:`_find_token` looks for both kinds anyway.
    ``unsupported_token_type`` is for a token of a kind the server cannot revoke, and this one
    revokes both."""

    def check_params(self, request: Any, client: GatewayClient) -> None:
        refuse_repeated(request, TOKEN_LOOKUP_PARAMETERS)
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token' in request.")


class GatewayRevocationEndpoint(TokenLookupParameters,
                                RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = [AUTH_METHOD]

    def authenticate_token(self, request: Any, client: GatewayClient) -> Any:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        # Another client's token is treated as unknown: nothing happens and the answer is 200
        # (RFC 7009 sec. 2.2), so a client cannot probe which tokens exist.
        if token is None or not token.check_client(client):
            return None
        return token

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return _find_token(token_string, token_type_hint)

    def revoke_token(self, token: Any, request: Any) -> None:
        if isinstance(token, GatewayRefreshToken):
            # RFC 7009 sec. 2.1: revoking a refresh token ends the grant's access tokens too.
            services().authorizations.revoke_family(token.family.id,
                                                    FamilyEnd.REVOKED_BY_CLIENT)
        else:
            services().tokens.revoke(token.record)


class GatewayIntrospectionEndpoint(TokenLookupParameters,
                                   IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = [AUTH_METHOD]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return _find_token(token_string, token_type_hint)

    def check_permission(self, token: Any, client: GatewayClient, request: Any) -> bool:
        # A client learns only about its own tokens (RFC 7662 sec. 2.2 "not allowed to
        # introspect this particular token" gives active: false).
        return bool(token.check_client(client))

    def introspect_token(self, token: Any) -> dict[str, Any]:
        found = services()
        if isinstance(token, GatewayRefreshToken):
            family = token.family
            brand_id = found.clients.get(family.client_id).brand_id
            return {"active": True, "client_id": family.client_id, "token_type": "refresh_token",
                    "sub": found.subject(family.member_id, brand_id),
                    "iat": family.created_at, "exp": family.expires_at,
                    "authorization_details": list(family.authorization_details)}
        record = token.record
        answer: dict[str, Any] = {
            "active": True,
            "client_id": record.client_id,
            "scope": record.scope,
            "token_type": "Bearer",
            "iat": record.issued_at,
            "exp": record.expires_at,
        }
        if record.delegated and record.member_id is not None:
            brand_id = found.clients.get(record.client_id).brand_id
            answer["sub"] = found.subject(record.member_id, brand_id)
            answer["authorization_details"] = list(record.authorization_details)
        else:
            answer["sub"] = record.client_id    # client credentials: the client is the subject
        return answer


# -- server -------------------------------------------------------------------------------------
def _authenticate_basic(query_client: Any, request: Any) -> GatewayClient | None:
    """``client_secret_basic`` through our registry, in place of Authlib's own."""
    try:
        client_id, secret = extract_basic_authorization(request.headers)
    except UnicodeDecodeError:
        # Credentials that are not UTF-8 once base64-decoded (RFC 6749 sec. 2.3.1, RFC 7617
        # sec. 2.1) name no client: Authlib decodes them unguarded, and they were a 500.
        return None
    if not client_id or not secret:
        return None
    try:
        return GatewayClient(services().clients.authenticate(client_id, secret))
    except ClientAuthenticationError:   # unknown, wrong secret or disabled: all invalid_client
        return None


def _query_client(client_id: str) -> GatewayClient | None:
    if not isinstance(client_id, str) or len(client_id) > 200:
        return None
    try:
        client = services().clients.get(client_id)
    except NotFoundError:
        return None
    return GatewayClient(client) if client.active else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    found = services()
    family_id: str | None = None
    if getattr(request, "authorization_code", None) is not None:
        family_id = request.authorization_code.record.family.id
    elif getattr(request, "refresh_token", None) is not None:
        family_id = request.refresh_token.family.id
    found.tokens.save(
        token["access_token"], client_id=request.client.get_client_id(),
        grant_type=request.payload.grant_type, scope=token.get("scope", ""),
        expires_in=int(token["expires_in"]), family_id=family_id,
    )
    if family_id is not None and token.get("refresh_token"):
        found.authorizations.save_refresh_token(token["refresh_token"], family_id)


def _generate_access_token(**_: Any) -> str:
    return new_access_token()


def _generate_refresh_token(**_: Any) -> str:
    return new_secret(REFRESH_TOKEN_BYTES)


def _expires_in(client: Any, grant_type: str) -> int:
    return ACCESS_TOKEN_LIFETIME


# What a brand is told when it asks wrongly, in place of Authlib's defaults (a Python list's
# repr, the request's own value as the description, or none). RFC 6749 sec. 5.2 allows only
# printable ASCII without " and \ in error_description.
CLIENT_AUTHENTICATION_HELP = ("The client is unknown or disabled, its secret is wrong, or it did"
                              " not authenticate with HTTP Basic (client_secret_basic).")
GRANT_TYPE_HELP = ("Use grant_type authorization_code, refresh_token or client_credentials.")
RESPONSE_TYPE_HELP = "Use response_type=code: the authorization code flow, with PKCE (S256)."
REFRESH_REFUSED_HELP = {
    RefreshRefusal.REPLAYED: (
        "This refresh token was used before, and each is good for one use: as a replay may be"
        " an attack (RFC 9700 sec. 4.14.2), every token of this authorization is now revoked."
        " Ask the member to authorize again."),
    RefreshRefusal.NOT_VALID: (
        "This refresh token is not valid: it is unknown or another client's, or the"
        " authorization it belongs to has ended. Ask the member to authorize again."),
}
RESPONSE_MODE_HELP = ("This server answers in the redirect URI's query only: send"
                      " response_mode=query, or leave it out.")


class GatewayAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask server with our grants, endpoints and token format fixed in code, and
    error descriptions a brand's developer can act on."""

    def __init__(self) -> None:
        super().__init__(query_client=_query_client, save_token=_save_token)
        self.register_grant(MemberDataCodeGrant, [RequiredS256Challenge(required=True)])
        self.register_grant(MemberDataRefreshGrant)
        self.register_grant(BrandCredentialsGrant)
        self.register_endpoint(GatewayRevocationEndpoint)
        self.register_endpoint(GatewayIntrospectionEndpoint)
        self.register_client_auth_method(AUTH_METHOD, _authenticate_basic)

    def load_config(self, config: Any) -> None:
        # Not from app config: the token format and scopes are part of the design.
        self.register_token_generator("default", BearerTokenGenerator(
            access_token_generator=_generate_access_token,
            refresh_token_generator=_generate_refresh_token,
            expires_generator=_expires_in,
        ))
        self.scopes_supported = list(SCOPES)

    def get_authorization_grant(self, request: Any) -> Any:
        response_type = request.payload.response_type or ""
        if not response_type:
            # RFC 6749 sec. 4.1.2.1: a required parameter missing is invalid_request (sec. 3.1:
            # an empty one counts as missing).
            raise InvalidRequestError("Missing response_type. " + RESPONSE_TYPE_HELP,
                                      redirect_uri=self._trusted_redirect_uri(request))
        if not invalid_error_characters(response_type):
            try:
                return super().get_authorization_grant(request)
            except UnsupportedResponseTypeError as error:
                # Authlib swaps its arguments: the response_type became the description.
                raise UnsupportedResponseTypeError(
                    "unsupported", description=RESPONSE_TYPE_HELP,
                    redirect_uri=error.redirect_uri) from None
        # Authlib's error puts the raw response_type in error_description, where RFC 6749
        # sec. 4.1.2.1 allows only some ASCII (its error class raises ValueError, a 500):
        # refuse without echoing it, redirecting only to a registered redirect URI.
        raise UnsupportedResponseTypeError("unknown", description=RESPONSE_TYPE_HELP,
                                           redirect_uri=self._trusted_redirect_uri(request))

    @staticmethod
    def _trusted_redirect_uri(request: Any) -> str | None:
        """The request's redirect URI if it is one the client registered, else ``None`` (the
        member is shown the error instead of being sent anywhere)."""
        client = _query_client(request.payload.client_id)
        requested = request.payload.redirect_uri
        return requested if client is not None and requested and \
            client.check_redirect_uri(requested) else None

    def get_token_grant(self, request: Any) -> Any:
        # Before the grant looks at a code or refresh token: a malformed request uses none up.
        refuse_repeated(request, TOKEN_REQUEST_PARAMETERS)
        if not request.payload.grant_type:
            # RFC 6749 sec. 5.2: invalid_request is "missing a required parameter";
            # unsupported_grant_type is for a grant type the server does not offer.
            raise InvalidRequestError("Missing grant_type. " + GRANT_TYPE_HELP)
        try:
            return super().get_token_grant(request)
        except UnsupportedGrantTypeError as error:
            error.description = GRANT_TYPE_HELP
            raise

    def authenticate_client(self, request: Any, methods: Any, endpoint: str = "token") -> Any:
        try:
            client = super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            # Authlib's says "The client cannot authenticate with methods: [...]", the repr
            # of a Python list; which of the reasons it was stays unsaid (RFC 6749 sec. 5.2).
            error.description = CLIENT_AUTHENTICATION_HELP
            raise
        # Counted once the client is known to be itself, so a stranger naming it cannot spend
        # its limit: every token issued is a write to the data store, and a client minting
        # hundreds a second held the store's write lock from members and brands alike.
        try:
            services().count_request(client.get_client_id())
        except RateLimitedError as limited:
            raise TokenEndpointRateLimitedError(str(limited), limited.retry_after) from None
        named = request.payload.client_id
        if named and named != client.get_client_id():
            # RFC 6749 sec. 3.2.1 lets a client name itself with client_id; Authlib went by the
            # credentials and ignored one naming another client.
            raise InvalidRequestError("The client_id in the body names another client than"
                                      " the credentials in the Authorization header.")
        return client

    def create_authorization_response(self, request: Any = None, grant_user: Any = None,
                                      grant: Any = None) -> Response:
        response: Response = super().create_authorization_response(request, grant_user, grant)
        return with_issuer(response)

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        return with_issuer(super().handle_error_response(request, error))


def issuer() -> str:
    """This server's issuer identifier (RFC 8414 sec. 2): the configured public URL
    (``VRMVAULT_PUBLIC_URL``, no trailing slash), never the request's Host header."""
    return str(current_app.config["VRMVAULT_PUBLIC_URL"])


def public_url(path: str) -> str:
    """An absolute URL on this server for ``path`` (one starting with ``/``)."""
    return issuer() + path


def with_issuer(response: Response) -> Response:
    """Add ``iss`` to a redirect to the client, success or error (RFC 9207 sec. 2)."""
    location = response.headers.get("Location")
    if response.status_code in (302, 303) and location:
        response.headers["Location"] = add_params_to_uri(location, [("iss", issuer())])
    return response


authorization = GatewayAuthorizationServer()


def init_oauth(app: Flask, *, services: ServicesProvider) -> None:
    """Bind :data:`authorization` to ``app``; ``services`` gives the request's stores."""
    app.extensions[_EXTENSION] = services
    authorization.init_app(app)


def server_metadata(issuer: str, *, authorization_endpoint: str, token_endpoint: str,
                    revocation_endpoint: str, introspection_endpoint: str, jwks_uri: str,
                    extra: Sequence[tuple[str, Any]] = ()) -> dict[str, Any]:
    """The RFC 8414 sec. 2 document. ``jwks_uri`` is the key set that verifies consent
    receipts, agreement records and webhook signatures (no token is a JWT)."""
    document = {
        "issuer": issuer,
        "authorization_endpoint": authorization_endpoint,
        "token_endpoint": token_endpoint,
        "jwks_uri": jwks_uri,
        "token_endpoint_auth_methods_supported": [AUTH_METHOD],
        "grant_types_supported": list(ENABLED_GRANT_TYPES),
        "response_types_supported": list(RESPONSE_TYPES),
        "response_modes_supported": list(RESPONSE_MODES),
        "scopes_supported": list(SCOPES),
        "revocation_endpoint": revocation_endpoint,
        "revocation_endpoint_auth_methods_supported": [AUTH_METHOD],
        "introspection_endpoint": introspection_endpoint,
        "introspection_endpoint_auth_methods_supported": [AUTH_METHOD],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,        # RFC 9207 sec. 3
    }
    document.update(rar.metadata())
    document.update(dict(extra))
    return document
