"""``vrmvault serve`` as a server (``web/server.py``, uWSGI): a killed worker replaced while
the server goes on, one SIGINT stopping the server, uWSGI's router and workers and the children,
an access log without addresses or queries, and the head limits over the wire, the app's below
the server's.

Each test starts a real server on loopback; what is asserted is observed from outside (process
table, HTTP, the log), waiting on conditions with generous deadlines, never on sleeps.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import initialise_home
from tests.processes import stopped
from vault.home import VaultHome
from web.limits import TARGET_LIMIT
from web.server import HEAD_BUFFER

from .test_serve_children import _answers, _children
from .test_webhook_cli import _free_port, _gone, start_server


@pytest.fixture
def served(tmp_path: Path):
    home = initialise_home(VaultHome(tmp_path / "var"))
    log, port = tmp_path / "serve.log", _free_port()
    server = start_server(home, log, port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _status(url + "/login") == 200, log)
        yield server, url, log
    finally:
        stopped(server)


def _wait_for(condition, log: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def _status(url: str) -> int:
    return _answers(url, {})


def _workers(server: subprocess.Popen[bytes]) -> list[int]:
    found = []
    for pid in _tree(server.pid):
        try:
            if b"uWSGI worker" in Path(f"/proc/{pid}/cmdline").read_bytes() \
                    and not _gone(pid):
                found.append(pid)
        except OSError:
            continue
    return found


def _tree(pid: int) -> list[int]:
    found = [child for child in _children(pid) if not _gone(child)]
    return found + [grandchild for child in found for grandchild in _tree(child)]


def test_a_killed_worker_is_replaced_and_the_server_goes_on(served) -> None:
    server, url, log = served
    _wait_for(lambda: len(_workers(server)) == 1, log)
    first = _workers(server)[0]
    os.kill(first, signal.SIGKILL)
    _wait_for(lambda: _workers(server) not in ([], [first]), log)
    assert server.poll() is None and _status(url + "/login") == 200


def test_one_sigint_stops_the_server_its_workers_and_its_children(served) -> None:
    server, _, log = served
    # uWSGI's master, router and worker, the keeper, webhooks
    _wait_for(lambda: len(_tree(server.pid)) >= 5, log)
    family = _tree(server.pid)
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=60) == 0, log.read_text()
    _wait_for(lambda: all(_gone(pid) for pid in family), log)
    assert "Traceback" not in log.read_text()


def test_the_access_log_names_no_client_and_no_query(served) -> None:
    _, url, log = served
    assert _status(url + "/login?token=Secret-Quokka-Token") == 200
    _wait_for(lambda: '"GET /login" 200' in log.read_text(), log)
    line = next(line for line in log.read_text().splitlines() if '"GET /login" 200' in line)
    assert "Secret-Quokka-Token" not in log.read_text()
    assert "127.0.0.1" not in line


def test_a_path_cannot_write_lines_or_escapes_into_the_access_log(served) -> None:
    # Percent-decoded, this path is a line break, a forged line, a carriage return and a
    # terminal's escape sequence; %ZZ is decoded by uWSGI to a NUL.
    _, url, log = served
    host = url.removeprefix("http://").encode()
    forged = (b"/nope%0a01/Jan/2000:12:00:00%20+0000%20%22POST%20/member/delete%22%20200%2012"
              b"%201ms%0d%1b%5b31mRED")
    for path in (forged, b"/%ZZ", b"/caf%C3%A9"):
        assert _raw(url, b"GET " + path + b" HTTP/1.1\r\nHost: " + host
                    + b"\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 4")
    # One worker logs the requests in turn: the last one's line comes last.
    _wait_for(lambda: b'"GET /caf%C3%A9"' in log.read_bytes(), log)
    text = log.read_bytes()
    assert b"\x1b" not in text and b"\r" not in text and b"\x00" not in text, text[-2000:]
    assert not any(line.startswith(b"01/Jan/2000") for line in text.splitlines())
    assert (b'"GET /nope%0A01/Jan/2000:12:00:00%20+0000%20%22POST%20/member/delete%22%20200%2012'
            b'%201ms%0D%1B[31mRED" 404') in text
    assert b'"GET /%00" 400' in text and b'"GET /caf%C3%A9" 404' in text


def test_a_client_dropping_its_connection_is_not_logged_with_its_address(served) -> None:
    # uWSGI's router logs such a drop as "[uwsgi-http key: ... client_addr: ADDRESS ...]
    # hr_read(): Connection reset by peer"; web/server.py drains those lines.
    _, url, log = served
    host, port = url.removeprefix("http://").split(":")
    for _ in range(3):
        connection = socket.create_connection((host, int(port)), timeout=30)
        connection.sendall(b"GET /login HTTP/1.1\r\nHost: " + host.encode() + b"\r\n")
        time.sleep(0.2)                                     # the router has read it
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()                                  # a reset, not a close
    # A request after them: its line comes after whatever they made uWSGI log.
    assert _status(url + "/login?after=drops") == 200
    _wait_for(lambda: log.read_text().count('"GET /login" 200') >= 1, log)
    text = log.read_text()
    assert "client_addr" not in text and "Connection reset" not in text, text[-2000:]


def _raw(url: str, request: bytes) -> bytes:
    """What the server sends back before it closes (nothing if it reset the connection)."""
    host, port = url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=30) as connection, \
            contextlib.suppress(ConnectionResetError):
        connection.sendall(request)
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_heads_over_the_limits_get_clean_answers_over_the_wire(served) -> None:
    _, url, log = served
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/api/v1/member/profile?q=" + "Q" * TARGET_LIMIT)
        response = connection.getresponse()
        assert response.status == 414
        assert response.getheader("Content-Type") == "application/problem+json"
        assert json.loads(response.read())["title"] == "Request-URI Too Long"
        connection.close()
        connection.request("GET", "/api/v1/openapi.json", headers={"X-Long": "L" * 9000})
        response = connection.getresponse()
        assert response.status == 431
        assert response.getheader("Content-Type") == "application/problem+json"
        response.read()
    finally:
        connection.close()
    # A body in chunks: the router would pass it on empty; the app asks for its length. The
    # request goes in one write: the answer may come (and the connection close) as soon as the
    # head is read, and a client still writing chunks then would meet a broken pipe.
    answer = _raw(url, b"POST /api/v1/surveys HTTP/1.1\r\nHost: " + host.encode()
                  + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                  + b"Connection: close\r\n\r\n9\r\n{\"title\":\r\n5\r\n \"x\"}\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 411 "), answer[:200]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["status"] == 411
    # Far past them, up to the server's own buffer: still the app's answer, once.
    for head, status in ((b"GET /login?q=" + b"Q" * 20000 + b" HTTP/1.1\r\n", b"414"),
                         (b"GET /login HTTP/1.1\r\nX-Huge: " + b"H" * 40000 + b"\r\n", b"431"),
                         (b"GET /login HTTP/1.1\r\n"
                          + b"".join(b"X-F%d: v\r\n" % n for n in range(2000)), b"431")):
        answer = _raw(url, head + b"Host: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:200]
    # Past the buffer (web.server.HEAD_BUFFER): uWSGI's router drops the connection unanswered,
    # no worker is involved, and the server serves on.
    answer = _raw(url, b"GET /login HTTP/1.1\r\nX-Huge: " + b"H" * (HEAD_BUFFER + 1000)
                  + b"\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
    assert not answer.startswith(b"HTTP/"), answer[:200]
    # The router passes the target on twice over (the URI and the query apart), so a target of
    # half the buffer is dropped too, as the README says ("over about 30,000 bytes").
    answer = _raw(url, b"GET /login?q=" + b"Q" * (HEAD_BUFFER // 2) + b" HTTP/1.1\r\nHost: "
                  + host.encode() + b"\r\nConnection: close\r\n\r\n")
    assert not answer.startswith(b"HTTP/"), answer[:200]
    assert _status(url + "/api/v1/openapi.json") == 200
    assert "Traceback" not in log.read_text()


def test_expect_100_continue_is_answered_before_the_body_is_sent(served) -> None:
    _, url, log = served
    host, port = url.removeprefix("http://").split(":")
    body = b'{"title": "x"}'
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(b"POST /api/v1/surveys HTTP/1.1\r\nHost: " + host.encode()
                           + b"\r\nContent-Type: application/json\r\nContent-Length: "
                           + str(len(body)).encode() + b"\r\nExpect: 100-continue\r\n"
                           + b"Connection: close\r\n\r\n")
        answer = connection.recv(4096)              # nothing of the body sent yet
        assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), answer
        connection.sendall(body)
        while chunk := connection.recv(65536):
            answer += chunk
    # No token: refused (perhaps before the body arrived, then read all the same).
    final = answer.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert final.startswith(b"HTTP/1.1 401 "), answer[:200]


@pytest.mark.parametrize(("path", "size", "status"), [
    ("/api/v1/surveys", 2_000, b"401"),       # no token: refused before the body is read
    ("/api/v1/surveys", 100_000, b"401"),
    ("/login", 100_000, b"413"),              # a form over 64 KiB
])
def test_an_answer_given_before_the_body_is_read_reaches_the_client(
        served, path: str, size: int, status: bytes) -> None:
    # uWSGI's router drops the answer if the worker ends with the body unread (it then writes
    # into a closed socket): web.server.DrainedBodies reads it. Without it about half of these
    # answers were lost; twenty in a row all arrive.
    _, url, log = served
    host = url.removeprefix("http://").split(":")[0]
    body = b"field=" + b"x" * size
    for _ in range(20):
        answer = _raw(url, b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode()
                      + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      + b"Content-Length: " + str(len(body)).encode()
                      + b"\r\nConnection: close\r\n\r\n" + body)
        assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:200]
    assert "Traceback" not in log.read_text()
