"""Errors of the brand API (the resource server), under the gateway's tree.

They extend :class:`brand_gateway.errors.GatewayError`, so they carry ``status``, ``type`` and
``title`` like every error of vrmvault, and the one boundary (``web/errors.py``) answers them
with problem+json. The ones about the bearer token also carry the RFC 6750 sec. 3 challenge
(:func:`challenge`) in ``WWW-Authenticate``, with their sec. 3.1 error code, if any, in the
challenge and in the problem's ``error`` member::

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
        │                                         ``Retry-After: retry_after``
        ├── OfferLimitedError                429  a limit on offers (per intent, per day) is
        │                                         reached; ``Retry-After: retry_after``
        ├── WindowSpentError                 429  the client had spent its window before this
        │                                         request (caught where it is raised: it
        │                                         becomes a RateLimitedError once counted)
        ├── ApiNotFoundError                 404  none of the brand's own resources by that id
        ├── ApiConflictError                 409  the resource is no longer in a state that
        │                                         takes this request (an offer answered already)
        └── (QueryError) BodyError           400  a JSON body that is not what the operation
            └── UnsupportedBodyError         415  takes; not application/json
"""

from __future__ import annotations

import re
from typing import Any

from .errors import GatewayError

#: The protection space of every challenge (RFC 6750 sec. 3, RFC 9110 sec. 11.5).
REALM = "vrmvault"
# Characters RFC 6750 sec. 3 allows in error_description (printable ASCII less " and \).
_UNQUOTABLE = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')


def challenge(error: str | None, description: str) -> str:
    """An RFC 6750 sec. 3 ``WWW-Authenticate`` value; no error code when none applies."""
    if error is None:
        return f'Bearer realm="{REALM}"'
    text = _UNQUOTABLE.sub("", description)
    return f'Bearer realm="{REALM}", error="{error}", error_description="{text}"'


class ResourceError(GatewayError):
    status = 400
    type = "invalid-request"
    title = "Bad request"
    #: Whether the answer carries an RFC 6750 sec. 3 challenge: every error about the token.
    bearer_challenge = False
    #: The RFC 6750 sec. 3.1 error code, for errors about the bearer token that have one.
    oauth_error: str | None = None

    def headers(self) -> dict[str, str]:
        if not self.bearer_challenge:
            return {}
        return {"WWW-Authenticate": challenge(self.oauth_error, self.message)}

    def extensions(self) -> dict[str, Any]:
        return {"error": self.oauth_error} if self.oauth_error else {}


class InvalidRequestError(ResourceError):
    bearer_challenge = True
    oauth_error = "invalid_request"


class MissingTokenError(ResourceError):
    """No token at all: the challenge names no error code (RFC 6750 sec. 3.1)."""

    status = 401
    type = "unauthorized"
    title = "A bearer token is needed"
    bearer_challenge = True


class InvalidTokenError(ResourceError):
    status = 401
    type = "invalid-token"
    title = "The access token is not valid"
    bearer_challenge = True
    oauth_error = "invalid_token"


class InsufficientScopeError(ResourceError):
    status = 403
    type = "insufficient-scope"
    title = "The access token does not allow this request"
    bearer_challenge = True
    oauth_error = "insufficient_scope"


class QueryError(ResourceError):
    type = "invalid-query"
    title = "The query parameters are not valid"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Fix the query parameters named in errors.")
        self.errors = errors

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "errors": self.errors}


class RateLimitedError(ResourceError):
    status = 429
    type = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(f"This client may make {limit} requests a minute. "
                         f"Try again in {retry_after} second{'' if retry_after == 1 else 's'}.")
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class OfferLimitedError(ResourceError):
    """A limit on offers (per intent, per day): 429 with ``Retry-After``."""

    status = 429
    type = "offer-limit"
    title = "Too many offers"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    def extensions(self) -> dict[str, Any]:
        return {"errors": {"offer": [self.message]}}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class WindowSpentError(ResourceError):
    """The client had spent its window before this request, so nothing was read; the reader
    counts the request and answers with :class:`RateLimitedError` instead."""

    status = 429
    type = "rate-limited"
    title = "Too many requests"


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
