"""The `classifier` command: thin typer commands over the package's modules.

Heavy libraries (scikit-learn, pandas) are imported inside command bodies so
that `classifier --help` starts fast. Errors are one line on stderr with the
exit codes of :mod:`classifier.errors`:

  0 ok · 1 some input failed (rest processed) · 2 usage · 3 model refused ·
  4 --fail-on gate tripped · 5 queue database error
"""

from __future__ import annotations

import sys
from typing import Annotated

import click
import typer

from classifier import __version__
from classifier.errors import EXIT_USAGE, ClassifierError
from classifier.output import OutputFormat

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 some input failed (reported on stderr, the rest processed); "
    "2 usage error; 3 model missing, tampered or incompatible; 4 --fail-on gate tripped; "
    "5 queue database locked or corrupted."
)

app = typer.Typer(
    name="classifier",
    help="Offline, French-first moderation of news comments: parse pages, score (hostile, "
    "shouting, sentiment), train, and run a moderation queue.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
queue_app = typer.Typer(
    help="The moderation queue: ingest, list, decide and export (SQLite).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(queue_app, name="queue")

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format: json, jsonl, csv or table.", case_sensitive=False),
]


def fail(message: str) -> None:
    """Print one diagnostic line on stderr (never a traceback)."""
    typer.echo(f"classifier: {message}", err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"classifier {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Offline, French-first moderation of news comments."""


# ---------------------------------------------------------------------------- commands
# Each command lives in its own section below; keep bodies thin (parse args, call a module, print).


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors and documented exit codes."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="classifier", standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted")
        sys.exit(130)
    except click.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx else "classifier"
        hint = f" (see '{path} --help')"
        fail(exc.format_message().replace("\n", " ") + hint)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        fail(exc.format_message().replace("\n", " "))
        sys.exit(exc.exit_code)
    except ClassifierError as exc:
        fail(str(exc))
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
