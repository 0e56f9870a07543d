"""Limits on a request's head (its request target and header fields), checked before anything
else of the app reads the request: the session cookie, the host check, routing.

A request over one is answered 414 (URI Too Long, RFC 9110 sec. 15.5.15) or 431 (Request Header
Fields Too Large, RFC 6585 sec. 5) through the one error boundary (``web/errors.py``):
problem+json under ``/api/``, the error page elsewhere. The answer is made from a copy of the
request with every header field and the query left out, so nothing of what was refused is read
to refuse it. The server takes heads up to a buffer well above these limits (``web/server.py``);
past it, its router drops the connection unanswered.

The limits are about those most servers and proxies in front of one apply (gunicorn's and
nginx's defaults among them): the target (path and query) :data:`TARGET_LIMIT` bytes, one field
(name and value) :data:`FIELD_LIMIT`, at most :data:`FIELD_COUNT` fields and :data:`HEAD_LIMIT` for
all of them. Repeated fields reach the app joined into one, and are counted so.

A request whose body comes in chunks (``Transfer-Encoding``, no ``Content-Length``) is answered
411 (Length Required, RFC 9112 sec. 6.3 allows it): uWSGI's router would hand the app such a body
as empty. Browsers and HTTP libraries send the length of any body they know in full. A
``Content-Length`` that is not a whole number of digits, and a path holding the NUL character
(``%00``, which no route has), are answered 400.

A field's value is what is between the spaces and tabs around it (RFC 9110 sec. 5.5); uWSGI
passes on all but the leading spaces, so the rest is trimmed here, before the app reads any
field (``Sec-GPC:  1`` is the value ``1``, web/gpc.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from .errors import (
    HeadersTooLargeError,
    InvalidLengthError,
    LengthRequiredError,
    NulInPathError,
    TargetTooLongError,
    WebError,
    handle_domain_error,
)

TARGET_LIMIT = 8000                  # the server's line limit has room for method and version
FIELD_LIMIT = 8190
FIELD_COUNT = 100
HEAD_LIMIT = 32 * 1024
_NOT_PREFIXED = ("CONTENT_TYPE", "CONTENT_LENGTH")      # header fields WSGI names without HTTP_
_HOST_LIMIT = 255
_OWS = " \t"                         # optional whitespace, RFC 9110 sec. 5.6.3


def head_error(environ: dict[str, Any]) -> WebError | None:
    """The error a request with this WSGI ``environ`` is answered with, or None."""
    if len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) > TARGET_LIMIT:
        return TargetTooLongError()
    count = total = 0
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            size = len(name) - 3 + len(value)           # "Name: value" less the prefix
        elif name in _NOT_PREFIXED:
            size = len(name) + 2 + len(value)
        else:
            continue
        if size > FIELD_LIMIT:
            if name == "HTTP_COOKIE":
                return HeadersTooLargeError(
                    f"The cookies sent are longer than {FIELD_LIMIT:,} bytes, the most this"
                    " server reads; clear this site's cookies in the browser and try again.")
            return HeadersTooLargeError(f"A header field is longer than {FIELD_LIMIT:,} bytes,"
                                        " the most this server reads.")
        count += 1
        total += size
    if count > FIELD_COUNT:
        return HeadersTooLargeError(f"The request has more than {FIELD_COUNT} header fields,"
                                    " the most this server reads.")
    if total > HEAD_LIMIT:
        return HeadersTooLargeError(f"The header fields add up to more than {HEAD_LIMIT:,}"
                                    " bytes, the most this server reads.")
    if "HTTP_TRANSFER_ENCODING" in environ:
        return LengthRequiredError()
    # Werkzeug reads a negative or non-numeric length as no body, so the request was refused
    # for what it was not (an empty body, "not valid JSON"); RFC 9110 sec. 8.6: 1*DIGIT.
    length = environ.get("CONTENT_LENGTH")
    if length and not (length.isascii() and length.isdigit()):
        return InvalidLengthError()
    # Routing would answer 404; a NUL in a query or a body is a 400, and so is one here.
    if "\x00" in environ.get("PATH_INFO", ""):
        return NulInPathError()
    return None


def trim_field_values(environ: dict[str, Any]) -> None:
    """Drop the spaces and tabs around each header field's value, in place."""
    loose = [name for name, value in environ.items()
             if value and type(value) is str and (value[0] in _OWS or value[-1] in _OWS)
             and (name.startswith("HTTP_") or name in _NOT_PREFIXED)]
    for name in loose:
        environ[name] = environ[name].strip(_OWS)


class HeadLimits:
    """WSGI middleware around the app's ``wsgi_app`` answering a request over a limit."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        error = head_error(environ)
        if error is None:
            trim_field_values(environ)
            return self.wsgi_app(environ, start_response)
        with self.app.request_context(_bare(environ)):
            response = handle_domain_error(error)
        return response(environ, start_response)


def _bare(environ: dict[str, Any]) -> dict[str, Any]:
    """The request without its header fields and query, the path cut to what tells an API
    request from a page's."""
    bare = {name: value for name, value in environ.items()
            if not name.startswith("HTTP_") and name not in _NOT_PREFIXED}
    bare["PATH_INFO"] = "/api/" if environ.get("PATH_INFO", "").startswith("/api/") else "/"
    bare["QUERY_STRING"] = ""
    host = environ.get("HTTP_HOST", "")
    if host and len(host) <= _HOST_LIMIT:
        bare["HTTP_HOST"] = host
    return bare
