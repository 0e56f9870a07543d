"""``web/limits.py``: a request target or header block over the limits is answered 414 or 431
before anything reads it, problem+json under /api/ and the error page elsewhere, and a request
just within every limit is served as any other."""

from __future__ import annotations

import html
import json

import pytest

from web.limits import FIELD_COUNT, FIELD_LIMIT, HEAD_LIMIT, TARGET_LIMIT, trim_field_values

MARK = "Quokka"


def _filler(size: int) -> str:
    return (MARK * (size // len(MARK) + 1))[:size]


@pytest.mark.parametrize("path", ["/login", "/api/v1/member/profile"])
def test_a_target_over_the_limit_is_414_in_the_form_of_its_audience(client, path: str) -> None:
    query = "q=" + _filler(TARGET_LIMIT)
    response = client.get(f"{path}?{query}")
    assert response.status_code == 414
    body = response.get_data(as_text=True)
    assert MARK not in body                      # nothing of the refused request comes back
    if path.startswith("/api/"):
        assert response.mimetype == "application/problem+json"
        problem = json.loads(body)
        assert problem["status"] == 414 and problem["title"] == "Request-URI Too Long"
        assert problem["type"] == "about:blank"
    else:
        assert response.mimetype == "text/html"
        assert "The address asked for is longer than this server reads." in body


def test_a_target_at_the_limit_is_served(client) -> None:
    path = "/login"
    query = "q=" + _filler(TARGET_LIMIT - len(path) - 2)
    assert client.get(f"{path}?{query}").status_code == 200


@pytest.mark.parametrize(("headers", "detail"), [
    ({"X-Long": _filler(FIELD_LIMIT)}, f"longer than {FIELD_LIMIT:,} bytes"),
    ({f"X-Field-{n}": "1" for n in range(FIELD_COUNT + 1)}, f"more than {FIELD_COUNT} header"),
    ({f"X-Part-{n}": _filler(FIELD_LIMIT // 2) for n in range(2 * HEAD_LIMIT // FIELD_LIMIT + 1)},
     f"more than {HEAD_LIMIT:,} bytes"),
], ids=["one-field", "too-many", "all-together"])
def test_header_fields_over_a_limit_are_431_saying_which(client, headers: dict[str, str],
                                                         detail: str) -> None:
    response = client.get("/api/v1/member/profile", headers=headers)
    assert response.status_code == 431
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["title"] == "Request Header Fields Too Large" and detail in problem["detail"]
    assert MARK not in response.get_data(as_text=True)
    page = client.get("/login", headers=headers)
    assert page.status_code == 431 and page.mimetype == "text/html"
    assert detail in page.get_data(as_text=True)


def test_an_oversized_cookie_is_refused_before_the_session_is_read(app) -> None:
    client = app.test_client(use_cookies=False)          # the Cookie field sent as written
    response = client.get("/member/", headers={"Cookie": "session=" + _filler(FIELD_LIMIT)})
    assert response.status_code == 431
    assert "Set-Cookie" not in response.headers
    assert "clear this site's cookies" in html.unescape(response.get_data(as_text=True))


def test_fields_within_every_limit_are_served(client) -> None:
    headers = {f"X-Field-{n}": _filler(200) for n in range(FIELD_COUNT - 10)}
    assert client.get("/login", headers=headers).status_code == 200


def test_the_whitespace_around_field_values_is_trimmed_and_nothing_else() -> None:
    environ = {"HTTP_AUTHORIZATION": "Bearer abc \t", "CONTENT_TYPE": "\tapplication/json",
               "HTTP_X_INSIDE": "a  b", "HTTP_X_EMPTY": "", "PATH_INFO": "/a ",
               "QUERY_STRING": "q= ", "wsgi.input": object()}
    trim_field_values(environ)
    assert environ["HTTP_AUTHORIZATION"] == "Bearer abc"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["HTTP_X_INSIDE"] == "a  b" and environ["HTTP_X_EMPTY"] == ""
    assert environ["PATH_INFO"] == "/a " and environ["QUERY_STRING"] == "q= "


@pytest.mark.parametrize("path", ["/api/v1/surveys", "/login"])
def test_a_body_in_chunks_is_411_in_the_form_of_its_audience(client, path: str) -> None:
    # uWSGI's router would pass such a body on as empty: asked for its length instead.
    response = client.post(path, data=b'{"a": 1}', headers={"Transfer-Encoding": "chunked",
                                                             "Content-Type": "application/json"})
    assert response.status_code == 411
    if path.startswith("/api/"):
        problem = response.get_json()
        assert response.mimetype == "application/problem+json"
        assert problem["status"] == 411 and problem["title"] == "Length Required"
    else:
        assert response.mimetype == "text/html"
        assert "must say its length" in response.get_data(as_text=True)


@pytest.mark.parametrize("length", ["-5", "abc", "5, 5", "\u00b2", " "])
@pytest.mark.parametrize("path", ["/login", "/api/v1/communities"])
def test_a_content_length_that_is_no_length_is_400_saying_so(client, path: str,
                                                             length: str) -> None:
    # Werkzeug read these as no body: the API answered "not valid UTF-8 JSON".
    response = client.post(path, data=b'{"name": "x"}', content_type="application/json",
                           environ_overrides={"CONTENT_LENGTH": length})
    assert response.status_code == 400
    assert "The Content-Length is not valid" in response.get_data(as_text=True)
    assert response.mimetype == ("application/problem+json" if path.startswith("/api/")
                                 else "text/html")


@pytest.mark.parametrize("path", ["/%00", "/login%00", "/api/v1/member/profile%00"])
def test_a_nul_in_the_path_is_400_as_in_a_query_or_a_body(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert response.mimetype == ("application/problem+json" if path.startswith("/api/")
                                 else "text/html")
