"""The command line's error boundary: what an operator reads when a command refuses."""

from __future__ import annotations

import click
from click.testing import CliRunner

from vault.errors import NotFoundError, ValidationError
from web.cli_errors import ReportingGroup


def refusing(error: Exception) -> click.Group:
    @click.group(cls=ReportingGroup)
    def group() -> None:
        """A command group with the product's error boundary and one refusing command."""

    @group.command()
    def act() -> None:
        raise error

    return group


def invoked(error: Exception) -> tuple[int, list[str]]:
    result = CliRunner().invoke(refusing(error), ["act"])
    return result.exit_code, result.stderr.splitlines()


def test_invalid_input_names_each_field_and_its_problem() -> None:
    code, lines = invoked(ValidationError({"members": ["At least 1."],
                                           "seed": ["A whole number.", "Not negative."]}))
    assert code == 1
    assert lines == ["error: The input is not valid", "  members: At least 1.",
                     "  seed: A whole number.", "  seed: Not negative."]


def test_a_message_that_already_says_the_problem_stays_one_line() -> None:
    code, lines = invoked(ValidationError({"name": ["A brand needs a name."]},
                                          "A brand needs a name."))
    assert (code, lines) == (1, ["error: A brand needs a name."])


def test_other_domain_errors_are_one_line_without_a_traceback() -> None:
    code, lines = invoked(NotFoundError("there is no client client_x"))
    assert (code, lines) == (1, ["error: there is no client client_x"])


def test_an_argument_that_is_not_utf8_is_a_wrong_command_line() -> None:
    """A name typed in Latin-1 reaches the command as lone surrogates (PEP 383), which no store
    can bind: a usage error naming the byte, not a traceback."""
    try:
        "Caf\udce9".encode()
    except UnicodeEncodeError as exc:
        error = exc
    code, lines = invoked(error)
    assert code == 2
    assert lines == ["error: an argument holds the byte 0xe9, which is not UTF-8 text; give"
                     " names, ids and addresses in UTF-8"]
