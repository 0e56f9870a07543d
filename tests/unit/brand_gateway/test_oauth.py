"""The OAuth server's pieces without HTTP: token storage, the Authlib adapters, the metadata."""

from __future__ import annotations

import hashlib

import pytest
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin

from brand_gateway.clients import ClientRegistry, ClientSecretHasher
from brand_gateway.oauth import (
    ENABLED_GRANT_TYPES,
    SCOPES,
    GatewayClient,
    GatewayToken,
    server_metadata,
)
from brand_gateway.storage import client_registry, token_store
from brand_gateway.tokens import (
    ACCESS_TOKEN_LIFETIME,
    TokenStore,
    new_access_token,
)
from vault.clock import FrozenClock
from vault.home import Vault

CALLBACK = "https://velo.example/oauth/callback"


@pytest.fixture
def tokens(vault: Vault, clock: FrozenClock) -> TokenStore:
    return token_store(database=vault.data, clock=clock)


@pytest.fixture
def client_id(registry: ClientRegistry) -> str:
    client, _ = registry.create("Velo Bikes", [CALLBACK])
    return client.client_id


def test_new_tokens_are_256_bit_and_distinct() -> None:
    made = {new_access_token() for _ in range(100)}
    assert len(made) == 100
    assert all(len(t) == 43 for t in made)      # 32 bytes, unpadded base64url


