"""Command hooks: argv without a shell, event arguments as JSON on stdin.

A command runs in a process group of its own. It is waited for until it exits, not until
its output pipes close: a process it leaves in the background (``sleep 20 & echo started``)
may hold them open for much longer. At its timeout (or on Ctrl-C) the whole group is
killed, grandchildren included. Ctrl-C does not reach the group from the terminal (it is
not the terminal's foreground group), so every live group is kept in a registry:
``kill_running`` kills them all (a runner's stop calls it; Ctrl-C in the thread running the
command kills its own group), and so does an ``atexit`` handler, so that no group outlives
the process. What it prints is kept up to ``MAX_OUTPUT`` bytes per
stream (the start of stdout, the end of stderr); the rest is read and dropped, so a command
printing 100 MB costs no more memory than one printing 1 MB.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import HookFailed, HookTimeout, ResolveError, Veto, did_you_mean, shorten
from ..jsonsafe import json_safe

if TYPE_CHECKING:
    import subprocess

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_OUTPUT = 1 << 20  # bytes kept per stream and call
# After the command exits, output already in the pipes is read for at most this long (a
# background process may go on writing).
_DRAIN = 0.1

# The commands running now, by pid (= their process group's id): added when one starts,
# removed once it is reaped. ``_stopped``: those ``kill_running`` killed.
_live: dict[int, subprocess.Popen[bytes]] = {}
_stopped: set[int] = set()
_live_lock = threading.Lock()
_at_exit = False  # the atexit handler is registered (at the first command)


def kill_running() -> None:
    """Kill the process group of every command hook running now, in any thread: the run (or
    the process) is stopping. Their calls fail with ``HookFailed`` ("stopped")."""
    import signal

    with _live_lock:
        pids = list(_live)
        _stopped.update(pids)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


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
        payload = json.dumps(json_safe(kw)).encode()
        try:
            code, out, err, cut = _run(cmd, payload, env, timeout)
        except subprocess.TimeoutExpired:
            raise HookTimeout(
                f"command timed out after {timeout:g}s (its process group was killed)"
            ) from None
        stderr = err.decode("utf-8", "replace")
        if code == 2 and veto:
            raise Veto(shorten(stderr.strip(), 1000) or f"{args[0]} vetoed")
        if code != 0:
            what = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
            said = _output(stderr, out.decode("utf-8", "replace"))
            raise HookFailed(f"command {what}{said}")
        text = out.strip()
        if text.startswith(b"{") and not cut:  # a cut-off result is no result
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return None
        return None

    return run


# Lines of a failing command's output kept in its error (the end: where tools say why), and
# the length a line of it is shortened to.
OUTPUT_LINES = 40
OUTPUT_LINE_MAX = 300


def _output(stderr: str, stdout: str) -> str:
    """What a failing command said: its stderr (else its stdout), every line up to the last
    ``OUTPUT_LINES`` (each shortened), indented under the error's first line."""
    lines = (stderr or stdout or "").rstrip().splitlines()
    if not lines:
        return " (no output)"
    if len(lines) == 1:
        return f": {shorten(lines[0], OUTPUT_LINE_MAX)}"
    cut = [shorten(line, OUTPUT_LINE_MAX) for line in lines[-OUTPUT_LINES:]]
    head = [f"  ... {len(lines) - len(cut)} earlier lines"] if len(cut) < len(lines) else []
    return ":\n" + "\n".join(head + ["  " + line for line in cut])


