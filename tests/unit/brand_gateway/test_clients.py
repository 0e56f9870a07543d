"""Brands as confidential OAuth clients: redirect URIs, secrets at rest, authentication."""

from __future__ import annotations

import json

import pytest

from brand_gateway.clients import (
    MAX_REDIRECT_URIS,
    ClientRegistry,
    ClientSecretHasher,
    redirect_uri_problem,
    validate_redirect_uris,
)
from brand_gateway.errors import ClientAuthenticationError, ClientDisabledError
from vault.clock import FrozenClock
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.home import Vault

CALLBACK = "https://velo.example/oauth/callback"


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        (CALLBACK, True),
        ("https://velo.example:8443/cb?tenant=eu", True),
        ("http://127.0.0.1:8080/cb", True),
        ("http://[::1]:8080/cb", True),
        ("http://localhost/cb", True),
        ("https://localhost:9000/cb", True),
        ("http://example.com/cb", False),
        ("http://127.0.0.1.example.com/cb", False),
        ("https://velo.example/cb#frag", False),
        ("https://velo.example/cb#", False),
        ("/oauth/callback", False),
        ("velo.example/cb", False),
        ("//velo.example/cb", False),
        ("https://*.velo.example/cb", False),
        ("https://velo.example/*", False),
        ("ftp://velo.example/cb", False),
        ("javascript:alert(1)", False),
        ("com.velo.app:/cb", False),
        ("HTTPS://velo.example/cb", False),
        ("https://user:pw@velo.example/cb", False),
        ("https://velo.example:99999/cb", False),
        ("https://velo.example/c b", False),
        ("https://vélo.example/cb", False),
        ("https:///cb", False),
        ("", False),
        ("https://velo.example/" + "a" * 2000, False),
        ("https://[velo.example]/cb", False),          # brackets hold an IPv6 address only
        ("https://[v1.velo]/cb", False),               # an IPvFuture literal
        ("https://[fe80::1%25eth0]/cb", False),        # a zone: an interface of this machine
        # RFC 3986's reg-name takes ; , ' and the like, which no DNS name holds; the consent
        # screen writes the origin into its Content-Security-Policy.
        ("https://velo.example;script-src/cb", False),
        ("https://velo.example,/cb", False),
        ("https://velo.example'unsafe-inline'/cb", False),
        ("https://velo..example/cb", False),
        ("https://-velo.example/cb", False),
        ("https://xn--vlo-bma.example/cb", True),       # an international name's A-labels
        ("https://auth.velo.example./cb", True),
        ("https://[2001:db8::1]:8443/cb", True),
        ("https://velo.example/cb?next=a;b,c", True),  # only the host is held to DNS
    ],
)
def test_redirect_uri_rules(uri: str, allowed: bool) -> None:
    assert (redirect_uri_problem(uri) is None) is allowed


def test_an_upper_case_scheme_is_told_as_such() -> None:
    """Schemes are case-insensitive (RFC 3986 sec. 3.1), but endpoints are compared as exact
    strings: told to write it in lower case, not that it is no https URL."""
    assert redirect_uri_problem("HTTPS://velo.example/cb") == (
        "must write its scheme in lower case (https://): endpoints are compared as exact"
        " strings.")
    assert redirect_uri_problem("Http://127.0.0.1/cb") is not None


def test_redirect_uri_lists_are_bounded_and_deduplicated() -> None:
    assert validate_redirect_uris([CALLBACK, CALLBACK]) == (CALLBACK,)
    with pytest.raises(ValidationError, match="at least one"):
        validate_redirect_uris([])
    with pytest.raises(ValidationError, match="as a list"):
        validate_redirect_uris(CALLBACK)
    many = [f"https://velo.example/cb{i}" for i in range(MAX_REDIRECT_URIS + 1)]
    assert len(validate_redirect_uris(many[:-1])) == MAX_REDIRECT_URIS
    with pytest.raises(ValidationError, match=f"at most {MAX_REDIRECT_URIS}"):
        validate_redirect_uris(many)


def test_create_registers_the_brand_and_an_active_client(registry: ClientRegistry,
                                                         vault: Vault) -> None:
    client, secret = registry.create("Velo Bikes", [CALLBACK], ["bicycles", "Bicycles", "outdoor"])
    assert client.client_id.startswith("client_")
    assert client.active and client.status == "active"
    assert client.redirect_uris == (CALLBACK,)
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert set(client.grant_types) == {"authorization_code", "refresh_token",
                                       "client_credentials"}
    assert client.created_at == client.secret_rotated_at == 1_800_000_000
    brand = vault.brands.get(client.brand_id)
    assert (brand.name, brand.categories) == ("Velo Bikes", ("bicycles", "outdoor"))
    assert len(secret) >= 43  # 32 random bytes, base64url
    assert registry.get(client.client_id) == client
    assert registry.list() == [client]


