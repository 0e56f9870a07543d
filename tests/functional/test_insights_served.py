"""The privacy budget as served: ``vrmvault serve`` with two worker processes spends one budget,
and what was spent is still spent after a restart.

No assertion rests on how the kernel spreads the requests over the workers: whatever the
spread, no more queries are answered than the period's budget pays for (a budget kept per
process would answer up to twice as many when both workers serve), and the rest are refused
with the problem the API documents.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from tests.processes import stopped
from vault.home import VaultHome
from web.cli import main

from .test_webhook_cli import _free_port, start_server

BUDGET = 2.0            # the period's epsilon
EPSILON = 0.5           # each query's: the budget pays for exactly four
QUERIES = 16


def register_brand(home: VaultHome) -> tuple[str, str]:
    result = CliRunner().invoke(
        main, ["--home", str(home.root), "brand", "create", "--name", "Velo Bikes",
               "--redirect-uri", "https://velo.example/cb"],
        env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout)
    return credentials["client_id"], credentials["client_secret"]


def served(home: VaultHome, log: Path, port: int):
    server = start_server(home, log, port=port, workers=2)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, log.read_text()
        try:
            if requests.get(url + "/.well-known/oauth-authorization-server", timeout=2).ok:
                return server, url
        except requests.ConnectionError:           # not listening yet
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def token(url: str, client: tuple[str, str]) -> str:
    answer = requests.post(url + "/oauth/token", auth=client, timeout=10, data={
        "grant_type": "client_credentials", "scope": "insights:read"})
    assert answer.ok, answer.text
    return str(answer.json()["access_token"])


def ask(url: str, bearer: str) -> requests.Response:
    return requests.get(url + "/api/v1/insights/touchpoints", timeout=30, headers={
        "Authorization": f"Bearer {bearer}"}, params={
        "purpose": "dpv:ServiceOptimisation", "epsilon": str(EPSILON)})


def test_two_workers_spend_one_budget_that_outlives_a_restart(
        vault_home: VaultHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault_home.initialise({})
    client = register_brand(vault_home)
    monkeypatch.setenv("VRMVAULT_INSIGHTS_BUDGET", str(BUDGET))
    port = _free_port()
    server, url = served(vault_home, tmp_path / "serve.log", port)
    try:
        bearer = token(url, client)
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: ask(url, bearer), range(QUERIES)))
    finally:
        assert stopped(server), "serve did not stop"
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 4 + [429] * (QUERIES - 4), codes
    refusal = next(a for a in answers if a.status_code == 429)
    assert refusal.headers["Content-Type"].startswith("application/problem+json")
    assert refusal.json()["epsilon_remaining"] == 0 and int(refusal.headers["Retry-After"]) > 0

    server, url = served(vault_home, tmp_path / "again.log", _free_port())
    try:
        again = ask(url, token(url, client))
    finally:
        assert stopped(server), "serve did not stop"
    assert again.status_code == 429, again.text       # spent before the restart, still spent
