"""Global Privacy Control: only the value "1" counts; a signed-in member's signal is saved as an
opt-out of sale and sharing, shown on the terms page and honoured by the decision point; and
the GPC support resource at /.well-known/gpc.json."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from flask.testing import FlaskClient

from consent.context import Consent
from consent.grants import BrandRequest
from consent.model import Mode
from tests.conftest import GOOD_PASSWORD, AuthActions
from tests.functional.pages import text_of
from vault.brands import Brand
from vault.clock import FrozenClock
from vault.home import Vault
from web.gpc import gpc_signal

EMAIL = "alice@example.org"
OPTED_OUT = "opted out of sale/sharing via gpc"


@pytest.mark.parametrize(("raw", "counts"), [
    ("1", True),
    ("0", False),
    (" 1", False),
    ("1 ", False),
    ("true", False),
    ("True", False),
    ("01", False),
    ("1.0", False),
    ("", False),
    (None, False),
    # several Sec-GPC fields, joined by the server with commas: not the value "1"
    ("0, 1", False),
    ("0,1", False),
    ("true, 1", False),
    ("1, 0", False),
    ("1,0", False),
    ("1,1", False),
    ("0, 0", False),
    ("0,0", False),
    ("true, 0", False),
    ("0, true", False),
    ("0, 1 ", False),
])
def test_only_the_value_1_counts(raw: str | None, counts: bool) -> None:
    assert gpc_signal(raw) is counts


# -- through the app --------------------------------------------------------------------------
@pytest.fixture
def member(vault: Vault, consent: Consent, auth: AuthActions) -> str:
    member_id = vault.members.register(EMAIL, GOOD_PASSWORD)
    assert auth.login(EMAIL, GOOD_PASSWORD).status_code == 302
    return member_id


def terms_page(client: FlaskClient) -> str:
    response = client.get("/member/terms")
    assert response.status_code == 200
    return text_of(response.get_data(as_text=True)).lower()


def opt_out_box_checked(client: FlaskClient) -> bool:
    page = client.get("/member/terms").get_data(as_text=True)
    match = re.search(r'<input type="checkbox" name="sale_sharing_opt_out"[^>]*>', page)
    assert match, "no opt-out checkbox"
    return "checked" in match.group(0)


@pytest.mark.parametrize("path", ["/member/", "/member/terms", "/member/consents", "/"])
def test_a_members_gpc_request_is_saved_as_an_opt_out(client: FlaskClient, consent: Consent,
                                                      member: str, clock: FrozenClock,
                                                      path: str) -> None:
    assert not consent.terms.get(member).gpc_opt_out
    assert OPTED_OUT not in terms_page(client)
    clock.advance(60)

    response = client.get(path, environ_base={"HTTP_SEC_GPC": "1"})

    assert response.status_code < 400
    terms = consent.terms.get(member)
    assert terms.gpc_opt_out and terms.gpc_at == int(clock())
    assert OPTED_OUT in terms_page(client)
    assert opt_out_box_checked(client)


@pytest.mark.parametrize("value", ["0", "1, 1", "true", "", "yes", " 0\t", "1 1"])
def test_other_values_are_ignored(client: FlaskClient, consent: Consent, member: str,
                                  value: str) -> None:
    client.get("/member/", environ_base={"HTTP_SEC_GPC": value})
    assert not consent.terms.get(member).gpc_opt_out
    assert consent.terms.get(member).version == 0
    assert OPTED_OUT not in terms_page(client)


@pytest.mark.parametrize("value", [" 1", "1 ", "\t1\t", " \t1"])
def test_spaces_a_server_left_around_the_value_are_not_part_of_it(
        client: FlaskClient, consent: Consent, member: str, value: str) -> None:
    # RFC 9110 sec. 5.5: the value excludes the whitespace around it; uWSGI keeps the trailing
    # part, so the app trims it before reading any field (web/limits.py).
    client.get("/member/", environ_base={"HTTP_SEC_GPC": value})
    assert consent.terms.get(member).gpc_opt_out


def _get_over_http(base: str, cookie: str, fields: list[tuple[str, str]]) -> int:
    """A GET of /member/ over a real socket with exactly these header fields (repeats kept)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("GET", "/member/")
        connection.putheader("Cookie", cookie)
        for name, value in fields:
            connection.putheader(name, value)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(("fields", "counts"), [
    ([("Sec-GPC", "1"), ("Sec-GPC", "0")], False),
    ([("Sec-GPC", "0"), ("Sec-GPC", "1")], False),
    ([("Sec-GPC", "1"), ("Sec-GPC", "1")], False),
    ([("Sec-GPC", "  1")], True),              # the server strips the spaces before it
    ([("Sec-GPC", "1")], True),
])
def test_what_a_real_server_passes_on_is_what_counts(served: str, client: FlaskClient,
                                                     consent: Consent, member: str,
                                                     fields: list[tuple[str, str]],
                                                     counts: bool) -> None:
    """Through werkzeug's HTTP server, which joins repeated fields with a comma as uWSGI does
    (with a space after it): two fields, even both "1", are not the value "1"."""
    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    assert _get_over_http(served, cookie, fields) == 200
    assert consent.terms.get(member).gpc_opt_out is counts


