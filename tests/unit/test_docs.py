"""Everything a user can set or run is documented in the README (datasette's test_docs idea)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from brand_gateway.oauth import SCOPES
from consent.event_details import DETAILS_BY_TAG
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


def _tag_rows() -> dict[str, str]:
    """The README's ledger tag table: each documented tag and its description."""
    table = README[README.index("Ledger event tags"):]
    table = table[:table.index("\n\n", table.index("| tag |"))]
    rows = re.findall(r"^\| `([a-z]+(?::[a-z]+){1,2})` \| (.*) \|$", table, re.MULTILINE)
    return dict(rows)


def test_every_documented_tag_is_an_event_tag_with_its_details_class() -> None:
    documented = set(_tag_rows())
    assert documented == {tag.value for tag in EventTag}
    assert set(DETAILS_BY_TAG) == set(EventTag)


@pytest.mark.parametrize("tag", list(EventTag), ids=str)
def test_the_details_a_tag_row_names_are_fields_of_its_class(tag: EventTag) -> None:
    """A row naming a detail ("`brand` in the details") names a field of the tag's class."""
    named = re.findall(r"`([a-z_]+)` in the details", _tag_rows()[tag.value])
    fields = {field.name for field in dataclasses.fields(DETAILS_BY_TAG[tag])}
    assert set(named) <= fields


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_every_oauth_scope_is_documented(scope: str) -> None:
    assert f"| `{scope}` |" in README


