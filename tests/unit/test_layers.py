"""Imports flow downwards (DESIGN.md sec. 1): web/brand_gateway -> compliance -> community ->
consent -> vault (``community``, the insight community of issue 14, sits between the domain and
the front doors; ``compliance``, data subject requests and reports, sits above it: it may read
the community's records, and only the front doors import it); ``intents``, intent casting
(issue 16), sits beside ``community`` (neither imports the other), below ``compliance``; the
demo generators in demo/ sit beside web, above the domain, and no domain package imports them.

Below them all, ``vrmvault`` (the root of the exception tree) imports none of them, nor Flask.

So the export, which holds every layer's records, is composed of per-layer exporters that the
web layer assembles (vault/export.py), never by the vault reaching up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FORBIDDEN = {"vrmvault": {"vault", "consent", "community", "intents", "compliance",
                          "brand_gateway", "web", "demo", "flask", "werkzeug"},
             "vault": {"consent", "community", "intents", "compliance", "brand_gateway", "web",
                       "demo", "flask"},
             "consent": {"community", "intents", "compliance", "brand_gateway", "web", "demo",
                         "flask"},
             "community": {"intents", "compliance", "brand_gateway", "web", "demo", "flask",
                           "werkzeug"},
             "intents": {"community", "compliance", "brand_gateway", "web", "demo", "flask",
                         "werkzeug"},
             "compliance": {"brand_gateway", "web", "demo", "flask", "werkzeug"},
             "brand_gateway": {"web", "demo"},
             "demo": {"web", "flask"}}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_layer_imports_one_above_it(package: str) -> None:
    for path in sorted((ROOT / package).rglob("*.py")):
        wrong = imported(path) & FORBIDDEN[package]
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


# The brand gateway's services: plain Python, unit-tested without Flask (STYLE point 6); the
# blueprints over them are the only HTTP in the gateway.
SERVICES = ("brand_gateway/reads.py", "brand_gateway/approval.py",
            "brand_gateway/member_data.py", "brand_gateway/first_contact.py")


@pytest.mark.parametrize("service", SERVICES)
def test_the_gateway_services_know_nothing_of_flask(service: str) -> None:
    assert not imported(ROOT / service) & {"flask", "werkzeug"}, f"{service} imports Flask"