def test_a_token_is_stored_only_as_its_sha256(vault: Vault, tokens: TokenStore,
                                              client_id: str) -> None:
    token = new_access_token()
    tokens.save(token, client_id=client_id, grant_type="client_credentials",
                scope="webhooks:manage", expires_in=ACCESS_TOKEN_LIFETIME)
    rows = vault.data.all("SELECT * FROM oauth_access_tokens")
    assert len(rows) == 1
    assert bytes(rows[0]["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert all(token not in str(value) for value in tuple(rows[0]))


def test_find_revoke_and_expiry(tokens: TokenStore, clock: FrozenClock, client_id: str) -> None:
    token = new_access_token()
    saved = tokens.save(token, client_id=client_id, grant_type="client_credentials",
                        scope="webhooks:manage", expires_in=ACCESS_TOKEN_LIFETIME)
    assert tokens.find(token) == saved
    assert tokens.find(new_access_token()) is None
    assert tokens.find("") is None
    assert saved.active(clock())
    clock.advance(ACCESS_TOKEN_LIFETIME - 1)
    assert saved.active(clock())
    clock.advance(1)
    assert saved.is_expired(clock()) and not saved.active(clock())
    tokens.revoke(saved)
    first = tokens.find(token)
    assert first is not None and first.revoked_at == int(clock())
    clock.advance(5)
    tokens.revoke(saved)                          # idempotent: the first time stays
    assert tokens.find(token) == first


def test_revoke_all_for_client(tokens: TokenStore, client_id: str) -> None:
    made = [new_access_token() for _ in range(3)]
    for token in made:
        tokens.save(token, client_id=client_id, grant_type="client_credentials",
                    scope="webhooks:manage", expires_in=ACCESS_TOKEN_LIFETIME)
    assert tokens.revoke_all_for_client(client_id) == 3
    assert tokens.revoke_all_for_client(client_id) == 0
    assert all(record is not None and record.revoked
               for record in map(tokens.find, made))


def test_adapters_conform_to_authlib_mixins(registry: ClientRegistry, tokens: TokenStore,
                                            client_id: str, clock: FrozenClock) -> None:
    client = GatewayClient(registry.get(client_id))
    record = tokens.save(new_access_token(), client_id=client_id,
                         grant_type="client_credentials", scope="webhooks:manage",
                         expires_in=ACCESS_TOKEN_LIFETIME)
    token = GatewayToken(record, clock())
    assert isinstance(client, ClientMixin) and isinstance(token, TokenMixin)
    for name in ("get_client_id", "get_default_redirect_uri", "get_allowed_scope",
                 "check_redirect_uri", "check_client_secret", "check_endpoint_auth_method",
                 "check_response_type", "check_grant_type"):
        assert getattr(type(client), name) is not getattr(ClientMixin, name), name
    for name in ("check_client", "get_scope", "get_expires_in", "is_expired", "is_revoked"):
        assert getattr(type(token), name) is not getattr(TokenMixin, name), name
    assert token.check_client(client)
    assert token.get_expires_in() == ACCESS_TOKEN_LIFETIME
    assert not token.is_expired() and not token.is_revoked()


@pytest.mark.parametrize(
    ("requested", "allowed"),
    [
        ("webhooks:manage", "webhooks:manage"),
        ("webhooks:manage webhooks:manage", "webhooks:manage"),
        ("webhooks:manage admin", "webhooks:manage"),
        ("admin", None),
        ("intents:write", None),        # no such scope: intents are read-only to brands
        # The member-data flow carries no scope (authorization_details instead); the code
        # grant refuses a scope before this is asked, and client credentials refuse none.
        ("", ""),
        (None, ""),
    ],
)
def test_client_allowed_scope(registry: ClientRegistry, client_id: str, requested: str | None,
                              allowed: str | None) -> None:
    assert GatewayClient(registry.get(client_id)).get_allowed_scope(requested) == allowed


@pytest.mark.parametrize(
    ("grant_type", "allowed"),
    [("client_credentials", True), ("authorization_code", True), ("refresh_token", True),
     ("password", False), ("implicit", False), ("urn:ietf:params:oauth:grant-type:device_code",
                                                 False)],
)
def test_only_enabled_grants_are_allowed(registry: ClientRegistry, client_id: str,
                                         grant_type: str, allowed: bool) -> None:
    assert GatewayClient(registry.get(client_id)).check_grant_type(grant_type) is allowed


def test_client_secret_is_never_checked_by_authlib(registry: ClientRegistry,
                                                    client_id: str) -> None:
    client = GatewayClient(registry.get(client_id))
    secret = registry.rotate_secret(client_id)
    assert client.check_client_secret(secret) is False
    assert client.check_endpoint_auth_method("client_secret_basic", "token")
    assert not client.check_endpoint_auth_method("client_secret_post", "token")
    assert not client.check_endpoint_auth_method("none", "token")
    assert client.check_response_type("code")
    assert not client.check_response_type("token")          # no implicit grant
    assert not client.check_response_type("code token")


def test_server_metadata_fields() -> None:
    document = server_metadata("https://vault.example", authorization_endpoint="https://a",
                               token_endpoint="https://t", revocation_endpoint="https://r",
                               introspection_endpoint="https://i", jwks_uri="https://j")
    assert document["issuer"] == "https://vault.example"
    assert document["grant_types_supported"] == list(ENABLED_GRANT_TYPES) == [
        "authorization_code", "refresh_token", "client_credentials"]
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    assert document["scopes_supported"] == list(SCOPES)
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["authorization_endpoint"] == "https://a"
    assert document["jwks_uri"] == "https://j"
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["authorization_details_types_supported"] == ["vrmvault-member-data"]


def test_every_scope_is_described() -> None:
    assert SCOPES and all(description.strip() for description in SCOPES.values())
    assert all(":" in scope and " " not in scope for scope in SCOPES)


def test_disabling_a_client_revokes_its_live_tokens_at_once(vault, clock) -> None:

    registry = client_registry(database=vault.data, clock=clock,
                               hasher=ClientSecretHasher.from_master(vault.master))
    client, _ = registry.create("Velo Bikes", [CALLBACK])
    other, _ = registry.create("Fresh Grocer", ["https://grocer.example/cb"])
    tokens = token_store(database=vault.data, clock=clock)
    tokens.save("t" * 43, client_id=client.client_id, grant_type="client_credentials",
                scope="webhooks:manage", expires_in=600)
    tokens.save("u" * 43, client_id=other.client_id, grant_type="client_credentials",
                scope="webhooks:manage", expires_in=600)

    registry.disable(client.client_id)

    assert tokens.find("t" * 43).revoked_at is not None
    assert tokens.find("u" * 43).revoked_at is None       # another brand is untouched


def test_a_token_knows_its_client(app, vault, clock) -> None:
    from brand_gateway.oauth import GatewayToken

    registry = client_registry(database=vault.data, clock=clock,
                               hasher=ClientSecretHasher.from_master(vault.master))
    client, _ = registry.create("Velo Bikes", [CALLBACK])
    record = token_store(database=vault.data, clock=clock).save(
        "v" * 43, client_id=client.client_id, grant_type="client_credentials",
        scope="webhooks:manage", expires_in=600)
    with app.test_request_context("/oauth/introspect"):
        assert GatewayToken(record, clock()).get_client().get_client_id() == client.client_id
