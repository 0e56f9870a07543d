"""The README's "For brands" Python script, run as written, through to the signed webhook.

The script is taken from the README verbatim (the fenced block that starts with
``# brand_example.py``) and run as a separate process against the app served over HTTP, after
the README's first walkthrough block registered the brand (under bash, with the real
``vrmvault`` command; ``VAULT`` and ``BRAND_PORT`` are the README's overridable defaults). The
member's side (sign up, terms, approve, withdraw) is driven over HTTP like a browser; webhook
delivery is one dispatcher pass, as the delivery loop of ``vrmvault serve`` would run it on the
app's frozen clock. ``tests/functional/test_readme_shell.py`` runs every shell block as written
against a real ``vrmvault serve``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue

import pytest
import requests

from brand_gateway.storage import webhook_dispatcher
from brand_gateway.webhooks.signing import WebhookSigner
from tests.conftest import GOOD_PASSWORD, Inbox, csrf_from, follow_signup_link
from vault.clock import FrozenClock
from vault.home import Vault, VaultHome

README = Path(__file__).resolve().parents[2] / "README.md"
SCRIPT_MARK = "# brand_example.py"
_FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)
_SCREEN = re.compile(r'name="screen" value="([^"]+)"')


def brands_section() -> str:
    text = README.read_text()
    start = text.index("## For brands")
    return text[start:text.index("\n## ", start + 1)]


def blocks(language: str) -> list[str]:
    return [body for lang, body in _FENCE.findall(brands_section()) if lang == language]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bash(command: str, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env, text=True,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, (command, done.stderr)
    return done.stdout


@pytest.fixture
def shell_env(vault_home: VaultHome, served: str) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "VRMVAULT_HOME": str(vault_home.root), "VAULT": served}


class Script:
    """The README's script in its own process; its output read line by line."""

    def __init__(self, source: str, env: dict[str, str], workdir: Path) -> None:
        path = workdir / "brand_example.py"
        path.write_text(source)
        self.process = subprocess.Popen([sys.executable, str(path)], env=env, text=True,
                                        cwd=workdir, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.lines: Queue[str] = Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line.rstrip("\n"))

    def expect(self, prefix: str, timeout: float = 60) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except Empty:
                self.process.kill()
                _, err = self.process.communicate()
                raise AssertionError(f"no {prefix!r} line; saw {self.seen}; stderr: {err}"
                                     ) from None
            self.seen.append(line)
            if line.startswith(prefix):
                return line


@pytest.fixture
def script_runner(tmp_path: Path) -> Iterator[list[Script]]:
    started: list[Script] = []
    yield started
    for script in started:
        if script.process.poll() is None:
            script.process.kill()
        script.process.communicate()


def test_the_walkthrough_runs_as_written(served: str, shell_env: dict[str, str],
                                         vault: Vault, clock: FrozenClock, tmp_path: Path,
                                         script_runner: list[Script], inbox: Inbox) -> None:
    port = free_port()
    # 1. Register the brand and its webhook receiver with the block as printed.
    shell_env = {**shell_env, "BRAND_PORT": str(port)}
    client_id, client_secret = bash(blocks("sh")[0] + '\nprintf "%s\\n" "$CLIENT_ID" '
                                    '"$CLIENT_SECRET"', shell_env).splitlines()[-2:]
    env = {**shell_env, "CLIENT_ID": client_id, "CLIENT_SECRET": client_secret}

    # The member: a vault, and terms that accept the purpose the brand asks for.
    member = requests.Session()
    page = member.get(served + "/signup", timeout=10).text
    member.post(served + "/signup", data={"csrf_token": csrf_from(page),
                                          "email": "reader@example.org",
                                          "password": GOOD_PASSWORD}, timeout=10)
    follow_signup_link(member, inbox.links("reader@example.org")[0])
    page = member.get(served + "/member/terms", timeout=10).text
    saved = member.post(served + "/member/terms", timeout=10, data={
        "csrf_token": csrf_from(page), "agreement": "SD-BASE",
        "purposes": ["dpv:ServiceProvision"], "max_days": "90"})
    assert saved.ok
    page = member.get(served + "/member/profile", timeout=10).text
    assert member.post(served + "/member/profile", timeout=10, data={
        "csrf_token": csrf_from(page), "given_name": "Rea", "city": "Leiden"}).ok

    # 2-4. The script: authorize, exchange, read, verify the receipt.
    source = next(b for b in blocks("python") if b.startswith(SCRIPT_MARK))
    script = Script(source, env, tmp_path)
    script_runner.append(script)
    url = script.expect("Open this address").split(": ", 1)[1]
    screen = member.get(url, timeout=10)
    assert "asks to see some of your data" in screen.text
    answered = member.post(url, timeout=10, data={
        "csrf_token": csrf_from(screen.text), "screen": _SCREEN.search(screen.text).group(1),
        "decision": "approve", "fields-0": ["given_name", "city"]})
    assert answered.ok      # followed the redirect to the script's callback
    granted = json.loads(script.expect("Granted: ").split(": ", 1)[1])
    assert granted[0]["datatypes"] == ["given_name", "city"]
    shared = script.expect("Member ")
    assert shared.endswith("shared {'given_name': 'Rea', 'city': 'Leiden'} withheld []")
    assert script.expect("Receipt verified: ")

    # 5. The member withdraws; the next delivery pass brings the script a signed webhook.
    page = member.get(served + "/member/consents", timeout=10).text
    grant_id = re.search(r'/member/consents/(grant_[0-9a-f]+)/withdraw', page).group(1)
    member.post(f"{served}/member/consents/{grant_id}/withdraw", timeout=10,
                data={"csrf_token": csrf_from(page)})
    report = webhook_dispatcher(database=vault.data, clock=clock,
                               signer=WebhookSigner.from_master(vault.master)).deliver_due()
    assert report.delivered == 1
    assert script.expect("Webhook verified: consent.withdrawn")
    assert script.process.wait(timeout=60) == 0          # a bound for a loaded machine
