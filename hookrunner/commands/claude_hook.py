"""What ``hookrunner claude hook`` does, without the CLI framework.

Claude Code runs this command for every hook event and waits for it (every tool use waits
twice), so its process time matters: ``launch`` calls ``main`` here directly for plain
invocations, and the typer command (``claude``) calls it too. The work is the Claude Code
service's (``services.claude``); this module owns the process: stdin, stdout, the exit code.
"""

from __future__ import annotations

import os
import sys
import time

from ..services.claude.handle import Call
from ..services.claude.protocol import Answer


def plain_args(args: list[str]) -> Call | None:
    """The options when ``args`` (after ``claude hook``) are only ``--hooks PATH`` (repeatable)
    and ``--timeout SECONDS``; None otherwise (``--help``, a mistake: typer answers)."""
    hooks: list[str] = []
    timeout: float | None = None
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        if name not in ("--hooks", "--timeout"):
            return None
        if not eq:
            if i + 1 >= len(args):
                return None
            value = args[i + 1]
            i += 1
        i += 1
        if name == "--hooks":
            hooks.append(value)
            continue
        try:
            timeout = float(value)
        except ValueError:
            return None
        if not 0 < timeout <= 86400:
            return None
    return Call(tuple(hooks), timeout)


def usage(args: list[str]) -> int:
    """Options this command does not take: exit 1, Claude Code's non-blocking error (a typo in
    settings.json must not block every tool use, as typer's exit 2 would)."""
    print(
        f"hookrunner: claude hook takes --hooks PATH and --timeout SECONDS, not: {' '.join(args)}",
        file=sys.stderr,
    )
    return 1


def main(call: Call, started: float | None = None) -> int:
    """Read one hook input on stdin, print the answer, return the exit code.

    Whatever the hooks print goes to stderr (Claude Code keeps it in its debug log): stdout
    carries the answer alone, which Claude Code reads only when it is nothing but JSON."""
    started = time.monotonic() if started is None else started
    sys.stdout.flush()
    answer_fd = os.dup(1)
    os.dup2(2, 1)

    def respond(answer: Answer) -> None:
        sys.stdout.flush()
        if answer.stdout:  # fd 1's copy skips the scrubbed sys.stdout: scrub it here
            from ..kernel.secrets import scrub

            os.write(answer_fd, (scrub(answer.stdout) + "\n").encode())
        if answer.stderr:
            sys.stderr.write(answer.stderr)
        sys.stderr.flush()

    def on_deadline(answer: Answer) -> None:
        respond(answer)
        os._exit(answer.code)  # the hooks still running are abandoned

    try:
        from ..services.claude.handle import handle

        reply = handle(sys.stdin.read(), call, os.environ, started, on_deadline)
    except KeyboardInterrupt:
        reply = Answer(130, "", "hookrunner: interrupted\n")
    except Exception as exc:  # a bug of ours must not take the agent down: one line, exit 1
        from ..kernel.errors import raised

        reply = Answer(1, "", f"hookrunner: internal error: {raised(exc)}\n")
    respond(reply)
    # The process ends now: the collector need not traverse, at exit, what lived until then.
    import gc

    gc.freeze()
    return reply.code
