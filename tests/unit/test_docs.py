"""Everything a user can set or run is documented in the README (datasette's test_docs idea)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brand_gateway.oauth import SCOPES
from consent.events import EventTag
from web.cli import main
from web.config import SETTINGS

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_the_readme_starts_with_exactly_the_two_set_up_commands() -> None:
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line]
    assert commands == ["make run", "make test"]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting) -> None:
    assert f"| `{setting.name}` |" in README


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"`vrmvault {command}" in README


@pytest.mark.parametrize("tag", list(EventTag), ids=str)
def test_every_ledger_event_tag_is_documented(tag: EventTag) -> None:
    assert f"| `{tag.value}` |" in README


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_every_oauth_scope_is_documented(scope: str) -> None:
    assert f"| `{scope}` |" in README
