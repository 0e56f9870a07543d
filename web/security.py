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
- Response headers: on pages CSP (``object-src 'none'``, ``frame-ancestors 'none'``), nosniff,
  Referrer-Policy, COOP, Permissions-Policy; on the brand API's JSON the set OWASP's REST
  Security Cheat Sheet gives an API (a CSP allowing nothing, nosniff, ``X-Frame-Options``);
  HSTS only when served over TLS; ``Cache-Control: no-store`` on everything but static files,
  since nearly every answer holds personal data.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Flask, Request, request, session

from .config import trusted_hosts
from .errors import CsrfError, InvalidEncodingError, UnsupportedFormError, UntrustedHostError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CSRF_FIELD = "csrf_token"
CSRF_KEY = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Blueprints whose unsafe requests are browser form posts and so need the CSRF token.
FORM_BLUEPRINTS = frozenset({"auth", "recovery", "member", "consents", "authorize", "console",
                             "console_brands", "console_ledger", "console_reports",
                             "console_requests",
                             "console_intents", "communities", "intents", "loop", "surveys",
                             "requests"})

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
# The brand API answers JSON to programs, never a page: the headers OWASP's REST Security Cheat
# Sheet lists for an API (nothing framed, nothing sniffed, nothing stored; a CSP that allows
# nothing, should a browser ever render an answer), and no more. The page-only headers
# (Referrer-Policy, COOP, Permissions-Policy) and HTTP/1.0's ``Pragma`` (RFC 9111 sec. 5.4)
# mean nothing to an API client, yet each cost the server and the client on every read.
API_PREFIX = "/api/"
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
_API_HEADERS = tuple((name, name.lower(), value) for name, value in (
    ("Content-Security-Policy", API_CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
))
_HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
_NO_STORE = ("Cache-Control", "no-store")
_NO_CACHE = ("Pragma", "no-cache")


class SecurityHeaders:
    """WSGI middleware: the security headers on every response the app answers, added to the
    header list as it goes to the server. The values are constants, checked once here rather
    than by werkzeug's header validation on every response (the brand API's hot path).

    What a view set itself stays (its own CSP, say), except ``Cache-Control``: every answer
    is ``no-store`` (on pages with ``Pragma: no-cache``), since nearly every one holds
    personal data, but static files, the ``.well-known`` documents and the public log
    (``/log/``, public hashes and signed checkpoints only) that set their own caching keep it.
    HSTS only when the request came over TLS (behind a trusted proxy: as it says)."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        def start_with_headers(status: str, headers: list[tuple[str, str]],
                               exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            path = environ.get("PATH_INFO", "")
            api = path.startswith(API_PREFIX)
            headers += [(name, value) for name, lower, value in
                        (_API_HEADERS if api else _DEFAULT_HEADERS) if lower not in present]
            if environ["wsgi.url_scheme"] == "https" and "strict-transport-security" \
                    not in present:
                headers.append(_HSTS)
            cached = path.startswith("/static/") or (
                path.startswith(("/.well-known/", "/log/")) and "cache-control" in present)
            if not cached:
                if "cache-control" in present:
                    headers[:] = [h for h in headers if h[0].lower() != "cache-control"]
                headers.append(_NO_STORE)
                if not api and "pragma" not in present:
                    headers.append(_NO_CACHE)
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_headers)


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
    # Around any proxy fix, which rewrites the environ in place before the app answers: the
    # scheme read when the answer starts is the forwarded one.
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    app.jinja_env.globals["csrf_token"] = csrf_token