# -- the command-line table: every command and option, in the row that describes it -------------
def _leaf_commands(group: click.Group, path: tuple[str, ...] = ()
                   ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def _cli_rows() -> list[str]:
    section = README[README.index("## Command line"):]
    section = section[:section.index("\n## ", 1)]
    return [line for line in section.splitlines() if line.startswith("| `vrmvault")]


def _row_of(path: tuple[str, ...]) -> str:
    """The README row whose first cell names the command (``vrmvault brand create`` or, in a
    row of several, ``brand disable``)."""
    name = " ".join(path)
    rows = [row for row in _cli_rows()
            if re.search(rf"`(vrmvault )?{re.escape(name)}( |`)", row.split(" | ")[0])]
    assert len(rows) == 1, f"{len(rows)} README rows name `vrmvault {name}`"
    return rows[0]


LEAF_COMMANDS = list(_leaf_commands(main))


@pytest.mark.parametrize(("path", "command"), LEAF_COMMANDS, ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else "")
def test_every_command_and_option_is_in_its_cli_table_row(path: tuple[str, ...],
                                                          command: click.Command) -> None:
    row = _row_of(path)
    usage = row.split(" | ")[0]
    for parameter in command.params:
        if isinstance(parameter, click.Option) and not parameter.hidden:
            assert any(option in usage for option in parameter.opts), \
                f"{parameter.opts[0]} of `vrmvault {' '.join(path)}` is not in its README row"


@pytest.mark.parametrize(("path", "command"), LEAF_COMMANDS, ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else "")
def test_every_option_says_what_it_does_in_help(path: tuple[str, ...],
                                                command: click.Command) -> None:
    for parameter in command.params:
        if isinstance(parameter, click.Option) and not parameter.hidden:
            assert parameter.help, f"{parameter.opts[0]} of `vrmvault {' '.join(path)}` has no help"


def test_the_global_options_are_documented() -> None:
    for parameter in main.params:
        if isinstance(parameter, click.Option) and not parameter.hidden:
            assert f"vrmvault [{parameter.opts[0]}" in README


# -- and nothing documented that does not exist ------------------------------------------------
def _first_cells(heading: str) -> list[str]:
    """The code in the first cell of each row of the first table after ``heading``."""
    section = README[README.index(heading):]
    cells = []
    for line in section.splitlines()[1:]:
        if cells and not line.startswith("|"):
            break
        match = re.match(r"\| `([^`]+)` \|", line)
        if match:
            cells.append(match.group(1))
    return cells


def test_the_readme_lists_no_ledger_tag_that_does_not_exist() -> None:
    documented = _first_cells("Ledger event tags")
    assert documented and set(documented) <= {tag.value for tag in EventTag}


def test_the_readme_lists_no_scope_that_does_not_exist() -> None:
    documented = _first_cells("| scope | grants |")
    assert documented and set(documented) <= set(SCOPES)


def test_the_readme_lists_no_command_that_does_not_exist() -> None:
    names = {" ".join(path) for path, _ in LEAF_COMMANDS}
    for row in _cli_rows():
        for named in re.findall(r"`(?:vrmvault )?([a-z][a-z-]*(?: [a-z][a-z-]*)?)[ `]",
                                row.split(" | ")[0]):
            assert named in names or named.split(" ")[0] in names, (named, row)


def test_the_setup_commands_name_the_port_that_make_run_takes() -> None:
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    assert "--port $(PORT)" in makefile and "--host $(HOST)" in makefile
    assert "make run PORT=8010" in README or "PORT=8010" in README.split("```")[1]


PACKAGES = ("vault", "consent", "community", "intents", "compliance", "brand_gateway", "web")


def _development_map() -> str:
    section = README[README.index("## Development"):]
    return section.split("```")[1]


def _map_entries() -> list[tuple[str, str]]:
    """(folder, name) of every module the Development map must name: each package's modules
    and sub-packages, ``__init__.py`` aside."""
    root = Path(__file__).parents[2]
    entries = []
    for package in PACKAGES:
        for path in sorted((root / package).iterdir()):
            if path.suffix == ".py" and path.name != "__init__.py":
                entries.append((package, path.name))
            elif path.is_dir() and (path / "__init__.py").exists():
                entries.append((package, path.name + "/"))
                entries += [(f"{package}/{path.name}", p.name)
                            for p in sorted(path.glob("*.py")) if p.name != "__init__.py"]
    return entries


@pytest.mark.parametrize("folder, name", _map_entries())
def test_the_development_map_names_every_module(folder: str, name: str) -> None:
    """A newcomer finds where a behaviour lives from the map: every module is on it, under its
    package's heading (a module added or moved is added to the map with it)."""
    lines = _development_map().splitlines()
    top = folder.split("/")[0]
    start = next(i for i, line in enumerate(lines) if line.startswith(top + "/"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and lines[i][0] != " "),
               len(lines))
    assert re.search(rf"(?<![\w/]){re.escape(name)}(?![\w])", "\n".join(lines[start:end])), \
        f"README's Development map does not name {folder}/{name}"


def test_every_command_the_readme_names_anywhere_exists() -> None:
    """Prose and examples too, not only the table: ``vrmvault GROUP COMMAND`` must be a command
    of the CLI (a trial found ``vrmvault brand register`` in the text, and no such command)."""
    named = 0
    for match in re.finditer(r"vrmvault (?:\[?--[a-z-]+(?: [^ `\]]+)?\]? )*([a-z][a-z-]*)"
                             r"(?: ([a-z][a-z-]*))?", README):
        first, second = match.group(1), match.group(2)
        command = main.commands.get(first)
        if command is None:
            continue                   # "vrmvault is ...", "vrmvault and ...": prose, not a command
        named += 1
        if isinstance(command, click.Group) and second is not None:
            assert second in command.commands, f"README names `vrmvault {first} {second}`"
    assert named > 50


def _all_commands(group: click.Group, path: tuple[str, ...] = ()
                  ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*path, name))


@pytest.mark.parametrize(("path", "command"), list(_all_commands(main)),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_commands_one_line_help_is_whole(path: tuple[str, ...],
                                               command: click.Command) -> None:
    """The line ``--help`` lists a command with is not cut inside a parenthesis (click takes
    the first sentence, and "GDPR Art. 30" has a full stop in it)."""
    line = command.get_short_help_str(limit=200)
    assert line and line.count("(") == line.count(")"), f"vrmvault {' '.join(path)}: {line!r}"


def test_the_bytecode_step_compiles_every_package_the_project_installs() -> None:
    root = Path(__file__).parents[2]
    makefile = (root / "Makefile").read_text()
    (line,) = [line for line in makefile.splitlines() if line.startswith("PROJECT_PACKAGES :=")]
    compiled = set(line.split(":=", 1)[1].split())
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    installed = {pattern.rstrip("*")
                 for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert compiled == installed
    for target in ("run:", "test:", "bench:"):
        (rule,) = [line for line in makefile.splitlines() if line.startswith(target)]
        assert "bytecode" in rule.split(":", 1)[1].split()
