"""``vrmvault brand``: the click group, run through click's runner under a small parent group
that passes the vault home in ``ctx.obj`` the way web/cli.py does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.errors import ClientAuthenticationError, ClientDisabledError
from brand_gateway.storage import client_registry, token_store
from vault.home import VaultHome
from vault.sqlcipher.database import Database
from web.brand_cli import brand
from web.cli import main

CALLBACK = "https://velo.example/oauth/callback"


def run(home: VaultHome, *args: str):
    return CliRunner().invoke(main, ["--home", str(home.root), "brand", *args],
                              env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)


def authenticate(home: VaultHome, client_id: str, secret: str):
    with home.open() as opened:
        registry = client_registry(database=opened.data, clock=opened.clock,
                                   hasher=ClientSecretHasher.from_master(opened.master))
        return registry.authenticate(client_id, secret)


def create(home: VaultHome, name: str = "Velo Bikes", *uris: str) -> dict:
    args = ["create", "--name", name]
    for uri in uris or (CALLBACK,):
        args += ["--redirect-uri", uri]
    result = run(home, *args, "--category", "bicycles")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_group_has_its_commands() -> None:
    assert brand.name == "brand"
    assert set(brand.commands) == {"create", "list", "disable", "rotate-secret"}


def test_create_prints_credentials_that_authenticate(vault_home: VaultHome) -> None:
    credentials = create(vault_home, "Velo Bikes", CALLBACK, "http://127.0.0.1:8080/cb")
    assert set(credentials) == {"client_id", "client_secret", "brand_id", "redirect_uris",
                                "scopes", "accepted_agreements"}
    assert credentials["accepted_agreements"] == ["SD-BASE"]
    assert credentials["redirect_uris"] == [CALLBACK, "http://127.0.0.1:8080/cb"]
    client = authenticate(vault_home, credentials["client_id"], credentials["client_secret"])
    assert client.brand_id == credentials["brand_id"]
    assert client.brand_name == "Velo Bikes"


def test_create_takes_only_categories_of_the_intent_catalog(vault_home: VaultHome) -> None:
    result = run(vault_home, "create", "--name", "Velo Bikes", "--redirect-uri", CALLBACK,
                 "--category", "bikes")
    assert result.exit_code == 2
    assert "'bikes' is not one of" in result.output
    assert "client_secret" not in result.output


def test_list_shows_the_clients_and_never_a_secret(vault_home: VaultHome) -> None:
    assert "No brands are registered" in run(vault_home, "list").output
    velo = create(vault_home, "Velo Bikes")
    grocer = create(vault_home, "Green Grocer", "https://grocer.example/cb")
    result = run(vault_home, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["CLIENT", "ID", "BRAND"]
    assert len(lines) == 3
    for credentials in (velo, grocer):
        assert credentials["client_id"] in result.output
        assert credentials["client_secret"] not in result.output
    assert "Green Grocer" in lines[1] and "Velo Bikes" in lines[2]
    assert "active" in lines[1]


def test_disabling_a_disabled_client_says_it_was_already(vault_home: VaultHome) -> None:
    client_id = create(vault_home)["client_id"]
    assert run(vault_home, "disable", client_id).output.startswith(f"Disabled {client_id}")
    again = run(vault_home, "disable", client_id)
    assert again.exit_code == 0, again.output
    assert again.output == f"{client_id} (Velo Bikes) was disabled already; nothing changed\n"


def test_disable_stops_the_client(vault_home: VaultHome) -> None:
    credentials = create(vault_home)
    result = run(vault_home, "disable", credentials["client_id"])
    assert result.exit_code == 0, result.output
    assert "Disabled" in result.output
    assert "disabled" in run(vault_home, "list").output
    with pytest.raises(ClientDisabledError):
        authenticate(vault_home, credentials["client_id"], credentials["client_secret"])


def test_rotate_secret_prints_a_new_secret_and_retires_the_old(vault_home: VaultHome) -> None:
    credentials = create(vault_home)
    result = run(vault_home, "rotate-secret", credentials["client_id"])
    assert result.exit_code == 0, result.output
    rotated = json.loads(result.stdout)
    assert rotated["client_id"] == credentials["client_id"]
    assert rotated["client_secret"] != credentials["client_secret"]
    authenticate(vault_home, rotated["client_id"], rotated["client_secret"])
    with pytest.raises(ClientAuthenticationError):
        authenticate(vault_home, credentials["client_id"], credentials["client_secret"])


def test_rotating_a_secret_revokes_the_access_tokens_issued_under_the_old(
        vault_home: VaultHome) -> None:
    """A secret is rotated because it may have leaked: the tokens its holder bought with it
    stop working with it; another client's do not."""
    credentials, other = create(vault_home), create(vault_home, "Other Bikes")
    with vault_home.open() as opened:
        tokens = token_store(database=opened.data, clock=opened.clock)
        for token, client in (("bought-with-the-old-secret", credentials), ("others", other)):
            tokens.save(token, client_id=client["client_id"], grant_type="client_credentials",
                        scope="intents:read", expires_in=600)
    assert run(vault_home, "rotate-secret", credentials["client_id"]).exit_code == 0
    with vault_home.open() as opened:
        tokens = token_store(database=opened.data, clock=opened.clock)
        now = opened.clock()
        bought, others = tokens.find("bought-with-the-old-secret"), tokens.find("others")
        assert bought is not None and others is not None
        assert bought.revoked and not bought.active(now)
        assert not others.revoked and others.active(now)


