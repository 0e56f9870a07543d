"""The one place where exceptions become HTTP answers.

- Requests to the API (``/api/``) and machine endpoints get RFC 9457 problem details
  (``application/problem+json``) built by :func:`problem`.
- Requests to pages get an HTML error page with a readable message and the same status.
- A 500 never echoes the exception text or a stack trace; the log gets the exception class and
  the stack frames, never the exception's message (it may quote request data) or a body.
"""

from __future__ import annotations

import traceback
from typing import Any

from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Flask, Response, current_app, json, render_template, request
from werkzeug.exceptions import HTTPException

from brand_gateway.api.bearer import challenge
from brand_gateway.api_errors import MissingTokenError, QueryError, RateLimitedError, ResourceError
from vault.errors import ThrottledError, ValidationError, VaultError

PROBLEM_TYPE_BASE = "https://vrmvault.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def wants_problem_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["text/html", "application/json"])
        == "application/json" and not request.accept_mimetypes.accept_html
    )


def problem(status: int, title: str, detail: str | None = None, *, type_: str | None = None,
            headers: dict[str, str] | None = None, **extensions: Any) -> Response:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_ if type_ else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _page(status: int, title: str, message: str, headers: dict[str, str] | None = None
          ) -> Response:
    response = Response(render_template("error.html", status=status, title=title,
                                        message=message), status=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_vault_error(error: VaultError) -> Response:
    headers = {}
    if isinstance(error, ThrottledError):
        headers["Retry-After"] = str(error.retry_after)
    if error.status >= 500:
        return handle_unexpected(error)
    if wants_problem_json():
        extra = {"errors": error.errors} if isinstance(error, ValidationError) else {}
        return problem(error.status, error.title, error.message, type_=error.type,
                       headers=headers, **extra)
    return _page(error.status, error.title, error.message, headers)


def resource_error(error: ResourceError) -> Response:
    """The brand API's errors: problem details, with the RFC 6750 sec. 3 challenge for those
    about the bearer token and ``Retry-After`` past the rate."""
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(error, MissingTokenError) or error.oauth_error:
        headers["WWW-Authenticate"] = challenge(error.oauth_error, error.message)
    if error.oauth_error:
        extra["error"] = error.oauth_error
    if isinstance(error, QueryError):
        extra["errors"] = error.errors
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    return problem(error.status, error.title, error.message, type_=error.type, headers=headers,
                   **extra)


def handle_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    title = error.name
    detail = error.description or ""
    headers = {}
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    if wants_problem_json():
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


def handle_unexpected(error: BaseException) -> Response:
    # The log gets where it failed (type and stack frames) but never the exception's message
    # or arguments, which may hold personal data from the request.
    frames = "".join(traceback.format_tb(error.__traceback__))
    current_app.logger.error("unhandled %s on %s %s\n%s", type(error).__name__, request.method,
                             request.url_rule.rule if request.url_rule else "(no route)", frames)
    title = "Something went wrong on our side"
    detail = "The request could not be completed. Please try again in a moment."
    if wants_problem_json():
        return problem(500, title, detail)
    return _page(500, title, detail)


def init_app(app: Flask) -> None:
    app.register_error_handler(ResourceError, resource_error)
    app.register_error_handler(VaultError, handle_vault_error)
    app.register_error_handler(OAuth2Error, handle_oauth_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
