"""``PinnedSender``: a webhook goes to the address that was checked, over TLS that still names
and checks the endpoint's host (no second name lookup for DNS rebinding to exploit)."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from brand_gateway.errors import DestinationRefusedError
from brand_gateway.webhooks.delivery import PinnedSender
from tests.certificates import self_signed_files

HOST = "hooks.example.test"


def certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (its own CA) and its key, as PEM files."""
    return self_signed_files(tmp_path, name)


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Host"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads what was received, not the server's log."""


@pytest.fixture
def tls_receiver(tmp_path: Path, request) -> Iterator[tuple[int, Path, list]]:
    """A TLS receiver on 127.0.0.1 whose certificate names ``request.param`` (default HOST);
    its port, the CA file that trusts it, and what it received."""
    name = getattr(request, "param", HOST)
    cert_path, key_path = certificate(tmp_path, name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    handler = type("Handler", (Receiver,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert_path, handler.received
    finally:
        server.shutdown()
        server.server_close()


class Resolver:
    """The name's answers, one per lookup in turn; counts the lookups."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.lookups = 0

    def __call__(self, host: str, port: int, **_: object) -> list:
        assert host == HOST
        address = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def test_the_name_is_looked_up_once_and_the_checked_address_is_the_one_used(
        tls_receiver, monkeypatch):
    port, ca, received = tls_receiver
    # A rebinding name: 127.0.0.1 when checked, then somewhere else for any later lookup.
    resolver = Resolver("127.0.0.1", "10.1.2.3")
    real = socket.getaddrinfo

    def system_lookup(host, *args, **kwargs):
        assert host != HOST, "the name was looked up again after the check"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", system_lookup)
    send = PinnedSender(resolve=resolver, allowed=lambda address: True, verify=str(ca))
    result = send(f"https://{HOST}:{port}/in", b'{"type":"member.erased"}',
                  {"Content-Type": "application/json"}, 5.0)
    assert result.status == 204
    assert received == [(f"{HOST}:{port}", b'{"type":"member.erased"}')]
    assert resolver.lookups == 1


@pytest.mark.parametrize("tls_receiver", ["other.example.test"], indirect=True)
def test_the_certificate_must_still_name_the_endpoints_host(tls_receiver):
    port, ca, received = tls_receiver
    send = PinnedSender(resolve=Resolver("127.0.0.1"), allowed=lambda address: True,
                        verify=str(ca))
    with pytest.raises(requests.exceptions.SSLError):
        send(f"https://{HOST}:{port}/in", b"{}", {}, 5.0)
    assert received == []


def test_a_non_public_address_is_refused_before_any_connection(tls_receiver):
    port, ca, received = tls_receiver
    for address in ("127.0.0.1", "10.0.0.7", "169.254.169.254", "::1"):
        assert not ipaddress.ip_address(address).is_global
    send = PinnedSender(resolve=Resolver("127.0.0.1"), verify=str(ca))   # the real rule
    with pytest.raises(DestinationRefusedError):
        send(f"https://{HOST}:{port}/in", b"{}", {}, 5.0)
    assert received == []


def test_no_proxy_from_the_environment_is_used(tls_receiver, monkeypatch):
    port, ca, received = tls_receiver
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")      # nothing listens there
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    send = PinnedSender(resolve=Resolver("127.0.0.1"), allowed=lambda address: True,
                        verify=str(ca))
    assert send(f"https://{HOST}:{port}/in", b"{}", {}, 5.0).status == 204
    assert len(received) == 1