def test_a_disabled_clients_secret_is_not_rotated_nor_printed(vault_home: VaultHome) -> None:
    """Nothing enables a client again: a secret printed for one would be handed to the brand
    and never authenticate."""
    credentials = create(vault_home)
    assert run(vault_home, "disable", credentials["client_id"]).exit_code == 0
    result = run(vault_home, "rotate-secret", credentials["client_id"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {credentials['client_id']} is disabled: a new"
                                    " secret would never authenticate")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--name", "Velo", "--redirect-uri", "http://example.com/cb"], "https"),
        (["create", "--name", "Velo", "--redirect-uri", CALLBACK + "#top"], "fragment"),
        (["create", "--name", "Velo", "--redirect-uri", "/cb"], "absolute"),
        (["create", "--name", "Velo", "--redirect-uri", "https://*.velo.example/cb"],
         "wildcard"),
        (["create", "--name", "Velo", "--redirect-uri", "https://velo.example;sandbox/cb"],
         "DNS name"),
        (["create", "--name", "", "--redirect-uri", CALLBACK], "needs a name"),
        (["disable", "client_nobody"], "no client"),
        (["rotate-secret", "client_nobody"], "no client"),
        # What was typed is quoted, but not at any length: the line names the problem.
        (["disable", "client_" + "x" * 100_000], "no client 'client_xxx"),
        (["create", "--name", "Velo", "--redirect-uri", "http://e.example/" + "x" * 100_000],
         "at most 2000 characters"),
    ],
)
def test_bad_input_exits_1_with_one_line(vault_home: VaultHome, args, message) -> None:
    result = run(vault_home, *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(result.stderr) < 300
    assert "Traceback" not in result.output


def test_a_name_typed_in_latin1_is_a_wrong_command_line(vault_home: VaultHome) -> None:
    """'Café' from a Latin-1 terminal arrives as a lone surrogate (PEP 383): refused with
    status 2 and one line, not a traceback from the store, and nothing registered."""
    result = run(vault_home, "create", "--name", "Caf\udce9", "--redirect-uri", CALLBACK)
    assert result.exit_code == 2
    assert result.stderr == ("error: an argument holds the byte 0xe9, which is not UTF-8 text;"
                             " give names, ids and addresses in UTF-8\n")
    assert "Caf" not in run(vault_home, "list").output


def test_a_second_brand_of_the_same_name_is_refused(vault_home: VaultHome) -> None:
    create(vault_home, "Velo Bikes")
    result = run(vault_home, "create", "--name", "Velo Bikes", "--redirect-uri", CALLBACK)
    assert result.exit_code == 1
    assert "exists already" in result.stderr


def test_a_missing_redirect_uri_is_a_usage_error(vault_home: VaultHome) -> None:
    result = run(vault_home, "create", "--name", "Velo")
    assert result.exit_code == 2
    assert "--redirect-uri" in result.output


def test_a_store_with_pending_migrations_says_run_init(tmp_path: Path) -> None:
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    data = Database.open(home.data_path, home.master_key({}).derive("data-store"))
    data.execute("DELETE FROM store_migrations")      # as if made before its baseline
    data.close()
    result = run(home, "list")
    assert result.exit_code == 1
    assert "vrmvault init" in result.stderr


def test_no_store_says_run_init(tmp_path: Path) -> None:
    result = run(VaultHome(tmp_path / "nothing"), "list")
    assert result.exit_code == 1
    assert "vrmvault init" in result.stderr