def test_an_anonymous_request_does_nothing(app, consent: Consent, vault: Vault) -> None:
    someone = vault.members.register("bob@example.org", GOOD_PASSWORD)
    anonymous = app.test_client()
    for path in ("/", "/login", "/member/terms", "/.well-known/gpc.json"):
        anonymous.get(path, environ_base={"HTTP_SEC_GPC": "1"})
    assert vault.data.one("SELECT count(*) FROM member_terms")[0] == 0
    assert not consent.terms.get(someone).gpc_opt_out
    assert consent.ledger.size == 0


def test_gpc_overrides_an_earlier_explicit_setting(client: FlaskClient, auth: AuthActions,
                                                   consent: Consent, member: str) -> None:
    response = auth.post("/member/terms", {
        "agreement": "SD-BASE-ATP", "purposes": ["dpv:Marketing"], "max_days": "30"})
    assert response.status_code == 302
    assert not consent.terms.get(member).gpc_opt_out
    assert not opt_out_box_checked(client)

    client.get("/member/consents", environ_base={"HTTP_SEC_GPC": "1"})

    terms = consent.terms.get(member)
    assert terms.gpc_opt_out
    assert terms.purposes == {"dpv:Marketing"} and terms.max_days == 30
    assert OPTED_OUT in terms_page(client)


def test_the_signal_is_recorded_once(client: FlaskClient, consent: Consent,
                                     member: str) -> None:
    for _ in range(3):
        client.get("/member/", environ_base={"HTTP_SEC_GPC": "1"})
    assert consent.terms.get(member).version == 1
    # The terms changed, and one opt-out request (no brand holds the member's data: received,
    # the vault's part done, closed).
    tags = [consent.ledger.entry(seq).tag.value for seq in range(consent.ledger.size)]
    assert tags == ["consent:terms:changed", "dsr:request:received", "dsr:request:fulfilled",
                    "dsr:request:closed"]


def test_the_decision_point_honours_a_gpc_signal(client: FlaskClient, consent: Consent,
                                                 member: str, brand: Brand,
                                                 clock: FrozenClock) -> None:
    consent.terms.update(member, agreement="SD-BASE-ATP",
                         purposes=["dpv:Marketing", "dpv:CustomerCare"], max_days=30,
                         aggregate_allowed=False)
    offer = consent.agreements.proffer(member, brand.id)
    consent.agreements.brand_accepts(offer.id, brand.id)
    for purpose in ("dpv:Marketing", "dpv:CustomerCare"):
        consent.grants.grant(member, BrandRequest(brand.id, purpose, frozenset({"city"})))
    assert consent.decisions.decide(brand.id, "dpv:Marketing", member, "city",
                                    Mode.INDIVIDUAL, clock()).allowed

    client.get("/member/", environ_base={"HTTP_SEC_GPC": "1"})

    marketing = consent.decisions.decide(brand.id, "dpv:Marketing", member, "city",
                                         Mode.INDIVIDUAL, clock())
    assert not marketing.allowed and "GPC" in marketing.reason
    assert consent.decisions.decide(brand.id, "dpv:CustomerCare", member, "city",
                                    Mode.INDIVIDUAL, clock()).allowed


# -- the GPC support resource -----------------------------------------------------------------
def test_the_gpc_support_resource(app) -> None:
    response = app.test_client().get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = json.loads(response.get_data(as_text=True))
    assert set(document) == {"gpc", "lastUpdate"}
    assert document["gpc"] is True
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", document["lastUpdate"])
    assert dt.date.fromisoformat(document["lastUpdate"]) >= dt.date(2020, 10, 1)   # GPC began
