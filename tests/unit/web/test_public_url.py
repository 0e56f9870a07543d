"""web.config: the public URL setting, what serve derives without it, and the trusted hosts."""

from __future__ import annotations

import pytest

from web.config import from_environment, public_url, public_url_for_bind, trusted_hosts

GOOD = {
    "https://vault.example": "https://vault.example",
    "https://Vault.Example/": "https://vault.example",
    "http://127.0.0.1:8000": "http://127.0.0.1:8000",
    "http://[::1]:8080": "http://[::1]:8080",
    # An international name as a browser's Host header names it (its A-labels).
    "https://Exämple.org": "https://xn--exmple-cua.org",
    "http://vault-1.internal:8000": "http://vault-1.internal:8000",
}
BAD = ["vault.example", "ftp://vault.example", "https://vault.example/path",
       "https://vault.example/?q=1", "https://vault.example/#f", "https://u@vault.example",
       "https://vault.example:99999", "https://", "http://[::1",
       # Hosts no request can name: each would be the issuer, and every request refused.
       "https://vault example.org", "https://vault_1.example", "https://vault..example",
       "https://vault.example.", "https://-vault.example", "https://vault%41.example",
       "https://1.2.3", "https://vault.example:0", "http://[fe80::1%25eth0]"]


@pytest.mark.parametrize(("text", "normalised"), GOOD.items())
def test_a_public_url_is_scheme_host_and_port_only(text: str, normalised: str) -> None:
    assert public_url(text) == normalised


@pytest.mark.parametrize("text", BAD)
def test_anything_else_is_refused_naming_the_variable(text: str) -> None:
    with pytest.raises(ValueError, match="VRMVAULT_PUBLIC_URL"):
        from_environment({"VRMVAULT_PUBLIC_URL": text})


@pytest.mark.parametrize(("host", "port", "url"), [
    ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
    ("0.0.0.0", 8010, "http://127.0.0.1:8010"),
    ("::", 8010, "http://127.0.0.1:8010"),
    ("::1", 9000, "http://[::1]:9000"),
    ("vault.internal", 80, "http://vault.internal:80"),
])
def test_serve_derives_the_public_url_from_where_it_binds(host: str, port: int,
                                                          url: str) -> None:
    assert public_url_for_bind(host, port) == url


def test_trusted_hosts_are_the_public_host_and_loopback_only_for_a_loopback_host() -> None:
    assert trusted_hosts("https://vault.example") == {"vault.example"}
    assert trusted_hosts("http://localhost") == {"localhost", "127.0.0.1", "[::1]"}
    assert trusted_hosts("http://[::1]:8000") == {"localhost", "127.0.0.1", "[::1]"}
    assert trusted_hosts("http://127.0.0.2:8000") == {"127.0.0.2", "localhost", "127.0.0.1",
                                                      "[::1]"}
