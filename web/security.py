"""Request hardening for the member web pages.

- CSRF: the synchronizer-token pattern (OWASP CSRF cheat sheet). A random token lives in the
  server-side session; every state-changing form carries it; every unsafe request to a page
  blueprint must present it (constant-time comparison) or gets a 400 page.
- Host: a request must name the public URL's host (``VRMVAULT_PUBLIC_URL``; behind trusted
  proxies, the forwarded host), or any loopback name when that host is a loopback one; any other
  is refused with 400 before anything else runs, so a forged ``Host`` can never become the OAuth
  issuer. Nothing builds a URL from the request's host in any case.
- Form bodies must be valid UTF-8: a byte sequence that does not decode is refused with a clear
  message instead of being silently replaced by U+FFFD and stored.
- Response headers: CSP (``object-src 'none'``, ``frame-ancestors 'none'``), nosniff,
  Referrer-Policy, COOP, Permissions-Policy; HSTS only when served over TLS; ``Cache-Control:
  no-store`` on everything but static files, since nearly every page shows personal data.
"""

from __future__ import annotations

import hmac
import re
import secrets
from functools import lru_cache
from typing import NoReturn
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Flask, Request, Response, request, session

from .config import trusted_hosts
from .errors import CsrfError, InvalidEncodingError, UnsupportedFormError, UntrustedHostError

CSRF_FIELD = "csrf_token"
CSRF_KEY = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Blueprints whose unsafe requests are browser form posts and so need the CSRF token.
# The console has none yet; it is listed so that one added there is checked from the start.
FORM_BLUEPRINTS = frozenset({"auth", "recovery", "member", "consents", "authorize", "console"})

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


# A Host header: a name or IPv4 address, or a bracketed IPv6 address; an optional port.
# (werkzeug's own trusted-host check cannot match an IPv6 address.)
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?")


@lru_cache(maxsize=64)
def host_allowed(host: str, public_url: str) -> bool:
    """Whether a request naming ``host`` (a Host header value) is one for ``public_url``.
    Cached: on the brand API's hot path this is one dictionary lookup per request."""
    match = _HOST.fullmatch(host.lower())
    return bool(match) and match.group(1) in trusted_hosts(public_url)


def refuse_host(req: Request) -> NoReturn:
    if req.blueprint == "oauth":            # machine endpoints keep RFC 6749's error format
        raise InvalidRequestError(description="This server does not answer for that host.")
    raise UntrustedHostError()


def csrf_token() -> str:
    """The session's CSRF token, made on first use (templates call this)."""
    token = session.get(CSRF_KEY)
    if not token:
        token = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def check_form_encoding(req: Request) -> None:
    # Our pages only send urlencoded forms; anything else (multipart would bypass the strict
    # UTF-8 check below) is refused rather than parsed.
    if req.mimetype not in ("application/x-www-form-urlencoded", ""):
        raise UnsupportedFormError()
    raw = req.get_data(cache=True, parse_form_data=False)
    try:
        # Both raw UTF-8 and percent-encoded bytes must decode strictly.
        parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                  errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidEncodingError() from None


def check_csrf(req: Request) -> None:
    expected = session.get(CSRF_KEY)
    given = req.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(str(expected), given):
        raise CsrfError()


# Set on every response unless the view set its own (name, lower-case name, value).
_DEFAULT_HEADERS = tuple((name, name.lower(), value) for name, value in (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
))


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over the few headers the view set, rather than a lookup per default: werkzeug's
    # Headers.setdefault raises and catches an exception for each absent name, on every
    # response (the brand API's hot path).
    present = {name.lower() for name, _ in headers.items()}
    for name, lower, value in _DEFAULT_HEADERS:
        if lower not in present:
            headers.add(name, value)
    req = request._get_current_object()     # type: ignore[attr-defined]
    if req.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    path = req.path
    # Static files, and the public, non-personal documents that say so, keep their own caching.
    cached = path.startswith("/static/") or (
        path.startswith("/.well-known/") and "cache-control" in present)
    if not cached:
        headers["Cache-Control"] = "no-store"
        if "pragma" not in present:
            headers.add("Pragma", "no-cache")
    return response


def init_app(app: Flask) -> None:
    def check_request() -> None:
        """The host, then a page form post's encoding and CSRF token: one hook rather than
        three, since Flask looks each hook over again on every request (the brand API's hot
        path), and the request resolved once."""
        req = request._get_current_object()     # type: ignore[attr-defined]
        if not host_allowed(req.host, app.config["VRMVAULT_PUBLIC_URL"]):
            refuse_host(req)
        if req.method in UNSAFE_METHODS and req.blueprint in FORM_BLUEPRINTS:
            check_form_encoding(req)
            check_csrf(req)

    # First of all: no other hook (GPC, sessions' pages) runs for a foreign host.
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
    app.after_request(set_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
