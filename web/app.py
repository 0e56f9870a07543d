"""The application factory. No I/O here: stores are opened per request, keys on first use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, current_app
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from brand_gateway import blueprints as brand_gateway
from brand_gateway import json_input
from brand_gateway.api.payloads import MAX_BODY
from brand_gateway.request_stores import RequestStores

from . import (
    access_views,
    auth,
    communities,
    consents,
    console,
    console_brands,
    console_intents,
    console_ledger,
    console_reports,
    console_requests,
    errors,
    gpc,
    intents,
    loop,
    mailing,
    member,
    public_log,
    recovery,
    requests,
    security,
    surveys,
    vaults,
)
from .config import DEFAULT_PUBLIC_URL, from_environment, public_url
from .filters import init_app as init_filters
from .limits import HeadLimits
from .sessions import VaultSessionInterface, current_member_id

# Forms are small; a body past this is refused with 413 before it is parsed.
MAX_FORM_BYTES = 64 * 1024


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with decoding limited in depth, objects naming a member once and no NaN
    or infinity (brand_gateway/json_input.py): whatever calls ``request.get_json`` (ours or a
    library's) gets a 400, never a RecursionError, a document read two ways or a number that
    is none."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s if isinstance(s, str) else bytes(s).decode("utf-8")
        json_input.check_depth(text)
        kwargs.setdefault("object_pairs_hook", json_input.unique_names)
        kwargs.setdefault("parse_constant", json_input.refuse_constant)
        return super().loads(text, **kwargs)


class VaultRequest(Request):
    """Flask's request, whose body limit under ``/api/`` is the brand API's (:data:`MAX_BODY`),
    elsewhere the app's (:data:`MAX_FORM_BYTES`).

    Werkzeug checks the limit wherever the body is read (a view, the bearer check, a form), so
    every oversized body gets the one 413 of ``web/errors.py``; the limit is asked only when a
    body is read, never by a request without one.
    """

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.path.startswith("/api/"):
            return MAX_BODY
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


class LazilyBuiltRule(Rule):
    """Werkzeug's rule, whose URL builders are compiled the first time a URL is built for it.

    Werkzeug compiles two Python functions per rule (with and without unknown arguments) when
    the rule is added to the map: about 70% of ``create_app``'s time for our 155 rules (38 ms
    in all, measured), for builders most rules never use in a worker (``url_for`` is asked of
    pages, never of the brand API). The builder is the one werkzeug makes, from the rule as it
    was compiled (its parts, converters and defaults, none of which change after), made on
    first use; two threads building the same rule at once both compile it, and either result
    is the same function.
    """

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        make = super()._compile_builder
        built: Callable[..., tuple[str, str]] | None = None

        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            nonlocal built
            if built is None:
                built = make(append_unknown).__get__(rule, None)
            return built(**values)

        return build


class VaultFlask(Flask):
    """Flask, answering ``ensure_sync`` once per function, with :class:`LazilyBuiltRule`, and
    ``OPTIONS`` with ``204`` (:meth:`make_default_options_response`).

    Flask asks it of every hook and view on every request, and the answer (the function itself,
    or a wrapper for an ``async def`` one) depends on the function alone. The memo holds at most
    :attr:`SYNC_MEMO_SIZE` functions: hooks and views are a fixed set, and once it is full any
    further callable is answered afresh, not kept.
    """

    SYNC_MEMO_SIZE = 512
    request_class = VaultRequest
    url_rule_class = LazilyBuiltRule

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        super().__init__(import_name, **kwargs)
        self._sync_of: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._sync_of[func]
        except KeyError:
            sync = super().ensure_sync(func)
            if len(self._sync_of) < self.SYNC_MEMO_SIZE:
                self._sync_of[func] = sync
            return sync
        except TypeError:           # an unhashable callable
            return super().ensure_sync(func)

    def make_default_options_response(self) -> Response:
        """What a resource allows, in ``Allow``, and no content (RFC 9110 sec. 9.3.7): ``204``
        without a media type, where Flask answers ``200`` with an empty ``text/html`` body (on
        the brand API too, which answers nothing but JSON)."""
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = VaultFlask(__name__)
    app.json = DepthLimitedJSONProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_BYTES,
        MAX_FORM_PARTS=200,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    # The issuer and every absolute URL come from here, never from the request's Host.
    app.config["VRMVAULT_PUBLIC_URL"] = public_url(
        app.config["VRMVAULT_PUBLIC_URL"] or DEFAULT_PUBLIC_URL)

    if app.config["VRMVAULT_TRUST_PROXY"]:
        hops = app.config["VRMVAULT_TRUST_PROXY"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    # Around the app and any proxy fix, so a head over the limits is answered before anything
    # reads it (only the security headers' middleware, which reads no field, goes round it).
    app.wsgi_app = HeadLimits(app.wsgi_app, app)  # type: ignore[method-assign]

    vaults.init_app(app)
    mailing.init_app(app)
    app.session_interface = VaultSessionInterface()
    security.init_app(app)
    errors.init_app(app)
    init_filters(app)
    gpc.init_app(app)
    brand_gateway.init_app(app, stores=RequestStores(
        vault=vaults.get_vault, consent=vaults.get_consent, spool=vaults.get_spool,
        rate_counts=vaults.get_rate_counts, signed_in_member=current_member_id,
        master=vaults.get_master_key, clock=app.extensions["vrmvault"].clock,
        page_policy=security.CONTENT_SECURITY_POLICY))
    app.register_blueprint(auth.bp)
    app.register_blueprint(recovery.bp)
    app.register_blueprint(member.bp)
    app.register_blueprint(consents.bp)
    app.register_blueprint(gpc.bp)
    app.register_blueprint(access_views.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(console_brands.bp)
    app.register_blueprint(console_reports.bp)
    app.register_blueprint(console_ledger.bp)
    app.register_blueprint(console_requests.bp)
    app.register_blueprint(console_intents.bp)
    app.register_blueprint(communities.bp)
    app.register_blueprint(communities.invitations)
    app.register_blueprint(intents.bp)
    app.register_blueprint(loop.bp)
    app.register_blueprint(surveys.bp)
    public_log.init_app(app)
    app.register_blueprint(requests.bp)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    return app


def favicon() -> Response:
    """The icon, for the browsers and tools that ask for /favicon.ico whatever a page links.
    Read whole (it is tiny) rather than streamed, so no file stays open after the answer."""
    icon = Path(current_app.static_folder or "static", "favicon.svg").read_bytes()
    return Response(icon, mimetype="image/svg+xml")
