"""The ``hookrunner`` command: a typer app; each command lives in a module of its own."""

from __future__ import annotations

import sys

import typer

from ..kernel.version import __version__
from . import claude, emit, init, list_, schema, sessions, validate, watch
from . import run as run_command
from .help import Command

app = typer.Typer(
    name="hookrunner",
    help="Declarative, YAML-configured lifecycle hooks.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help text: formatting it with rich costs more than the rest of `--help`.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hookrunner {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Declarative, YAML-configured lifecycle hooks."""


app.command("validate", cls=Command)(validate.command)
app.command("list", cls=Command)(list_.command)
app.command("emit", cls=Command)(emit.command)
app.command("schema", cls=Command)(schema.command)
app.command("watch", cls=Command)(watch.command)
app.command(
    "run",
    cls=run_command.RunCommand,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(run_command.command)
app.add_typer(sessions.app, name="sessions")
app.command("init", cls=Command)(init.command)
app.add_typer(claude.app, name="claude")


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code (0 ok, 1 failed, 2 invalid, 130 interrupted).

    Commands that loaded manifests fired ``before_command_run``; ``after_command_run`` fires
    here, once the exit code is known (``cli_hooks``)."""
    from .cli_hooks import conclude, set_argv

    set_argv(sys.argv[1:] if argv is None else argv)
    code = 0
    try:
        app(args=argv, prog_name="hookrunner", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    return conclude(code)


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
