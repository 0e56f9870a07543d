"""The one boundary answers every error of vrmvault from what its class carries.

Each exception class is raised from a route of the real app: on an API path it must come back
as exactly the RFC 9457 problem its attributes describe (status, type, title, detail, headers,
extension members), on a page as the error page with the same status and headers; a 500 must
never echo the exception's text, unless its class is ``operational`` (a state of the service,
answered as a 4xx is). An error that is also Authlib's ``OAuth2Error`` keeps the RFC 6749 form.
"""

from __future__ import annotations

import html

import pytest
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Flask
from flask.testing import FlaskClient

from brand_gateway.errors import InvalidAuthorizationDetailsError
from tests.unit.test_error_tree import CLASSES, instance, name_of
from vrmvault.errors import VrmvaultError

ERRORS = {cls.__name__: cls for cls in CLASSES
          if issubclass(cls, VrmvaultError) and not issubclass(cls, OAuth2Error)}
ANSWERED = [cls for cls in ERRORS.values() if cls.status < 500 or cls.operational]
INTERNAL = [cls for cls in ERRORS.values() if cls.status >= 500 and not cls.operational]
SECRET = "a message that must never reach a client"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    def raise_named(name: str) -> None:
        cls = ERRORS[name]
        error = instance(cls)
        if cls in INTERNAL:
            error.message = SECRET
            error.args = (SECRET,)
        raise error

    app.add_url_rule("/api/v1/raise/<name>", "raise_api", raise_named)
    app.add_url_rule("/raise/<name>", "raise_page", raise_named)
    return app.test_client()


@pytest.mark.parametrize("cls", ANSWERED, ids=name_of)
def test_an_api_request_gets_the_problem_the_class_describes(client: FlaskClient,
                                                             cls: type[VrmvaultError]) -> None:
    error = instance(cls)
    response = client.get(f"/api/v1/raise/{cls.__name__}")
    assert response.status_code == cls.status
    assert response.mimetype == "application/problem+json"
    assert response.get_json(force=True) == {
        "type": cls.problem_type(), "title": cls.title, "status": cls.status,
        "detail": error.public_detail(), **error.extensions()}
    for name, value in error.headers().items():
        assert response.headers[name] == value


@pytest.mark.parametrize("cls", ANSWERED, ids=name_of)
def test_a_page_request_gets_the_error_page(client: FlaskClient,
                                            cls: type[VrmvaultError]) -> None:
    error = instance(cls)
    response = client.get(f"/raise/{cls.__name__}", headers={"Accept": "text/html"})
    assert response.status_code == cls.status
    assert response.mimetype == "text/html"
    page = html.unescape(response.get_data(as_text=True))
    assert cls.title in page and error.public_detail() in page
    for name, value in error.headers().items():
        assert response.headers[name] == value


@pytest.mark.parametrize("path", ["/api/v1/raise/", "/raise/"])
@pytest.mark.parametrize("cls", INTERNAL, ids=name_of)
def test_an_internal_error_never_echoes_its_text(client: FlaskClient, path: str,
                                                 cls: type[VrmvaultError]) -> None:
    response = client.get(path + cls.__name__, headers={"Accept": "text/html"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert SECRET not in body and cls.__name__ not in body and cls.title not in body
    if path.startswith("/api/"):
        assert response.get_json(force=True)["type"] == "about:blank"


def test_an_error_that_is_also_oauths_keeps_the_rfc_6749_form(app: Flask) -> None:
    # Authlib's class comes first in its MRO, so Flask finds the OAuth handler first.
    def details() -> None:
        raise InvalidAuthorizationDetailsError(description="Too many authorization details.")

    app.add_url_rule("/api/v1/raise-details", "raise_details", details)
    response = app.test_client().get("/api/v1/raise-details")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "invalid_authorization_details",
                                   "error_description": "Too many authorization details."}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/v1/raise/", "/raise/"])
def test_an_unreachable_store_is_a_503_that_names_no_setting(client: FlaskClient,
                                                            path: str) -> None:
    """The database server down (PostgreSQL) was a 500; it is the service's state, told with
    Retry-After, and the message written for the operator (the setting, the cause) stays in
    the command line's and the log's reach."""
    from vault.errors import StoreUnreachableError

    operator = "cannot connect to VRMVAULT_DATABASE_URL: connection refused"
    assert StoreUnreachableError(operator).message == operator
    ERRORS["StoreUnreachableError"] = type("Raised", (StoreUnreachableError,), {
        "__init__": lambda self: StoreUnreachableError.__init__(self, operator)})
    try:
        response = client.get(path + "StoreUnreachableError",
                              headers={"Accept": "text/html"})
    finally:
        ERRORS["StoreUnreachableError"] = StoreUnreachableError
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    body = response.get_data(as_text=True)
    assert "VRMVAULT_DATABASE_URL" not in body and "refused" not in body
    assert "cannot be reached just now" in body
