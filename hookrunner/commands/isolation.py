"""``hookrunner validate``'s checks in a child process, each import of a named module bounded.

Checking what a file names in a module means importing it, and importing runs the module's
top level, which may call ``os._exit``, raise ``SystemExit`` or never return. So the checks
run in a child process (forked on Linux, where that costs about a millisecond; a fresh
interpreter elsewhere) that reports each import before it starts. A child that dies inside an
import, or stays in one past the bound (``HOOKRUNNER_IMPORT_TIMEOUT`` seconds, default 10), is
stopped; that module becomes a problem at every line that names it, and a new child checks
everything again with that module refused, until the report is complete. What the child
sends back is scrubbed of the secrets it read from the environment.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from ..kernel.errors import HookrunnerError


def _bound() -> float:
    try:
        return max(0.1, float(os.environ.get("HOOKRUNNER_IMPORT_TIMEOUT", "10")))
    except ValueError:
        return 10.0


HANG_HINT = (
    "a module must not block when imported (a loop, a server, input()); the bound is "
    "HOOKRUNNER_IMPORT_TIMEOUT seconds"
)
EXIT_HINT = (
    "a module must not exit when imported; move that code under `if __name__ == '__main__':`"
)


class Stopped(HookrunnerError):
    """The child ended outside any import (not the project's doing: nothing to locate)."""


class _Refused(NamedTuple):
    module: str
    message: str
    hint: str


_TIMEOUT = object()


class _Child:
    """A running child and the pipe its messages come on, one JSON object a line."""

    def __init__(self, fd: int, wait: Callable[[], int], kill: Callable[[], None]):
        self.fd = fd
        self._wait, self._kill = wait, kill
        self.code: int | None = None
        self._buffer = b""
        self._eof = False

    def line(self, timeout: float | None) -> Any:
        """The next line, None once the child closed the pipe, or ``_TIMEOUT``."""
        import select

        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer and not self._eof:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.fd], [], [], left)[0]:
                return _TIMEOUT
            chunk = os.read(self.fd, 65536)
            self._buffer += chunk
            self._eof = not chunk
        if b"\n" not in self._buffer:
            return None
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8")

    def wait(self) -> int:
        if self.code is None:
            self.code = self._wait()
        return self.code

    def close(self) -> None:
        if self.code is None:
            try:
                self._kill()
            except OSError:  # already gone
                pass
            self.wait()
        os.close(self.fd)


class _ThreadedChild(_Child):
    """Where ``select`` cannot wait on a pipe (Windows): a thread reads it."""

    def __init__(self, fd: int, wait: Callable[[], int], kill: Callable[[], None]):
        import queue
        import threading

        super().__init__(fd, wait, kill)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._empty = queue.Empty
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with os.fdopen(os.dup(self.fd), "rb") as stream:
            for raw in stream:
                self._lines.put(raw.decode("utf-8").rstrip("\n"))
        self._lines.put(None)

    def line(self, timeout: float | None) -> Any:
        try:
            return self._lines.get(timeout=timeout)
        except self._empty:
            return _TIMEOUT


class _Watch:
    """The child's side: each import announced before it starts; refused ones refused."""

    def __init__(self, send: Callable[[dict[str, Any]], None], refused: dict[str, _Refused]):
        self.send = send
        self.refused = refused

    def starting(self, module: str) -> None:
        bad = self.refused.get(module)
        if bad is not None:
            from ..kernel.errors import ResolveError

            raise ResolveError(bad.message, bad.hint)
        self.send({"start": module})

    def finished(self, module: str) -> None:
        self.send({"end": module})


Check = Callable[[list[Path]], list[dict[str, Any]]]


