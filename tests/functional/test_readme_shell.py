"""The README's shell blocks, pasted as written into a new shell, against a served demo store.

Every fenced ``sh`` block of the README runs, in order, in one ``bash -euo pipefail`` with a
fresh environment: a PATH without the project's virtualenv (the README's own PATH step is what
finds ``vrmvault``), the checkout as the working folder, and only what a reader's shell would
differ in: ``VRMVAULT_HOME`` (a demo store made by ``vrmvault init --demo`` in a temporary
folder, where a reader's is ``./var``), ``VAULT`` (the free port a real ``vrmvault serve`` listens
on, where ``make run`` listens on 8000) and ``BRAND_PORT`` (a free port for 8400). The README
lets the last two be overridden (``${VAULT:-…}``) so that no command is edited here.

Not run, and why:
- the first block (``make run`` and ``make test``): they install, serve and run the whole suite;
  this test is part of that suite and serves the store itself;
- the PostgreSQL operator's commands (``console`` blocks under "Running on PostgreSQL"): they
  need a PostgreSQL server, two roles and a dump; ``tests/functional/test_postgresql_restore.py``
  runs the restore's steps and ``tests/functional/test_two_hosts.py`` the hosts';
- the Python script (a ``python`` block): ``tests/functional/test_readme_brands.py`` runs it,
  through to the signed webhook. Here it is only started between the blocks where the README
  says to run it, and the member approves its request (a browser's part, over HTTP).

Each command must exit 0 and print what the README says it prints (its ``# prints:`` comment);
every command of the blocks has an expectation here, so a new one cannot go unchecked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from brand_gateway.intents_wiring import intent_service
from consent.context import open_consent
from demo.members import DEMO_PASSWORD, SHOWCASE_EMAIL
from intents.model import IntentDraft
from tests.conftest import csrf_from
from tests.processes import stopped
from vault.home import VaultHome

from .test_readme_brands import README, SCRIPT_MARK, free_port

_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
_SCREEN = re.compile(r'name="screen" value="([^"]+)"')
_MARK = "@@command "
VENV_BIN = Path(sys.executable).parent
CHECKOUT = README.parent


def fenced(language: str) -> list[str]:
    return [body for lang, body in _FENCE.findall(README.read_text()) if lang == language]


def commands(block: str) -> list[tuple[str, str]]:
    """(command, its ``# prints:`` text) for each command of ``block``, as written: a command
    runs on over lines that end in a backslash; whole-line comments and blank lines are none."""
    found: list[tuple[str, str]] = []
    lines: list[str] = []
    for line in block.splitlines():
        if not lines and (not line.strip() or line.lstrip().startswith("#")):
            continue
        lines.append(line)
        if not line.endswith("\\"):
            text = "\n".join(lines)
            comment = line.split("  # ", 1)[1] if "  # " in line else ""
            found.append((text, comment.split("prints: ", 1)[1] if "prints: " in comment else ""))
            lines = []
    assert not lines, "a block ends in a continuation line"
    return found


def shell_blocks() -> list[list[tuple[str, str]]]:
    blocks = fenced("sh")
    first = [c for c, _ in commands(blocks[0])]
    assert [c.split("#")[0].strip() for c in first] == ["make run", "make test"]
    return [commands(block) for block in blocks[1:]]


# -- what each command prints: the README's "# prints:" and a closer look ------------------------
Check = Callable[[str, dict[str, Any]], None]


def silent(output: str, _: dict[str, Any]) -> None:
    assert output == "", output


def json_of(output: str) -> Any:
    return json.loads(output)


def profile(fields: set[str]) -> Check:
    def check(output: str, seen: dict[str, Any]) -> None:
        answer = json_of(output)
        assert set(answer) == {"subject", "purpose", "profile", "withheld"}, answer
        assert set(answer["profile"]) | set(answer["withheld"]) == fields, answer
        assert answer["profile"], answer
        seen.setdefault("subject", answer["subject"])
        assert answer["subject"] == seen["subject"]
    return check


def receipts(output: str, seen: dict[str, Any]) -> None:
    answer = json_of(output)
    assert answer["subject"] == seen["subject"]
    assert answer["receipts"] and all(r["receipt"].count(".") == 2 for r in answer["receipts"])
    assert answer["jwks_uri"].endswith("/.well-known/jwks.json")


def webhooks_listed(output: str, seen: dict[str, Any]) -> None:
    listed = json_of(output)["webhooks"]
    assert [e["url"] for e in listed] == [f"http://127.0.0.1:{seen['brand_port']}/webhook"]
    assert [e["id"] for e in listed] == [seen["endpoint_id"]]     # the one the CLI printed


def webhook_added(output: str, seen: dict[str, Any]) -> None:
    added = json_of(output)["webhook"]
    assert added["url"] == f"http://127.0.0.1:{seen['brand_port']}/hooks"
    assert re.fullmatch(r"whk_[0-9a-f]{24}", added["id"])


def endpoint_added(output: str, seen: dict[str, Any]) -> None:
    added = re.match(r"Added webhook endpoint (whk_[0-9a-f]{24}) ", output)
    assert added is not None, output
    seen["endpoint_id"] = added[1]
    assert f"http://127.0.0.1:{seen['brand_port']}/webhook" in output


def insight(kind: str) -> Check:
    def check(output: str, _: dict[str, Any]) -> None:
        answer = json_of(output)
        assert answer["query"]["kind"] == kind, answer
        assert answer["privacy"]["noise_scale"] > 0 and answer["groups"], answer
    return check


def sensitive_refused(output: str, _: dict[str, Any]) -> None:
    problem = json_of(output)
    assert problem["status"] == 400 and "sensitive" in problem["errors"]["attribute"][0]


def survey_published(output: str, _: dict[str, Any]) -> None:
    answer = json_of(output)
    assert answer["survey"]["id"].startswith("srv_"), answer
    assert [q["kind"] for q in answer["survey"]["questions"]] == ["rating", "single"], answer
    assert answer["survey"]["audience"]["minimum"] == 50, answer


def survey_results(output: str, _: dict[str, Any]) -> None:
    answer = json_of(output)
    assert answer["query"]["kind"] == "survey" and answer["epsilon"] == 1.0, answer
    # The demo survey's five questions but its text: never counted, never released.
    assert [q["kind"] for q in answer["questions"]] == ["rating", "nps", "single", "multiple"]
    assert all(q["privacy"]["noise_scale"] > 0 and q["groups"] for q in answer["questions"])


def intents_listed(output: str, seen: dict[str, Any]) -> None:
    answer = json_of(output)
    assert set(answer) == {"intents", "next_cursor"}, answer
    assert answer["intents"], "the demo store has open intents in Spokesmith's categories"
    for intent in answer["intents"]:
        assert intent["id"].startswith("i-") and intent["your_offers"] == 0, intent
        assert set(intent["budget"]) == {"min", "max", "currency"}, intent
    seen["intent"] = answer["intents"][0]["id"]


def offer_open(output: str, seen: dict[str, Any]) -> None:
    offer = json_of(output)["offer"]
    assert offer["id"].startswith("off_") and offer["intent"] == seen["intent"], offer
    assert offer["status"] == "open" and offer["subject"] is None and offer["fields"] == []


def vega_lite(output: str, _: dict[str, Any]) -> None:
    assert output == "https://vega.github.io/schema/vega-lite/v5.json", output


EXPECTED: tuple[tuple[str, Check], ...] = (
    ('PATH="$PWD/.venv/bin:$PATH"', silent),
    ("export VAULT=", silent),
    ("CREDENTIALS=$(vrmvault brand create ", silent),
    ("CLIENT_ID=$(python3 -c ", silent),
    ("CLIENT_SECRET=$(python3 -c ", silent),
    ("export CLIENT_ID CLIENT_SECRET", silent),
    ("vrmvault webhooks add ", endpoint_added),
    ("TOKEN=$(python3 -c ", silent),
    ('curl -sS --fail-with-body "$VAULT/api/v1/member/profile" ',
     profile({"given_name", "city", "preferred_language"})),
    ('curl -sS --fail-with-body "$VAULT/api/v1/member/profile?fields=given_name,city" ',
     profile({"given_name", "city"})),
    ('curl -sS --fail-with-body "$VAULT/api/v1/member/receipts" ', receipts),
    ("BRAND_TOKEN=$(curl ", silent),
    ('curl -sS --fail-with-body "$VAULT/api/v1/webhooks" ', webhooks_listed),
    ('curl -sS --fail-with-body -X POST "$VAULT/api/v1/webhooks" ', webhook_added),
    ("INSIGHTS_TOKEN=$(curl ", silent),
    ('curl -sS --fail-with-body "$VAULT/api/v1/insights/touchpoints?purpose=dpv:ServiceOptimisation'
     '&touchpoints=', insight("touchpoints")),
    ('curl -sS --fail-with-body "$VAULT/api/v1/insights/profile?', insight("profile")),
    ('curl -sS "$VAULT/api/v1/insights/profile?', sensitive_refused),
    ('curl -sS --fail-with-body "$VAULT/api/v1/insights/touchpoints?purpose=dpv:ServiceOptimisation'
     '&format=vega-lite"', vega_lite),
    ("read -r DEMO_CLIENT_ID DEMO_CLIENT_SECRET < <(python3 -c ", silent),
    ("SURVEY_TOKEN=$(curl ", silent),
    ("COMMUNITY=$(curl ", silent),
    ("CLOSES=$(python3 -c ", silent),
    ('curl -sS --fail-with-body -X POST "$VAULT/api/v1/surveys" ', survey_published),
    ("WINTER=$(curl ", silent),
    ('curl -sS --fail-with-body "$VAULT/api/v1/insights/surveys/$WINTER?', survey_results),
    ("OFFERS_TOKEN=$(curl ", silent),
    ('curl -sS --fail-with-body "$VAULT/api/v1/intents?limit=2"', intents_listed),
    ("read -r INTENT CURRENCY PRICE < <(curl ", silent),
    ("VALID_UNTIL=$(python3 -c ", silent),
    ("OFFER=$(curl ", silent),
    ('curl -sS --fail-with-body "$VAULT/api/v1/offers/$OFFER"', offer_open),
)


def expectation(command: str) -> Check:
    matching = [check for prefix, check in EXPECTED if command.startswith(prefix)]
    assert len(matching) == 1, f"no single expectation for a README command: {command}"
    return matching[0]


def as_printed(claim: str, output: str) -> None:
    """The README's ``# prints:`` claim holds: its text up to the first ``…``, or the JSON
    keys it names."""
    keys = re.findall(r'"(\w+)":', claim)
    if keys:
        document = json_of(output)
        items = [document] + [v[0] for v in document.values() if isinstance(v, list) and v] + \
            [v for v in document.values() if isinstance(v, dict)]
        for key in keys:
            assert any(key in item for item in items if isinstance(item, dict)), (claim, output)
    elif claim and not claim.startswith("the same"):
        assert output.startswith(claim.split("…")[0].rstrip()), (claim, output)


# -- the served demo store ------------------------------------------------------------------------
@pytest.fixture
def served_demo(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    home = tmp_path / "var"
    environment = {k: v for k, v in os.environ.items() if k != "VRMVAULT_MASTER_KEY"}
    environment["VRMVAULT_WEBHOOK_ALLOW_LOOPBACK"] = "1"     # as the README says to start it
    subprocess.run([str(VENV_BIN / "vrmvault"), "--home", str(home), "init", "--demo", "3"],
                   env=environment, check=True, capture_output=True, timeout=120)
    cast_an_intent_for_spokesmith(VaultHome(home))
    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [str(VENV_BIN / "vrmvault"), "--home", str(home), "serve", "--port", str(port),
             "--workers", "1"], stdout=output, stderr=subprocess.STDOUT, env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            with contextlib.suppress(requests.ConnectionError):     # not listening yet
                if requests.get(url + "/.well-known/oauth-authorization-server",
                                timeout=2).ok:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield home, url
    finally:
        stopped(server)


def cast_an_intent_for_spokesmith(home: VaultHome) -> None:
    """A member's part, as on their Intents page: an open intent in one of the demo brand
    Spokesmith Cycles' categories (whatever else the demo cast), for the walkthrough to offer
    on."""
    with home.open(home.master_key({})) as vault:
        consent = open_consent(vault, home)
        try:
            spokesmith = next(b for b in vault.brands.all() if b.name == "Spokesmith Cycles")
            member_id = vault.members.register("caster@example.org", DEMO_PASSWORD)
            today = dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()
            intent_service(consent).cast(member_id, IntentDraft(
                category=spokesmith.categories[0], description="A cargo bike for two children.",
                budget_min="1500", budget_max="2400", currency="EUR",
                window_from=today + dt.timedelta(days=1),
                window_until=today + dt.timedelta(days=45), country="NL", region="NL-UT",
                city="Utrecht", reveal_fields=("contact_email",), expires_on=None))
        finally:
            consent.close()


def approve_as_the_demo_member(served: str, log: Path) -> None:
    """The browser's part: sign in as the demo member, open the address the script printed,
    approve every field."""
    deadline = time.monotonic() + 60
    found = None
    while found is None:
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no script"
        time.sleep(0.1)
        if log.exists():
            found = re.search(r"Open this address and approve as the member: (\S+)",
                              log.read_text())
    member = requests.Session()
    page = member.get(served + "/login", timeout=10).text
    signed_in = member.post(served + "/login", timeout=10, data={
        "csrf_token": csrf_from(page), "email": SHOWCASE_EMAIL, "password": DEMO_PASSWORD})
    assert signed_in.ok and signed_in.url.endswith("/member/"), signed_in.url
    screen = member.get(found.group(1), timeout=10)
    assert "asks to see some of your data" in screen.text, screen.text
    answered = member.post(found.group(1), timeout=10, data={
        "csrf_token": csrf_from(screen.text), "screen": _SCREEN.search(screen.text).group(1),
        "decision": "approve", "fields-0": ["given_name", "city", "preferred_language"]})
    assert answered.ok, answered.text        # the redirect to the script's callback, followed


def test_the_readme_shell_blocks_run_as_written(served_demo: tuple[Path, str],
                                                tmp_path: Path) -> None:
    home, served = served_demo
    blocks = shell_blocks()
    assert len(blocks) == 6, ("the walkthrough's blocks: register, read with curl, brand-level,"
                              " insights, a survey and its results, intents and offers")
    workdir = tmp_path / "brand"
    workdir.mkdir()
    script = next(b for b in fenced("python") if b.startswith(SCRIPT_MARK))
    (workdir / "brand_example.py").write_text(script)    # "Save it as brand_example.py"

    numbered: list[tuple[str, str]] = []
    lines: list[str] = []
    for index, block in enumerate(blocks):
        if index == 1:
            # The README's prose between the blocks: run the script in this shell (here in the
            # background, in its own folder), approve in a browser; the token file appears.
            lines += [f'cd "{workdir}"',
                      "python3 brand_example.py > brand_example.log 2>&1 &",
                      "echo $! > brand_example.pid",
                      "for _ in $(seq 600); do [ -s brand-token.json ] && break; sleep 0.1; done"]
        for command, claim in block:
            lines += [f"printf '\\n{_MARK}{len(numbered)}\\n'", command]
            numbered.append((command, claim))
    lines.append(f"printf '\\n{_MARK}end\\n'")
    path = "/usr/local/bin:/usr/bin:/bin"
    assert not any(Path(d, "vrmvault").exists() for d in path.split(":")), \
        "vrmvault is on the PATH before the README puts it there"
    brand_port = free_port()
    environment = {"PATH": path, "HOME": str(tmp_path), "LANG": "C.UTF-8",
                   "VRMVAULT_HOME": str(home), "VAULT": served, "BRAND_PORT": str(brand_port)}
    shell = subprocess.Popen(["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
                             cwd=CHECKOUT, env=environment, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        approve_as_the_demo_member(served, workdir / "brand_example.log")
        stdout, stderr = shell.communicate(timeout=120)
    finally:
        if shell.poll() is None:
            stopped(shell, grace=0, sig=signal.SIGKILL)
        pid_file = workdir / "brand_example.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):      # the script we started
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
    assert shell.returncode == 0, (stdout, stderr)
    outputs = stdout.split(f"\n{_MARK}")[1:]
    assert outputs[-1].strip() == "end", stdout
    seen: dict[str, Any] = {"brand_port": brand_port}
    assert len(outputs) == len(numbered) + 1
    for number, ((command, claim), output) in enumerate(zip(numbered, outputs, strict=False)):
        mark, _, printed = output.partition("\n")
        assert mark == str(number)
        expectation(command)(printed.strip(), seen)
        as_printed(claim, printed.strip())
    assert "Traceback" not in stderr
    token_file = workdir / "brand-token.json"        # where the script ran, owner-only
    assert token_file.stat().st_mode & 0o777 == 0o600
