"""Docs stay in step with the CLI: every command has help ending with an example, and the README names it."""

from __future__ import annotations

import re

import click
import pytest
import typer
from typer.testing import CliRunner

from classifier.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_the_cli_has_the_design_card_commands():
    names = {" ".join(c) for c in COMMANDS}
    assert {"parse", "score", "train", "evaluate"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert re.search(r"example", result.output, re.IGNORECASE), f"'{' '.join(command)} --help' shows no example"
    assert "classifier " + " ".join(command) in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_is_documented_in_the_readme(command):
    assert "classifier " + " ".join(command) in README


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    head = README.split("## ", 1)[0]
    assert "./run.sh demo" in head and "./run.sh test" in head
    assert "./run.sh test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_lists_every_exit_code_the_package_defines():
    from classifier import errors

    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", README, re.MULTILINE)}
    assert codes == documented