def _run_checks(check: Check, targets: list[Path], refused: dict[str, _Refused], fd: int) -> None:
    """In the child: ``check(targets)``, announcing imports and the report on ``fd``."""
    from ..kernel.resolve import watch_imports
    from ..kernel.secrets import scrub_data

    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a module reading stdin at import gets EOF, not the terminal
    os.close(devnull)
    os.dup2(2, 1)  # what modules print goes to stderr, never into the JSON report
    out = os.fdopen(fd, "w", encoding="utf-8")

    def send(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    watch_imports(_Watch(send, refused))
    report = check(targets)
    watch_imports(None)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # what modules printed comes out before the parent prints the report
    send({"report": scrub_data(report)})
    out.close()


def _end(code: int) -> None:
    """Leave the child at once: no atexit handler or thread of an imported module runs."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
    os._exit(code)


def _fork(check: Check, _entry: str, targets: list[Path], refused: dict[str, _Refused]) -> _Child:
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child would write the parent's pending output again
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(r)
            _run_checks(check, targets, refused, w)
        except BaseException:  # noqa: BLE001 - reported, and the parent says it stopped
            import traceback

            traceback.print_exc()
            code = 70
        _end(code)
    os.close(w)

    def wait() -> int:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    def kill() -> None:
        import signal

        os.kill(pid, signal.SIGKILL)

    return _Child(r, wait, kill)


def child_main() -> None:
    """The spawned child (platforms without a cheap fork): the request comes on stdin."""
    from ..kernel.secrets import guard_streams

    guard_streams()
    request = json.loads(sys.stdin.read())
    fd = os.dup(1)
    code = 0
    try:
        import importlib

        module, _, name = request["entry"].partition(":")
        check = getattr(importlib.import_module(module), name)
        refused = {k: _Refused(*v) for k, v in request["refused"].items()}
        _run_checks(check, [Path(t) for t in request["targets"]], refused, fd)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 70
    _end(code)


def _spawn(_check: Check, entry: str, targets: list[Path], refused: dict[str, _Refused]) -> _Child:
    import subprocess

    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from hookrunner.commands.isolation import child_main; child_main()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    request = {"entry": entry, "targets": [str(t) for t in targets], "refused": refused}
    proc.stdin.write(json.dumps(request).encode("utf-8"))
    proc.stdin.close()
    fd = os.dup(proc.stdout.fileno())
    proc.stdout.close()
    kind = _Child if os.name == "posix" else _ThreadedChild
    return kind(fd, proc.wait, proc.kill)


def _how(code: int) -> str:
    import signal

    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _attempt(
    check: Check,
    entry: str,
    targets: list[Path],
    refused: dict[str, _Refused],
    bound: float,
    method: str,
) -> list[dict[str, Any]] | _Refused:
    child = (_fork if method == "fork" else _spawn)(check, entry, targets, refused)
    # The imports under way, outermost first: a module importing another through hookrunner
    # (a HookRunner made at import time) nests a start and end inside its own, and the
    # limit runs from the outermost start.
    under_way: list[str] = []
    started = 0.0
    try:
        while True:
            current = under_way[0] if under_way else None
            wait = None if current is None else max(0.0, started + bound - time.monotonic())
            line = child.line(wait)
            if line is _TIMEOUT:
                assert current is not None
                return _Refused(
                    current, f"importing {current!r} did not finish within {bound:g} s", HANG_HINT
                )
            if line is None:
                code = child.wait()
                if current is None:
                    raise Stopped(f"validation stopped unexpectedly ({_how(code)})")
                return _Refused(
                    current, f"importing {current!r} ended the process ({_how(code)})", EXIT_HINT
                )
            message = json.loads(line)
            if "start" in message:
                if not under_way:
                    started = time.monotonic()
                under_way.append(message["start"])
            elif "end" in message:
                if under_way:
                    under_way.pop()
            elif "report" in message:
                report: list[dict[str, Any]] = message["report"]
                return report
    finally:
        child.close()


def isolated(
    targets: list[Path],
    check: Check,
    entry: str,
    bound: float | None = None,
    method: str | None = None,
) -> list[dict[str, Any]]:
    """``check(targets)`` run in a child, every import bounded (see above); ``entry`` names
    ``check`` as ``module:function`` for a spawned child to import."""
    bound = _bound() if bound is None else bound
    method = method or ("fork" if sys.platform.startswith("linux") else "spawn")
    refused: dict[str, _Refused] = {}
    while True:
        outcome = _attempt(check, entry, targets, refused, bound, method)
        if not isinstance(outcome, _Refused):
            return outcome
        if outcome.module in refused:  # refusing it did not help: not the module's doing
            raise Stopped(f"validation stopped unexpectedly while refusing {outcome.module!r}")
        refused[outcome.module] = outcome
