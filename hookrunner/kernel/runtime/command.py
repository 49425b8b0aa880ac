"""Command hooks: argv without a shell, event arguments as JSON on stdin."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import HookFailed, HookTimeout, ResolveError, Veto, did_you_mean
from ..jsonsafe import json_safe

if TYPE_CHECKING:
    import subprocess

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def compile_command(
    argv: list[str] | str,
    event: str,
    event_args: tuple[str, ...],
    veto: bool,
    timeout: float | None,
) -> Callable[[dict[str, Any]], Any]:
    """Check the command once and return an invoker that runs it."""
    import shlex  # here: a manifest without command hooks never needs them
    import shutil
    import subprocess

    try:
        args = shlex.split(argv) if isinstance(argv, str) else list(argv)
    except ValueError as exc:  # an unclosed quote in the string form
        raise ResolveError(
            f"the command cannot be split into arguments: {exc}",
            "close the quote, or write the command as a list",
        ) from None
    if not args or not args[0].strip():
        raise ResolveError("the command is empty", "name a program, e.g. [ruff, check]")
    for part in args:
        for name in _PLACEHOLDER.findall(part):
            if name not in event_args:
                raise ResolveError(
                    f"placeholder {{{name}}} is not an argument of this event",
                    did_you_mean(name, event_args),
                )
    if shutil.which(args[0]) is None:
        raise ResolveError(f"command {args[0]!r} not found on PATH")
    templated = [(a, bool(_PLACEHOLDER.search(a))) for a in args]

    def run(kw: dict[str, Any]) -> Any:
        cmd = [
            _PLACEHOLDER.sub(lambda m: _text(kw.get(m.group(1))), a) if t else a
            for a, t in templated
        ]
        env = dict(os.environ)
        env["HOOKRUNNER_EVENT"] = event
        env["HOOKRUNNER_SESSION_ID"] = str(kw.get("session_id") or "")
        payload = json.dumps(json_safe(kw))
        try:
            done = subprocess.run(
                cmd, input=payload, capture_output=True, text=True, env=env, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise HookTimeout(f"command timed out after {timeout:g}s (killed)") from None
        if done.returncode == 2 and veto:
            raise Veto(done.stderr.strip() or f"{args[0]} vetoed")
        if done.returncode != 0:
            raise HookFailed(f"command exited with {done.returncode}{_output(done)}")
        out = done.stdout.strip()
        if out.startswith("{"):
            try:
                return json.loads(out)
            except json.JSONDecodeError:
                return None
        return None

    return run


# Lines of a failing command's output kept in its error (the end: where tools say why).
OUTPUT_LINES = 40


def _output(done: subprocess.CompletedProcess[str]) -> str:
    """What a failing command said: its stderr (else its stdout), every line up to the last
    ``OUTPUT_LINES``, indented under the error's first line."""
    lines = (done.stderr or done.stdout or "").rstrip().splitlines()
    if not lines:
        return " (no output)"
    if len(lines) == 1:
        return f": {lines[0]}"
    cut = lines[-OUTPUT_LINES:]
    head = [f"  ... {len(lines) - len(cut)} earlier lines"] if len(cut) < len(lines) else []
    return ":\n" + "\n".join(head + ["  " + line for line in cut])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(json_safe(value))
