"""web.config: who signed receipts name as the controller, from the operator's settings."""

from __future__ import annotations

import pytest

from consent.receipts import DEFAULT_CONTROLLER, PostalAddress
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
])
def test_a_malformed_controller_setting_is_refused(variable: str, value: str) -> None:
    with pytest.raises(SettingError, match=variable):
        from_environment({variable: value})
