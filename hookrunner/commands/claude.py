"""``hookrunner claude hook|install``: hookrunner as the command Claude Code's hooks run."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import typer

from ._common import INVALID, OK, fail_usage
from .help import Command

app = typer.Typer(
    help="Claude Code: run hooks.yaml as the agent's hooks (see the README's Claude Code section).",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help text, like the main app's
)

HOOKS = typer.Option(
    None,
    "--hooks",
    metavar="PATH",
    help="A manifest, relative to the project (repeatable; default: the project's hooks.yaml).",
)
TIMEOUT = typer.Option(
    None,
    "--timeout",
    metavar="SECONDS",
    min=0.001,
    max=86400,
    help="The timeout Claude Code gives the command, in seconds (default: Claude Code's "
    "per-event default); hookrunner answers before it runs out.",
)


@app.command("hook", cls=Command)
def hook(hooks: list[str] = HOOKS, timeout: float = TIMEOUT) -> None:
    """Answer one Claude Code hook input read on stdin (what .claude/settings.json runs)."""
    from ..services.claude.handle import Call
    from .claude_hook import main

    raise typer.Exit(main(Call(tuple(hooks or ()), timeout)))


@app.command("install", cls=Command)
def install(
    settings: Path = typer.Option(
        None, "--settings", help="The settings file (default: .claude/settings.json)."
    ),
    uninstall: bool = typer.Option(
        False, "--uninstall", help="Remove hookrunner's hooks (and nothing else)."
    ),
    hooks: list[str] = HOOKS,
    timeout: float = TIMEOUT,
    command: str = typer.Option(
        None,
        "--command",
        metavar="COMMAND",
        help="How Claude Code starts hookrunner (default: `hookrunner` when it is this one "
        "on PATH, else this interpreter's `python -m hookrunner`).",
    ),
) -> None:
    """Write (or, with --uninstall, remove) hookrunner's hooks in Claude Code's settings."""
    import shlex

    from ..services.claude import settings as claude_settings

    path = settings or claude_settings.SETTINGS
    exe = shlex.split(command) if command else _executable()
    line = claude_settings.command_line(exe, hooks or (), timeout)
    try:
        if uninstall:
            change = claude_settings.uninstall(path)
        else:
            change = claude_settings.install(path, line, timeout)
    except claude_settings.SettingsError as exc:
        fail_usage(str(exc))
    except OSError as exc:
        typer.echo(f"error: {path}: {exc.strerror or exc}", err=True)
        raise typer.Exit(INVALID) from None
    if not change.changed:
        state = "not installed" if uninstall else "already installed"
        typer.echo(f"hookrunner is {state} in {path}; nothing changed")
        raise typer.Exit(OK)
    verb = "removed hookrunner from" if uninstall else "installed hookrunner in"
    typer.echo(f"{verb} {path} for {len(change.events)} events: {', '.join(change.events)}")
    if not uninstall:
        typer.echo(f"Claude Code runs: {line}")
        if not hooks and not Path("hooks.yaml").is_file():
            typer.echo("note: no hooks.yaml here yet; write one (see examples/claude/)")
    if change.backup is not None:
        typer.echo(f"the previous file is saved as {change.backup}")


def _executable() -> list[str]:
    """How to start this hookrunner from Claude Code: its name when PATH finds this very
    script, else this interpreter running the package."""
    here = Path(sys.argv[0])
    found = shutil.which("hookrunner")
    if here.name in ("hookrunner", "hookrunner.exe") and found is not None:
        try:
            if os.path.samefile(found, here):
                return ["hookrunner"]
        except OSError:
            pass
    return [sys.executable, "-m", "hookrunner"]
