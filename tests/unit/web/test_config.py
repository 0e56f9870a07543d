"""web.config: who signed receipts name as the controller, from the operator's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent.receipts import DEFAULT_CONTROLLER, PostalAddress
from vault.home import VaultHome
from web.config import SettingError, controller, from_environment

OPERATOR = {
    "VRMVAULT_PUBLIC_URL": "https://Vault.Example.NET/",
    "VRMVAULT_CONTROLLER_NAME": "Acme Vault BV",
    "VRMVAULT_CONTROLLER_CONTACT": "Data protection officer",
    "VRMVAULT_CONTROLLER_ADDRESS": "Keizersgracht 1; 1015 CC; Amsterdam; nl",
    "VRMVAULT_CONTROLLER_EMAIL": "dpo@acme.example",
    "VRMVAULT_CONTROLLER_PHONE": "+31 20 123 4567",
}


def test_the_operators_settings_and_public_url_make_the_controller() -> None:
    made = controller(from_environment(OPERATOR))
    assert (made.name, made.contact, made.email, made.phone) == (
        "Acme Vault BV", "Data protection officer", "dpo@acme.example", "+31 20 123 4567")
    assert made.address == PostalAddress("Keizersgracht 1", "1015 CC", "Amsterdam", "NL")
    assert made.url == "https://vault.example.net"
    assert made.withdrawal_url == "https://vault.example.net/member/consents"
    assert made.policy_url == "https://vault.example.net/"
    assert controller(from_environment({**OPERATOR, "VRMVAULT_PRIVACY_POLICY_URL":
                                        "https://acme.example/privacy"})).policy_url == \
        "https://acme.example/privacy"


def test_unset_it_is_the_demo_operator_at_the_default_public_url() -> None:
    made = controller(from_environment({}))
    assert (made.name, made.address) == (DEFAULT_CONTROLLER.name, DEFAULT_CONTROLLER.address)
    assert made.url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(("variable", "value"), [
    ("VRMVAULT_CONTROLLER_ADDRESS", "Keizersgracht 1, Amsterdam"),
    ("VRMVAULT_CONTROLLER_ADDRESS", "Keizersgracht 1; 1015 CC; Amsterdam; Holland"),
    ("VRMVAULT_CONTROLLER_EMAIL", "dpo at acme"),
    ("VRMVAULT_CONTROLLER_PHONE", "020 123 4567"),
    ("VRMVAULT_CONTROLLER_NAME", "Acme\nVault"),
    ("VRMVAULT_PRIVACY_POLICY_URL", "acme.example/privacy"),
    # Signed into every receipt: reversed text after an override, links no browser follows.
    ("VRMVAULT_CONTROLLER_NAME", "Acme \u202eytiruceS"),
    ("VRMVAULT_CONTROLLER_CONTACT", "DPO \u2067x"),
    ("VRMVAULT_PRIVACY_POLICY_URL", "https://acme example/privacy"),
    ("VRMVAULT_PRIVACY_POLICY_URL", "https://acme.example/our privacy"),
    ("VRMVAULT_PRIVACY_POLICY_URL", "https://acme_1.example/privacy"),
    ("VRMVAULT_PRIVACY_POLICY_URL", "https://user:s3cret@acme.example/privacy"),
    ("VRMVAULT_PRIVACY_POLICY_URL", "https://acme.example:99999/privacy"),
])
def test_a_malformed_controller_setting_is_refused(variable: str, value: str) -> None:
    with pytest.raises(SettingError, match=variable):
        from_environment({variable: value})


def test_an_international_privacy_policy_host_is_kept_as_a_browser_sends_it() -> None:
    settings = from_environment({"VRMVAULT_PRIVACY_POLICY_URL": "https://Exämple.org/privacy?x#a"})
    assert settings["VRMVAULT_PRIVACY_POLICY_URL"] == "https://xn--exmple-cua.org/privacy?x#a"


# -- the stores' place: PostgreSQL by two URLs, or SQLCipher files ---------------------------------
DATA_URL = "postgresql://vrmvault_data:s3cret-data@db.internal:5433/vrmvault?sslmode=verify-full"
KEYS_URL = "postgresql://vrmvault_keys:s3cret-keys@db.internal:5433/vrmvault_keys"


def test_two_database_urls_put_every_store_on_postgresql() -> None:
    settings = from_environment({"VRMVAULT_DATABASE_URL": DATA_URL,
                                 "VRMVAULT_KEYS_DATABASE_URL": KEYS_URL})
    home = VaultHome.configured(Path("var"), settings)
    assert home.engine == "postgresql"
    assert (home.database_url, home.keys_database_url) == (DATA_URL, KEYS_URL)
    assert "s3cret" not in repr(home)
    assert home.where == "the PostgreSQL database of VRMVAULT_DATABASE_URL"
    unset = VaultHome.configured(Path("var"), from_environment({}))
    assert unset.engine == "sqlcipher" and unset.where == "var"


def test_a_libpq_connection_string_is_taken_too() -> None:
    settings = from_environment({
        "VRMVAULT_DATABASE_URL": "host=/run/postgresql dbname=vrmvault user=vrmvault_data",
        "VRMVAULT_KEYS_DATABASE_URL": "host=/run/postgresql dbname=keys user=vrmvault_keys"})
    assert settings["VRMVAULT_DATABASE_URL"].endswith("user=vrmvault_data")


@pytest.mark.parametrize(("environment", "variable", "problem"), [
    ({"VRMVAULT_DATABASE_URL": DATA_URL}, "VRMVAULT_KEYS_DATABASE_URL", "are set together"),
    ({"VRMVAULT_KEYS_DATABASE_URL": KEYS_URL}, "VRMVAULT_DATABASE_URL", "are set together"),
    ({"VRMVAULT_DATABASE_URL": DATA_URL, "VRMVAULT_KEYS_DATABASE_URL":
      DATA_URL.replace("vrmvault_data:s3cret-data", "vrmvault_keys:s3cret-keys")},
     "VRMVAULT_KEYS_DATABASE_URL", "names the data database"),
    ({"VRMVAULT_DATABASE_URL": "mysql://u:s3cret@h/db", "VRMVAULT_KEYS_DATABASE_URL": KEYS_URL},
     "VRMVAULT_DATABASE_URL", "is not a postgresql:// URL"),
    ({"VRMVAULT_DATABASE_URL": "postgresql://u:s3cret@h:5432",
      "VRMVAULT_KEYS_DATABASE_URL": KEYS_URL}, "VRMVAULT_DATABASE_URL", "names no database"),
    ({"VRMVAULT_DATABASE_URL": DATA_URL, "VRMVAULT_KEYS_DATABASE_URL": "host='s3cret"},
     "VRMVAULT_KEYS_DATABASE_URL", "libpq can read"),
])
def test_a_database_url_that_cannot_be_used_is_refused_without_showing_it(
        environment: dict[str, str], variable: str, problem: str) -> None:
    with pytest.raises(SettingError) as refused:
        from_environment(environment)
    message = str(refused.value)
    assert message.startswith(variable) and problem in message
    assert "s3cret" not in message


@pytest.mark.parametrize(("variable", "value"), [
    ("VRMVAULT_CONTROLLER_NAME", "Caf\udce9 Vault"),      # Latin-1 bytes a UTF-8 locale kept
    ("VRMVAULT_CONTROLLER_CONTACT", "DPO \udcff"),
    ("VRMVAULT_MAIL_FROM", "vault <no-reply@caf\udce9.example>"),
    ("VRMVAULT_SMTP_URL", "smtp://user:s3cr\udce9t@mail.example:25"),
])
def test_a_value_that_is_not_utf8_text_is_refused_before_anything_runs(variable: str,
                                                                       value: str) -> None:
    """Python keeps a byte the locale could not decode as a lone surrogate (PEP 383): such a
    controller name passed, and the first receipt signed raised UnicodeEncodeError, halfway
    through ``init --demo``."""
    with pytest.raises(SettingError, match=variable) as refused:
        from_environment({variable: value})
    assert "not UTF-8 text" in str(refused.value) and "s3cr" not in str(refused.value)


def test_a_home_that_is_not_utf8_is_a_path_as_any_other(tmp_path: Path) -> None:
    """A file name is bytes: a folder whose name is not UTF-8 is still a folder."""
    home = f"{tmp_path}/vault-\udcff"
    assert from_environment({"VRMVAULT_HOME": home})["VRMVAULT_HOME"] == Path(home)
