"""Flask's session, kept on the server (``vault.sessions.SessionStore``).

The cookie holds only a random token. It is HttpOnly and SameSite=Lax, and Secure with the
``__Host-`` prefix everywhere except plain-HTTP loopback development (ASVS 5.0 V3.3). A session
row is written only once there is something to keep (a CSRF token, a signed-in member), so
crawlers do not fill the store. :func:`begin_member_session` gives a new token at sign-in (no
session fixation); :func:`end_session` deletes the row at sign-out.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, request, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from .vaults import get_vault

LOOPBACK_COOKIE = "vrmvault_session"
SECURE_COOKIE = "__Host-vrmvault_session"
#: Kept in the signed-out session after a deletion, so the next page may say it was done.
ACCOUNT_DELETED = "account_deleted"
_TOUCH_EVERY = 60


class VaultSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, data: dict[str, Any] | None = None, *, token: str | None = None,
                 member_id: str | None = None, last_seen: int = 0) -> None:
        def on_update(self: VaultSession) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.token = token
        self.member_id = member_id
        self.last_seen = last_seen
        self.modified = False
        self.begin_for: str | None = None     # set by begin_member_session
        self.ended = False


def is_loopback_http(req: Request) -> bool:
    if req.is_secure:
        return False
    host = urlsplit("//" + req.host).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cookie_name(req: Request) -> str:
    return LOOPBACK_COOKIE if is_loopback_http(req) else SECURE_COOKIE


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def device_label(user_agent: str) -> str:
    """A coarse, non-identifying label such as "Chrome on Linux" (no version, no build)."""
    agent = re.sub(r"[^\x20-\x7e]", "", user_agent or "")[:512]
    browser = next((name for token, name in _BROWSERS if token in agent), "A browser")
    system = next((name for token, name in _SYSTEMS if token in agent), "")
    if "HeadlessChrome" in agent:
        browser = "Headless Chrome"
    return f"{browser} on {system}" if system else browser


# Paths that never have a session: static files, the brand API, whose callers authenticate
# every request with a bearer token and must never get a cookie (brand_gateway/api/), and the
# public log, the same for everyone and read from files only (web/public_log.py). Flask gives
# these a null session: reading it finds nothing, writing to it fails loudly.
SESSIONLESS_PREFIXES = ("/static/", "/api/", "/log/")


class VaultSessionInterface(SessionInterface):
    def open_session(self, app: Flask, req: Request) -> VaultSession | None:
        if req.path.startswith(SESSIONLESS_PREFIXES):
            return None
        token = req.cookies.get(cookie_name(req))
        if token:
            record = get_vault().sessions.load(token)
            if record is not None:
                return VaultSession(record.data, token=token, member_id=record.member_id,
                                    last_seen=record.last_seen)
        return VaultSession()

    def save_session(self, app: Flask, sess: SessionMixin, response: Response) -> None:
        if not isinstance(sess, VaultSession):
            return
        name = cookie_name(request)
        secure = name == SECURE_COOKIE
        store = get_vault().sessions
        if sess.ended:
            if sess.token:
                store.delete(sess.token)
                sess.token = None
            if not dict(sess):  # e.g. a flash message set after sign-out needs a fresh row
                response.delete_cookie(name, path="/", secure=secure, httponly=True,
                                       samesite="Lax")
                return
        if sess.begin_for is not None:
            if sess.token:
                store.delete(sess.token)
            sess.token = store.create(member_id=sess.begin_for, data=dict(sess),
                                      device=device_label(request.user_agent.string))
        elif sess.token is None:
            if not (sess.modified or sess.ended) or not dict(sess):
                return
            sess.token = store.create(member_id=None, data=dict(sess),
                                      device=device_label(request.user_agent.string))
        elif sess.modified:
            store.save(sess.token, dict(sess))
            return
        else:
            if store.now() - sess.last_seen >= _TOUCH_EVERY:
                store.touch(sess.token)
            return
        response.set_cookie(name, sess.token, path="/", secure=secure, httponly=True,
                            samesite="Lax")


def current_member_id() -> str | None:
    sess = session
    return sess.member_id if isinstance(sess, VaultSession) else None


def begin_member_session(member_id: str) -> None:
    """Sign ``member_id`` in under a fresh token (the old one is deleted)."""
    sess = session
    assert isinstance(sess, VaultSession)
    sess.clear()
    sess.begin_for = member_id
    sess.member_id = member_id


def end_session() -> None:
    sess = session
    if isinstance(sess, VaultSession):
        sess.clear()
        sess.ended = True
        sess.member_id = None
