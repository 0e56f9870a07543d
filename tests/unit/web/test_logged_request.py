"""``web/server.py``'s ``logged_request``: what the access log shows of a request's method and
path. An ordinary request as it is; anything a client could use to write a line, a control
character or a terminal escape of its own into the log, percent-encoded; never past uWSGI's
255 bytes of a log variable."""

from __future__ import annotations

import pytest

from web.server import LOGGED_REQUEST_LIMIT, logged_request


@pytest.mark.parametrize(("method", "path", "shown"), [
    ("GET", "/api/v1/member/profile", "GET /api/v1/member/profile"),
    ("POST", "/oauth/token", "POST /oauth/token"),
    ("GET", "/nope\n01/Jan/2000 \"POST /x\" 200\r\x1b[31m",
     "GET /nope%0A01/Jan/2000%20%22POST%20/x%22%20200%0D%1B[31m"),
    ("GET", "/\x00", "GET /%00"),
    ("GET", "/caf\xc3\xa9", "GET /caf%C3%A9"),               # WSGI's ISO 8859-1 of UTF-8 bytes
    ("GET", "/100%", "GET /100%25"),                       # so an escaped path reads back
    ("GE\x1bT", "/a", "GE%1BT /a"),
    ("GET /x", "/a", "GET%20/x /a"),
])
def test_a_request_is_shown_escaped_where_it_must_be(method: str, path: str,
                                                     shown: str) -> None:
    assert logged_request(method, path) == shown


def test_a_long_request_is_cut_within_uwsgi_s_limit() -> None:
    shown = logged_request("GET", "/\n" * 400)
    assert len(shown) == LOGGED_REQUEST_LIMIT and shown.endswith("...")
    assert logged_request("GET", "/" + "a" * 300).endswith("a...")
