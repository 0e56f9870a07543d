"""Errors of the brand API (the resource server), under the gateway's tree.

They extend :class:`brand_gateway.errors.GatewayError`, so they carry ``status``, ``type`` and
``title`` like every vault error; the ones about the bearer token also carry the RFC 6750 sec. 3.1
error code, which ``web/errors.py`` puts in the ``WWW-Authenticate`` header and the problem body::

    GatewayError (brand_gateway/errors.py)
    └── ResourceError                        400  the API request itself is wrong
        ├── InvalidRequestError              400  invalid_request: a token outside the
        │                                         Authorization header, a malformed header
        ├── MissingTokenError                401  no bearer token at all (no error code,
        │                                         RFC 6750 sec. 3.1)
        ├── InvalidTokenError                401  invalid_token: unknown, expired, revoked, or
        │                                         its member's authorization has ended
        ├── InsufficientScopeError           403  insufficient_scope: a brand-level token on a
        │                                         member endpoint, a purpose the token lacks
        ├── QueryError                       400  unknown or malformed query parameters;
        │                                         ``errors`` maps parameter -> messages
        ├── RateLimitedError                 429  the client's requests per minute are spent;
        │                                         ``retry_after`` seconds
        ├── ApiNotFoundError                 404  none of the brand's own resources by that id
        ├── ApiConflictError                 409  the resource is no longer in a state that
        │                                         takes this request (an offer answered already)
        └── (QueryError) BodyError           400  a JSON body that is not what the operation
            └── UnsupportedBodyError         415  takes; not application/json
"""

from __future__ import annotations

from .errors import GatewayError


class ResourceError(GatewayError):
    status = 400
    type = "invalid-request"
    title = "Bad request"
    #: The RFC 6750 sec. 3.1 error code, for errors about the bearer token.
    oauth_error: str | None = None


class InvalidRequestError(ResourceError):
    oauth_error = "invalid_request"


class MissingTokenError(ResourceError):
    status = 401
    type = "unauthorized"
    title = "A bearer token is needed"


class InvalidTokenError(ResourceError):
    status = 401
    type = "invalid-token"
    title = "The access token is not valid"
    oauth_error = "invalid_token"


class InsufficientScopeError(ResourceError):
    status = 403
    type = "insufficient-scope"
    title = "The access token does not allow this request"
    oauth_error = "insufficient_scope"


class QueryError(ResourceError):
    type = "invalid-query"
    title = "The query parameters are not valid"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Fix the query parameters named in errors.")
        self.errors = errors


class RateLimitedError(ResourceError):
    status = 429
    type = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(f"This client may make {limit} requests a minute. "
                         f"Try again in {retry_after} seconds.")
        self.retry_after = max(1, retry_after)


class ApiNotFoundError(ResourceError):
    """A resource of the brand's own (a webhook endpoint) that does not exist for it."""

    status = 404
    type = "not-found"
    title = "No such resource"


class ApiConflictError(ResourceError):
    """The brand's own resource is no longer in a state that takes the request."""

    status = 409
    type = "conflict"
    title = "The resource changed"


class BodyError(QueryError):
    """A request body that is not what the operation takes; ``errors`` names the problems."""

    type = "invalid-body"
    title = "The request body is not valid"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        ResourceError.__init__(self, "Fix the body members named in errors.")
        self.errors = errors


class UnsupportedBodyError(BodyError):
    status = 415
    type = "unsupported-media-type"
    title = "The request body must be application/json"
