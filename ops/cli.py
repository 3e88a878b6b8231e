"""The root command. Subcommands register themselves: every module of `ops.commands` defines
`command` (a click.Command, usually made with `ops.options.stack_command`), and the group adds
each one it finds, so a new subcommand is one new module and no edit here."""

from __future__ import annotations

import importlib
import pkgutil

import click

from . import commands
from .report import EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def cli() -> None:
    """Operations for a deployed LangGraph platform stack, driven by its stack outputs.

    \b
    Exit codes: 0 all OK, 1 a WARN, 2 a FAIL, 3 usage or configuration error.
    Run `python -m ops COMMAND --help` for a command's options (port-forwards included)."""


def _register() -> None:
    for module in pkgutil.iter_modules(commands.__path__):
        command = importlib.import_module(f"{commands.__name__}.{module.name}").command
        cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (usage errors: 3, not click's 2, which means FAIL here)."""
    _register()
    try:
        result = cli.main(args=argv, prog_name="python -m ops", standalone_mode=False)
    except click.exceptions.Exit as done:  # --help, --version
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return EXIT_USAGE
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_USAGE
    return result if isinstance(result, int) else 0
