"""Response headers on every kind of answer: pages, redirects, errors, downloads, static files."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers
from werkzeug.http import parse_cache_control_header

from tests.apps import opened_app
from tests.brand_api_support import BrandApi, bearer
from web.security import API_CONTENT_SECURITY_POLICY

ANONYMOUS_PAGES = ["/", "/login", "/signup", "/login/code", "/member/", "/no/such/page"]
MEMBER_PAGES = ["/", "/member/", "/member/profile", "/member/feedback", "/member/security",
                "/member/delete", "/member/feedback/424242/edit"]


def csp_directives(headers: Headers) -> dict[str, str]:
    policy = headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value.strip()
    return directives


def assert_hardened(headers: Headers, *, cacheable: bool = False) -> None:
    directives = csp_directives(headers)
    assert directives.get("object-src") == "'none'"
    assert directives.get("frame-ancestors") == "'none'"
    assert directives.get("base-uri") == "'none'"
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert directives.get("default-src") == "'self'"
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") in {"no-referrer", "same-origin",
                                              "strict-origin-when-cross-origin"}
    assert headers.get("X-Frame-Options") == "DENY"
    cache = parse_cache_control_header(headers.get("Cache-Control"))
    assert cache.no_store is not cacheable


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_answers_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code in {200, 302, 404}
    assert_hardened(response.headers)


@pytest.mark.parametrize("path", MEMBER_PAGES)
def test_member_pages_are_never_cached(alice, path):
    response = alice.client.get(path)
    assert response.status_code in {200, 302, 404}
    assert_hardened(response.headers)
    assert response.headers.get("Pragma") == "no-cache"


def test_redirects_after_a_post_carry_the_headers(alice):
    response = alice.auth.post("/member/profile", {"given_name": "Alice"})
    assert response.status_code == 302
    assert_hardened(response.headers)


def test_refused_posts_carry_the_headers(client):
    response = client.post("/login", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400
    assert_hardened(response.headers)


def test_method_not_allowed_carries_the_headers(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert_hardened(response.headers)


@pytest.mark.parametrize(("path", "allowed"), [
    ("/login", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/api/v1/member/profile", {"GET", "HEAD", "OPTIONS"}),
    ("/api/v1/webhooks", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/oauth/token", {"POST", "OPTIONS"}),
])
def test_options_tells_the_methods_with_no_content(client, path, allowed):
    """RFC 9110 sec. 9.3.7: what the resource allows, and no body (not an empty text/html
    one, least of all on an API that answers JSON only)."""
    response = client.options(path)
    assert response.status_code == 204
    assert set(response.headers["Allow"].split(", ")) == allowed
    assert "Content-Type" not in response.headers and response.data == b""
    assert "Content-Length" not in response.headers     # RFC 9110 sec. 8.6, for a 204
    if path.startswith("/api/"):
        assert response.headers["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY
        assert response.headers["Cache-Control"] == "no-store"
    else:
        assert_hardened(response.headers)


def test_the_export_download_is_not_cached(alice):
    response = alice.auth.post("/member/export", form_page="/member/")
    assert response.mimetype == "application/zip"
    assert_hardened(response.headers)


@pytest.mark.parametrize("path", ["/static/style.css", "/static/app.js"])
def test_static_files_may_be_cached_but_are_still_hardened(client, path):
    with client.get(path) as response:
        assert response.status_code == 200
        assert_hardened(response.headers, cacheable=True)
        assert "Pragma" not in response.headers


def test_no_hsts_over_plain_http(client):
    for path in ("/", "/login"):
        assert "Strict-Transport-Security" not in client.get(path).headers


@pytest.mark.parametrize("path", ["/", "/login", "/member/", "/no/such/page"])
def test_hsts_over_https(client, path):
    response = client.get(path, base_url="https://vault.example.org")
    hsts = response.headers.get("Strict-Transport-Security", "")
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 365 * 24 * 60 * 60


def test_hsts_on_static_files_over_https(client):
    with client.get("/static/style.css", base_url="https://vault.example.org") as response:
        assert "max-age=" in response.headers.get("Strict-Transport-Security", "")


def test_pages_load_no_inline_script_or_style(alice):
    # The CSP forbids inline code, so the pages must not rely on any.
    for path in ("/", "/member/", "/member/profile", "/member/feedback", "/member/security"):
        page = alice.client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "<style" not in page
        assert " style=" not in page and " onclick=" not in page


def test_public_well_known_documents_keep_their_caching(client):
    for path in ("/.well-known/jwks.json", "/.well-known/gpc.json"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"].startswith("public, max-age="), path


def test_hsts_behind_a_trusted_proxy_follows_the_forwarded_scheme(vault_home, clock):
    """Behind a trusted TLS proxy the request reaches the app over plain HTTP: the forwarded
    scheme (read once the proxy fix has rewritten the request) decides, not the hop's."""
    with opened_app({"VRMVAULT_HOME": vault_home.root, "VRMVAULT_CLOCK": clock,
                     "VRMVAULT_PUBLIC_URL": "https://vault.example",
                     "VRMVAULT_TRUST_PROXY": 1}) as app:
        proxied = {"Host": "backend:8000", "X-Forwarded-Host": "vault.example"}
        over_tls = app.test_client().get("/login", headers={
            **proxied, "X-Forwarded-Proto": "https"})
        plain = app.test_client().get("/login", headers=proxied)
    assert over_tls.status_code == plain.status_code == 200
    assert "max-age=" in over_tls.headers.get("Strict-Transport-Security", "")
    assert "Strict-Transport-Security" not in plain.headers
    assert_hardened(over_tls.headers)


def test_the_brand_api_answers_with_an_apis_headers_only(brand_client, api: BrandApi, alice,
                                                           velo) -> None:
    """JSON for programs (OWASP REST Security Cheat Sheet): a CSP allowing nothing, nosniff,
    no framing, never stored; none of the page-only headers, and no HTTP/1.0 Pragma."""
    issued = api.member_token(alice.id, velo)
    answers = {
        "data": brand_client.get("/api/v1/member/profile", headers=bearer(issued.token),
                                 query_string={"purpose": "dpv:Personalisation"}),
        "401 problem": brand_client.get("/api/v1/member/profile"),
        "404 problem": brand_client.get("/api/nothing-here"),
        "document": brand_client.get("/api/v1/openapi.json"),
    }
    for what, response in answers.items():
        headers = response.headers
        assert csp_directives(headers) == {"default-src": "'none'",
                                           "frame-ancestors": "'none'"}, what
        assert headers.get("X-Content-Type-Options") == "nosniff", what
        assert headers.get("X-Frame-Options") == "DENY", what
        assert parse_cache_control_header(headers.get("Cache-Control")).no_store, what
        for page_only in ("Referrer-Policy", "Cross-Origin-Opener-Policy",
                          "Permissions-Policy", "Pragma"):
            assert page_only not in headers, (what, page_only)
    assert answers["data"].status_code == 200
    assert answers["401 problem"].status_code == 401
    assert answers["404 problem"].status_code == 404


def test_the_oauth_endpoints_keep_the_page_headers(client) -> None:
    """Not under /api/: the token endpoint's answers keep Pragma (RFC 6749 sec. 5.1)."""
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.headers.get("Pragma") == "no-cache"
    assert "Referrer-Policy" in response.headers
