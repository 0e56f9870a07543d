"""Bearer tokens on the brand API (RFC 6750): where a request's token is taken from, and who it is.

A brand authenticates every request with a bearer token in the ``Authorization`` header only
(RFC 6750 sec. 2.1): a token in the query string or a form body is refused, since URLs end up
in logs (RFC 6750 sec. 5.3, RFC 9700 sec. 4.3.2). Errors about the token carry the RFC 6750
sec. 3 challenge (:func:`challenge`, put on the answer by ``web/errors.py``):
``WWW-Authenticate: Bearer realm="vrmvault"`` alone when no token was sent, with
``error="invalid_token"`` (401) for an unknown, expired or revoked token,
``error="insufficient_scope"`` (403) for a token without what the endpoint needs, and
``error="invalid_request"`` (400) for a token sent elsewhere.

One function and one decorator of ours rather than Authlib's ``ResourceProtector``, measured:
taking the token through a ``ResourceProtector`` with a validator of ours cost about 27 µs more
per request than :func:`bearer_token` (31.5 against 4.2 µs, median of 30 interleaved batches,
its validator doing no lookup at all), for no check made here that it would make, while its
errors (``MissingAuthorizationError``, ``UnsupportedTokenTypeError``, its own
``InvalidTokenError``) would have to be mapped back to the answers above. Under ``wrk`` on the
shared two-core machine the difference stayed inside the noise of the full stack.

Who the token belongs to, and what it may read, is decided by :mod:`brand_gateway.reads`
(no Flask); this module only builds that service over the request's stores.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request

from ..api_errors import InsufficientScopeError, InvalidRequestError, MissingTokenError
from ..clients import SCOPES
from ..rate_limits import Leases, RateLimiter, SpentWindows
from ..reads import Caller, MemberDataReads
from ..request_stores import request_stores
from ..storage import rate_limiter

TOKEN_PARAMETER = "access_token"
# RFC 6750 sec. 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_RATES = "vrmvault_api_rates"             # app.extensions: this process's _Rates
BrandView = Callable[..., Response]


def bearer_token() -> str:
    """The token of the ``Authorization: Bearer`` header; raises a ``ResourceError``."""
    environ = request.environ
    # The query and the body are parsed only if they could name the parameter (the common GET
    # has no body, and a query string that names it holds its name or a percent-escape).
    query = environ.get("QUERY_STRING", "")
    if (("%" in query or TOKEN_PARAMETER in query) and TOKEN_PARAMETER in request.args) or (
            environ.get("CONTENT_TYPE")
            and request.mimetype == "application/x-www-form-urlencoded"
            and TOKEN_PARAMETER in request.form):
        raise InvalidRequestError("Send the access token in the Authorization header only, "
                                  "never in the URL or the body (RFC 6750 sec. 2.1).")
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.strip().partition(" ")
    # RFC 6750 sec. 3.1: a request without our scheme "lacks any authentication information".
    if scheme.lower() != "bearer":
        raise MissingTokenError("Send an access token: Authorization: Bearer <token>.")
    credentials = credentials.strip()
    if not _B64TOKEN.fullmatch(credentials):
        raise InvalidRequestError("The Authorization header is malformed: "
                                  "Authorization: Bearer <token>.")
    return credentials


@dataclass(frozen=True)
class _Rates:
    """This process's rate bookkeeping (made on first use in each process)."""

    spent: SpentWindows
    leases: Leases


def _rates(app: Flask) -> _Rates:
    rates: _Rates | None = app.extensions.get(_RATES)
    if rates is None:
        rates = app.extensions.setdefault(_RATES, _Rates(SpentWindows(), Leases()))
    return rates


def request_limiter() -> RateLimiter:
    """This request's view of the clients' rate limits (``VRMVAULT_API_RATE_LIMIT``), shared by
    the brand API and the OAuth endpoints. The counters are in rates.db: see
    brand_gateway.rate_limits for why."""
    app = current_app._get_current_object()     # type: ignore[attr-defined]
    stores = request_stores()
    rates = _rates(app)
    return rate_limiter(database=stores.rate_counts(), clock=stores.clock,
                        limit=app.config["VRMVAULT_API_RATE_LIMIT"],
                        spent=rates.spent, leases=rates.leases)


def reads() -> MemberDataReads:
    """The read pipeline over this request's stores."""
    app = current_app._get_current_object()     # type: ignore[attr-defined]
    stores = request_stores()
    return MemberDataReads(vault=stores.vault(), clock=stores.clock, consent=stores.consent,
                           spool=stores.spool, limiter=request_limiter,
                           spent=_rates(app).spent)


def authenticate() -> Caller:
    """The caller of this request, counted against its client's rate."""
    return reads().authenticate(bearer_token())


def requires_scope(scope: str) -> Callable[[BrandView], Callable[..., Response]]:
    """A brand-level endpoint: the view is called with the :class:`Caller` of a client
    credentials token holding ``scope`` (else 403 ``insufficient_scope``).

    The scope is recorded on the view (``required_scope``), where the test that every scope
    the gateway advertises has an endpoint finds it (tests/functional/test_scopes.py).
    """
    if scope not in SCOPES:
        raise ValueError(f"{scope!r} is not one of the gateway's scopes")

    def decorate(view: BrandView) -> Callable[..., Response]:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Response:
            caller = authenticate()
            if caller.token.delegated or scope not in caller.token.scope.split():
                raise InsufficientScopeError(f"Use a client credentials token with the "
                                             f"{scope} scope.")
            return view(caller, *args, **kwargs)

        checked.required_scope = scope          # type: ignore[attr-defined]
        return checked

    return decorate