def test_redirect_uris_match_exactly(registry: ClientRegistry) -> None:
    client, _ = registry.create("Velo Bikes", [CALLBACK])
    assert client.check_redirect_uri(CALLBACK)
    for near in (CALLBACK + "/", CALLBACK + "?x=1", CALLBACK.upper(),
                 "https://velo.example:443/oauth/callback", "https://velo.example/oauth/"):
        assert not client.check_redirect_uri(near)


@pytest.mark.parametrize(
    ("name", "uris", "categories", "message"),
    [
        ("", [CALLBACK], [], "needs a name"),
        ("Velo\nBikes", [CALLBACK], [], "not allowed"),
        ("Velo", ["http://example.com/cb"], [], "must use https"),
        ("Velo", [CALLBACK + "#x"], [], "fragment"),
        ("Velo", [], [], "at least one"),
        ("Velo", [CALLBACK], ["two words"], "lower-case"),
        ("Velo", [CALLBACK], ["bicycles", "bikes"], "Not in the intent catalog: bikes"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(registry: ClientRegistry, vault: Vault,
                                                     name, uris, categories, message) -> None:
    with pytest.raises(ValidationError, match=message):
        registry.create(name, uris, categories)
    assert vault.data.one("SELECT count(*) FROM brands")[0] == 0
    assert registry.list() == []


def test_a_brand_name_is_registered_once_and_a_failure_leaves_no_client(
        registry: ClientRegistry, vault: Vault) -> None:
    registry.create("Velo Bikes", [CALLBACK])
    with pytest.raises(ConflictError, match="exists already"):
        registry.create("Velo Bikes", ["https://other.example/cb"])
    assert len(registry.list()) == 1


def test_secrets_are_never_stored_in_clear(registry: ClientRegistry, vault: Vault) -> None:
    client, secret = registry.create("Velo Bikes", [CALLBACK])
    rotated = registry.rotate_secret(client.client_id)
    row = vault.data.one("SELECT * FROM oauth_clients")
    everything = repr(tuple(row)).encode() + b"".join(
        v for v in tuple(row) if isinstance(v, bytes))
    for value in (secret, rotated):
        assert value.encode() not in everything
        assert value not in repr(registry.get(client.client_id))
    # What is stored is the keyed hash bound to the client id.
    hasher = ClientSecretHasher.from_master(vault.master)
    assert row["client_secret_hash"] == hasher.hash(client.client_id, rotated)
    assert json.loads(row["redirect_uris"]) == [CALLBACK]


def test_authenticate_accepts_the_current_secret_only(registry: ClientRegistry) -> None:
    client, secret = registry.create("Velo Bikes", [CALLBACK])
    other, other_secret = registry.create("Green Grocer", ["https://grocer.example/cb"])
    assert registry.authenticate(client.client_id, secret) == client
    for client_id, attempt in ((client.client_id, secret + "x"), (client.client_id, ""),
                               (client.client_id, other_secret), ("client_nobody", secret),
                               (other.client_id, secret)):
        with pytest.raises(ClientAuthenticationError) as caught:
            registry.authenticate(client_id, attempt)
        # Unknown client and wrong secret are the same answer.
        assert type(caught.value) is ClientAuthenticationError
        assert caught.value.status == 401


def test_a_rotated_secret_stops_working_at_once(registry: ClientRegistry,
                                                clock: FrozenClock) -> None:
    client, old = registry.create("Velo Bikes", [CALLBACK])
    clock.advance(60)
    new = registry.rotate_secret(client.client_id)
    assert new != old
    assert registry.authenticate(client.client_id, new).client_id == client.client_id
    with pytest.raises(ClientAuthenticationError):
        registry.authenticate(client.client_id, old)
    assert registry.get(client.client_id).secret_rotated_at == 1_800_000_060


def test_a_disabled_client_cannot_authenticate(registry: ClientRegistry) -> None:
    client, secret = registry.create("Velo Bikes", [CALLBACK])
    disabled = registry.disable(client.client_id)
    assert disabled.status == "disabled" and not disabled.active
    assert registry.disable(client.client_id) == disabled  # idempotent
    with pytest.raises(ClientDisabledError):
        registry.authenticate(client.client_id, secret)
    # Only the right secret learns that the client is disabled.
    with pytest.raises(ClientAuthenticationError) as caught:
        registry.authenticate(client.client_id, "wrong")
    assert type(caught.value) is ClientAuthenticationError


@pytest.mark.parametrize("action", ["get", "disable", "rotate_secret"])
def test_unknown_clients_are_not_found(registry: ClientRegistry, action: str) -> None:
    with pytest.raises(NotFoundError):
        getattr(registry, action)("client_nobody")


def test_hashes_are_keyed_and_bound_to_the_client() -> None:
    one, two = ClientSecretHasher(b"\1" * 32), ClientSecretHasher(b"\2" * 32)
    assert one.hash("a", "s") != two.hash("a", "s")
    assert one.hash("a", "s") != one.hash("b", "s")
    assert one.verify("a", "s", one.hash("a", "s"))
    assert not one.verify("a", "t", one.hash("a", "s"))
