"""The one place where exceptions become HTTP answers, and the web's own exception tree.

- Requests to the API (``/api/``) and machine endpoints get RFC 9457 problem details
  (``application/problem+json``) built by :func:`problem`; requests to pages get the error page
  with a readable message and the same status.
- Every :class:`~vrmvault.errors.VrmvaultError`, whichever area raised it (the brand API's
  :mod:`brand_gateway.api_errors` included), is answered from what its class carries: ``status``,
  ``problem_type()``, ``title``, its ``message`` as the detail, ``headers()`` on either answer and
  ``extensions()`` as members of the problem. Nothing here knows a particular class; a view that
  catches a domain error only to answer 404 or 409 should let it through instead.
- Werkzeug's HTTP errors (an unknown route, a wrong method, a body too large) are answered the
  same way, with the ``about:blank`` problem type. A body over the request's limit is one 413
  wherever it was read, its detail naming the limit (the brand API's is ``web/app.py``'s);
  the OAuth endpoints answer it in their own form (``brand_gateway/oauth_endpoints.py``).
- OAuth endpoints answer in the RFC 6749 sec. 5.2 / RFC 6750 form Authlib produces, never with
  problem details; an Authlib ``OAuth2Error`` that escapes to here (e.g. from the host check) is
  answered in that form too.
- A 500 never echoes the exception text or a stack trace; the log gets the exception class and
  the stack frames, never the exception's message (it may quote request data) or a body. An
  ``operational`` error of 500 or above (a state of the service, not a defect) is answered
  with its own status, title and message, and logged as a warning with its class and route.

The web's own exceptions, raised before any view runs, draw this tree::

    VrmvaultError (vrmvault/errors.py)
    ├── WebError                   400  a request the pages refuse before any view runs
    │   ├── CsrfError              400  a form post without this session's CSRF token
    │   ├── InvalidEncodingError   400  a form body that is not valid UTF-8
    │   ├── UntrustedHostError     400  a ``Host`` this server does not answer for
    │   ├── NulInPathError         400  a path holding U+0000 (``%00``), as a query or body would
    │   ├── InvalidLengthError     400  a ``Content-Length`` that is not a number of bytes
    │   ├── UnsupportedFormError   415  a post to a page that is not an urlencoded form
    │   ├── LengthRequiredError    411  a body in chunks, without its Content-Length
    │   ├── TargetTooLongError     414  a request target over web/limits.py's limit
    │   └── HeadersTooLargeError   431  header fields over web/limits.py's limits
    └── SettingError               500  a ``VRMVAULT_*`` setting that cannot be used
                                        (web/config.py; the command line exits 78)

The problem type of a ``WebError`` is ``about:blank``, titled with the status's reason phrase.
A ``SettingError`` stops a command or a server before it starts, so no request ever meets one.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from flask import Flask, Response, current_app, json, render_template, request
from werkzeug.exceptions import HTTPException

from vrmvault.errors import VrmvaultError

PROBLEM_MEDIA_TYPE = "application/problem+json"


class WebError(VrmvaultError):
    status = 400
    type = None
    title = "Bad Request"
    #: The detail when none is given: what the person who sent the request can do about it.
    description = "The request could not be understood."

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.description)


class SettingError(VrmvaultError, ValueError):
    """A ``VRMVAULT_*`` variable whose value cannot be used; ``str()`` is one line saying which
    variable, what is wrong and what is expected (a secret's value is never part of it)."""

    type = "setting"
    title = "A setting cannot be used"

    def __init__(self, variable: str, problem: str, expected: str) -> None:
        # ``problem`` follows the name directly: "='abc' is not a whole number".
        self.variable, self.problem, self.expected = variable, problem, expected
        super().__init__(f"{variable}{problem}; expected {expected}")


class CsrfError(WebError):
    description = ("This form has expired or did not come from this site. "
                   "Go back, reload the page and try again.")


class InvalidEncodingError(WebError):
    description = "The form contained text that is not valid UTF-8. Check what you pasted."


class UntrustedHostError(WebError):
    description = ("This server does not answer for the host this request named. Use the"
                   " vault's public address.")


class NulInPathError(WebError):
    description = ("The address holds the NUL character (%00), which no address here has."
                   " Check the link.")


class InvalidLengthError(WebError):
    description = ("The Content-Length is not valid: it must be the body's length in bytes,"
                   " a whole number of ASCII digits.")


class UnsupportedFormError(WebError):
    status = 415
    title = "Unsupported Media Type"
    description = "This page only accepts ordinary form submissions."


class TargetTooLongError(WebError):
    status = 414
    title = "Request-URI Too Long"               # the reason phrase (RFC 9110: "URI Too Long")
    description = "The address asked for is longer than this server reads."


class LengthRequiredError(WebError):
    status = 411
    title = "Length Required"                              # RFC 9110 sec. 15.5.12
    description = ("A request with a body must say its length (Content-Length); this server"
                   " does not read bodies sent in chunks.")


class HeadersTooLargeError(WebError):
    status = 431
    title = "Request Header Fields Too Large"                # RFC 6585 sec. 5
    description = "The request's header fields are larger than this server reads."


#: Where only programs ask (the brand API, the OAuth metadata and keys): problem+json always.
_MACHINE_PATHS = ("/api/", "/.well-known/")
#: The OAuth endpoints that take a form (RFC 6749 sec. 3.2, RFC 7009, RFC 7662): any error of
#: theirs, a wrong method's included, in RFC 6749 sec. 5.2's form, as their own answers are.
OAUTH_FORM_ENDPOINTS = frozenset({"/oauth/token", "/oauth/revoke", "/oauth/introspect"})


def wants_problem_json() -> bool:
    return request.path.startswith(_MACHINE_PATHS) or (
        request.accept_mimetypes.best_match(["text/html", "application/json"])
        == "application/json" and not request.accept_mimetypes.accept_html
    )


def problem(status: int, title: str, detail: str | None = None, *,
            type_uri: str = "about:blank", headers: Mapping[str, str] | None = None,
            extensions: Mapping[str, Any] | None = None) -> Response:
    """An RFC 9457 problem details response; ``extensions`` are members after the standard
    ones (RFC 9457 sec. 3.2), and never replace one."""
    body: dict[str, Any] = {"type": type_uri, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    for name, value in (extensions or {}).items():
        body.setdefault(name, value)
    # Ending with a newline, as every JSON answer of the API does (a shell prints it on a line).
    response = Response(json.dumps(body) + "\n", status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _page(status: int, title: str, message: str, headers: Mapping[str, str] | None = None
          ) -> Response:
    response = Response(render_template("error.html", status=status, title=title,
                                        message=message), status=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_domain_error(error: VrmvaultError) -> Response:
    if error.status >= 500:
        if not error.operational:
            return handle_unexpected(error)
        # A state of the service the operator must see to (a member's key lost in a
        # restore): told in the log, by its class and route, never by its message.
        current_app.logger.warning("%s %s on %s %s", error.status, type(error).__name__,
                                   request.method, _route())
    if wants_problem_json():
        return problem(error.status, error.title, error.public_detail(),
                       type_uri=error.problem_type(), headers=error.headers(),
                       extensions=error.extensions())
    return _page(error.status, error.title, _sentence(error.public_detail()), error.headers())


def _sentence(detail: str) -> str:
    """A service's message as a page's sentence: services word theirs for every front door
    ("no such agreement", which the CLI prints after "error: "), and a page showed the
    fragment as it was."""
    if not detail:
        return detail
    return detail[0].upper() + detail[1:] + ("" if detail.endswith((".", "!", "?")) else ".")


def handle_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    title = error.name
    detail = error.description or ""
    headers = {}
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        if request.path in OAUTH_FORM_ENDPOINTS:
            response = handle_oauth_error(InvalidRequestError(
                "Use POST, with the parameters in the body as"
                " application/x-www-form-urlencoded (RFC 6749 sec. 3.2).", status_code=405))
            response.headers.update(headers)
            return response
    if wants_problem_json():
        if status == 413 and request.max_content_length is not None:
            title = "Content Too Large"                   # RFC 9110 sec. 15.5.14
            detail = (f"The body is larger than {request.max_content_length} bytes, the most"
                      " this address takes.")
        return problem(status, title, detail, headers=headers)
    return _page(status, title, detail, headers)


def handle_oauth_error(error: OAuth2Error) -> Response:
    """An OAuth error raised outside Authlib's own endpoint handling (e.g. plain HTTP to a
    public host): answered in the RFC 6749 sec. 5.2 form, as the endpoints answer."""
    response = Response(json.dumps(dict(error.get_body())), status=error.status_code or 400,
                        mimetype="application/json")
    for name, value in error.get_headers():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _route() -> str:
    """The request's route as declared (``/member/feedback/<entry_id>/edit``), never its path."""
    return request.url_rule.rule if request.url_rule else "(no route)"


def handle_unexpected(error: BaseException) -> Response:
    # The log gets where it failed (type and stack frames) but never the exception's message
    # or arguments, which may hold personal data from the request.
    frames = "".join(traceback.format_tb(error.__traceback__))
    current_app.logger.error("unhandled %s on %s %s\n%s", type(error).__name__, request.method,
                             _route(), frames)
    title = "Something went wrong on our side"
    detail = "The request could not be completed. Please try again in a moment."
    if wants_problem_json():
        return problem(500, title, detail)
    return _page(500, title, detail)


def init_app(app: Flask) -> None:
    # Flask picks the handler of the first class in the exception's MRO that has one: an
    # error that is also Authlib's OAuth2Error lists that first, so it keeps the OAuth form.
    app.register_error_handler(VrmvaultError, handle_domain_error)
    app.register_error_handler(OAuth2Error, handle_oauth_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