def _run(
    cmd: list[str], payload: bytes, env: dict[str, str], timeout: float | None
) -> tuple[int, bytes, bytes, bool]:
    """Run ``cmd`` in its own process group with ``payload`` on stdin; return its exit code,
    stdout (the first ``MAX_OUTPUT`` bytes), stderr (the last) and whether stdout was cut.
    Raises ``TimeoutExpired`` after killing the whole group at ``timeout``."""
    import subprocess  # here: a manifest without command hooks never needs it
    import time

    global _at_exit
    with _live_lock:  # started and registered at once: kill_running sees every group
        if not _at_exit:
            import atexit

            atexit.register(kill_running)
            _at_exit = True
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            process_group=0 if os.name == "posix" else None,  # its own group, killed whole
        )
        _live[proc.pid] = proc
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        result = _communicate(proc, payload, deadline)
    except BaseException:  # the timeout, Ctrl-C, anything: nothing of it may live on
        _kill_group(proc)
        raise
    finally:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        with _live_lock:  # reaped (or never will be): no longer a group to kill
            _live.pop(proc.pid, None)
            stopped = proc.pid in _stopped
            _stopped.discard(proc.pid)
    if stopped:
        raise HookFailed("command was stopped: the run is stopping (its process group was killed)")
    return result


def _communicate(
    proc: subprocess.Popen[bytes], payload: bytes, deadline: float | None
) -> tuple[int, bytes, bytes, bool]:
    """Feed stdin and read both pipes until the command exits (then only what the pipes
    already hold: a background process may keep them open)."""
    import selectors
    import subprocess
    import time

    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    cut = False
    sel = selectors.DefaultSelector()
    exits: int | None = None  # a pidfd: readable once the command exited (Linux)
    try:
        if hasattr(os, "pidfd_open"):
            try:
                exits = os.pidfd_open(proc.pid)
                sel.register(exits, selectors.EVENT_READ, "exit")
            except OSError:
                exits = None
        for pipe, tag in ((proc.stdout, "out"), (proc.stderr, "err")):
            os.set_blocking(pipe.fileno(), False)
            sel.register(pipe.fileno(), selectors.EVENT_READ, tag)
        if payload:
            os.set_blocking(proc.stdin.fileno(), False)
            sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE, "in")
        else:
            proc.stdin.close()
        sent = 0
        draining = False
        while True:
            now = time.monotonic()
            if not draining and proc.poll() is not None:
                draining, drain_until = True, now + _DRAIN
            reading = any(k.data in ("out", "err") for k in sel.get_map().values())
            if draining and (not reading or now >= drain_until):
                break
            if deadline is not None and now >= deadline:
                raise subprocess.TimeoutExpired(proc.args, 0)
            left = None if deadline is None else deadline - now
            if exits is None and not sel.get_map():  # every pipe closed, stdin fed: only
                proc.wait(left)  # the exit is left (with stdin unsent, keep feeding it)
                continue
            if draining:
                wait: float | None = 0.0  # only what is already there
            elif exits is None:  # no pidfd: look at the process now and then
                wait = 0.02 if left is None else min(left, 0.02)
            else:
                wait = left
            ready = sel.select(wait)
            if draining and not ready:
                break
            for key, _ in ready:
                if key.data == "exit":
                    sel.unregister(key.fd)
                elif key.data == "in":
                    try:
                        sent += os.write(key.fd, payload[sent : sent + 65536])
                    except BlockingIOError:
                        continue
                    except OSError:  # it exited or closed stdin before reading it all
                        sent = len(payload)
                    if sent >= len(payload):
                        sel.unregister(key.fd)
                        proc.stdin.close()
                else:
                    try:
                        chunk = os.read(key.fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        sel.unregister(key.fd)
                    elif key.data == "out":
                        room = MAX_OUTPUT - len(out)
                        out += chunk[:room]
                        cut = cut or len(chunk) > room
                    else:
                        err += chunk
                        if len(err) > 2 * MAX_OUTPUT:
                            del err[: len(err) - MAX_OUTPUT]
        code = proc.wait()
    finally:
        sel.close()
        if exits is not None:
            os.close(exits)
    return code, bytes(out), bytes(err[-MAX_OUTPUT:]), cut


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command and everything in its process group, and reap it."""
    import signal

    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - no process groups
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(json_safe(value))
