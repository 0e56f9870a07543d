"""Domain exceptions of the brand gateway: OAuth clients, authorization, webhooks, privacy
budgets.

Bad input to the gateway (a redirect URI, a brand name) raises the vault's ``ValidationError``;
an unknown client or pseudonym the vault's ``NotFoundError``. The brand API's own errors are in
:mod:`brand_gateway.api_errors`. ``web/errors.py`` turns them into HTTP answers from what each
class carries; the OAuth endpoints answer in the RFC 6749 sec. 5.2 form instead (a failed
client authentication is ``invalid_client``, whichever of these it was)::

    VrmvaultError (vrmvault/errors.py)
    └── GatewayError                     500  internal
        ├── ClientAuthenticationError    401  unknown client or wrong secret (never says which)
        │   └── ClientDisabledError      401  the secret is right but the client is disabled
        ├── InvalidAuthorizationDetailsError
        │                                400  RFC 9396 sec. 5 ``invalid_authorization_details``;
        │                                     also Authlib's ``OAuth2Error``, so it is answered
        │                                     in the RFC 6749 form (redirected to the brand)
        ├── TokenEndpointRateLimitedError
        │                                429  a client past its rate limit at an OAuth endpoint;
        │                                     ``slow_down`` (RFC 8628 sec. 3.5) in the RFC 6749
        │                                     form, with ``Retry-After``; an ``OAuth2Error`` too
        ├── JsonTooDeepError             400  JSON from outside nests deeper than allowed; also a
        │                                     ``ValueError``, as malformed JSON is
        ├── JsonDuplicateNameError       400  a JSON object from outside names a member twice
        │                                     (I-JSON, RFC 7493 sec. 2.3); a ``ValueError`` too
        ├── JsonConstantError            400  JSON from outside holds NaN, Infinity or
        │                                     -Infinity (not JSON, RFC 8259 sec. 6); a
        │                                     ``ValueError`` too
        ├── WebhookVerificationError     401  a delivery fails ``verify`` (the brand's side)
        ├── DestinationRefusedError      500  a webhook's host now resolves to an address the
        │                                     vault does not send to; the attempt is recorded
        ├── AuthorizationNotIssuedError  500  Authlib answered an approval with an error: the
        │                                     grants are rolled back and its answer passed on
        ├── PrivacyBudgetSpentError      429  the brand's privacy budget of the period cannot
        │                                     pay for a release; says what is left and when it
        │                                     renews (``Retry-After: retry_after``)
        └── ResourceError (brand_gateway/api_errors.py)   the brand API's requests
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749.errors import OAuth2Error

from vrmvault.errors import VrmvaultError


class GatewayError(VrmvaultError):
    type = "gateway-internal"
    title = "Brand gateway error"


class ClientAuthenticationError(GatewayError):
    status = 401
    type = "invalid-client"
    title = "Client authentication failed"


class ClientDisabledError(ClientAuthenticationError):
    """Raised only after the secret matched, so it tells nothing to someone guessing secrets."""

    type = "client-disabled"
    title = "This client is disabled"


class InvalidAuthorizationDetailsError(OAuth2Error, GatewayError):  # type: ignore[misc]
    """RFC 9396 sec. 5: the error code for details the server cannot accept.

    Authlib's ``OAuth2Error`` comes first, so Authlib's constructor, body and headers apply and a
    Flask error handler for ``OAuth2Error`` is found before the problem+json one."""

    error = "invalid_authorization_details"
    status = 400
    type = "invalid-authorization-details"
    title = "The authorization details are not valid"

    def __init__(self, description: str | None = None, **oauth: Any) -> None:
        # Authlib's constructor (``state``, ``redirect_uri``, ...); it passes its own message on
        # to ours, so ``message`` is ``"invalid_authorization_details: <description>"``.
        OAuth2Error.__init__(self, description=description, **oauth)


class TokenEndpointRateLimitedError(OAuth2Error, GatewayError):  # type: ignore[misc]
    """A client past its rate limit at the token, revocation or introspection endpoint.

    RFC 6749 names no error for it; ``slow_down`` is the token endpoint's registered one for a
    client asking too often (RFC 8628 sec. 3.5). The HTTP status is 429 with ``Retry-After``
    (RFC 6585 sec. 4), as the brand API's own refusal."""

    error = "slow_down"
    status = 429
    type = "rate-limited"
    title = "Too many requests"

    def __init__(self, message: str, retry_after: int) -> None:
        OAuth2Error.__init__(self, description=message, status_code=429)
        self.retry_after = max(1, retry_after)

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


class JsonTooDeepError(GatewayError, ValueError):
    """The document nests arrays and objects more than ``max_depth`` levels deep."""

    status = 400
    type = "json-too-deep"
    title = "The JSON nests too deep"

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested more than {max_depth} levels deep")
        self.max_depth = max_depth


class JsonDuplicateNameError(GatewayError, ValueError):
    """An object names one member twice: RFC 8259 sec. 4 leaves what that means to each
    parser (Python keeps the last, others the first), so two parties could read one document
    two ways; I-JSON (RFC 7493 sec. 2.3) forbids it, and so do we."""

    status = 400
    type = "json-duplicate-name"
    title = "The JSON names a member twice"

    def __init__(self, name: str) -> None:
        super().__init__(f"JSON object names {name!r} twice")
        self.name = name


class JsonConstantError(GatewayError, ValueError):
    """The document holds ``NaN``, ``Infinity`` or ``-Infinity``: Python's parser takes them,
    but they are not JSON (RFC 8259 sec. 6), and a float field would hold a number that is
    none."""

    status = 400
    type = "json-not-a-number"
    title = "The JSON holds a number that is not one"

    def __init__(self, constant: str) -> None:
        super().__init__(f"JSON holds {constant}")
        self.constant = constant


class WebhookVerificationError(GatewayError):
    """A delivery failed ``brand_gateway.webhooks.verify``: missing headers, a stale timestamp,
    no valid signature.

    Raised on the brand's side, by their receiver; the vault never answers with it."""

    status = 401
    type = "webhook-verification"
    title = "The webhook signature does not verify"


class DestinationRefusedError(GatewayError):
    """The endpoint's host resolves to an address the vault does not send to."""

    type = "destination-refused"
    title = "The webhook destination is not public"


class AuthorizationNotIssuedError(GatewayError):
    """Authlib answered an approved request with an error after all: raised inside the
    approval's transaction so that its grants roll back, then its ``response`` is passed on."""

    type = "authorization-not-issued"
    title = "The authorization code was not issued"

    def __init__(self, response: Any) -> None:
        super().__init__("authorization response was an error")
        self.response = response


class PrivacyBudgetSpentError(GatewayError):
    """A release would spend more epsilon than the brand has left in this period; nothing was
    spent or released (``brand_gateway/insights/budget.py``)."""

    status = 429
    type = "privacy-budget-spent"
    title = "The privacy budget of this period is spent"

    def __init__(self, requested: float, remaining: float, renews_at: int,
                 retry_after: int) -> None:
        renews = datetime.fromtimestamp(renews_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        super().__init__(f"This query needs epsilon {requested:g}; {remaining:g} is left of"
                         f" this period's budget, which renews at {renews}.")
        self.requested = requested
        self.remaining = remaining
        self.renews_at = renews_at
        self.renews = renews
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def extensions(self) -> dict[str, Any]:
        return {"epsilon_requested": self.requested, "epsilon_remaining": self.remaining,
                "renews_at": self.renews}
