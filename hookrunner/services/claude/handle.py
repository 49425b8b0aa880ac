"""One Claude Code hook call, end to end: the input on stdin to the answer on stdout.

Claude Code starts a process for each hook event. ``handle`` reads the input, finds the
project's manifests (``--hooks``, else ``hooks.yaml`` in ``$CLAUDE_PROJECT_DIR``, else in
the input's ``cwd``), loads them (or, when they are invalid, the last valid set:
``host.lastgood``), fires the event with the input's fields as its arguments, records the
call in the project's session store under Claude Code's ``session_id`` (``journal``) and
answers (``protocol``). The hooks run under a deadline a little shorter than the timeout
Claude Code gives the command, so an answer always arrives while Claude Code still waits.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from ...host import lastgood
from ...host.runner import HookRunner
from ...kernel.errors import quoted
from ...kernel.errors import raised as what_raised
from ...kernel.runtime.hook import State
from ...kernel.runtime.results import EmitResult
from ..sessions.store import DEFAULT_STORE, Store, StoreError
from . import journal
from .protocol import EVENTS, AgentEvent, Answer, Outcome, answer, arguments

MANIFEST = "hooks.yaml"
SHOWN_PROBLEMS = 5


class Call(NamedTuple):
    """The command's options: manifests (relative to the project) and the timeout Claude
    Code was given for the command (seconds; None: Claude Code's default for the event)."""

    hooks: tuple[str, ...] = ()
    timeout: float | None = None


def margin(budget: float) -> float:
    """How long before the end of its timeout the command answers: a tenth, 0.1 to 1 s."""
    return min(1.0, max(0.1, budget / 10))


def handle(
    text: str,
    call: Call,
    environ: Mapping[str, str],
    started: float,
    on_deadline: Callable[[Answer], None],
) -> Answer:
    """Answer one hook input (``started``: ``time.monotonic()`` when the process began).

    When the hooks are still running at the deadline, ``on_deadline`` gets the answer then
    (it writes it and ends the process: the hooks are abandoned, as Claude Code would)."""
    try:
        payload = json.loads(text)
    except ValueError as exc:
        return _not_input(f"invalid JSON ({exc})")
    if not isinstance(payload, dict):
        return _not_input(f"a JSON {type(payload).__name__}, not an object")
    name = payload.get("hook_event_name")
    ev = EVENTS.get(name) if isinstance(name, str) else None
    if ev is None:
        return Answer(0, "", f"hookrunner: no catalogue event for {quoted(name)}; nothing ran\n")
    project = _project(environ, payload)
    paths = manifests(call.hooks, project, payload)
    if not paths:
        said = []
        if ev.claude == "SessionStart":  # said once a session, not on every tool use
            said.append(
                f"hookrunner: no {MANIFEST} in {project}: write one (see hookrunner's "
                "examples/claude), or pass --hooks PATH; no hooks run until then"
            )
        return answer(ev, payload, Outcome(()), said)
    budget = call.timeout or ev.budget
    base = Path(paths[0]).parent
    store = Store(base / DEFAULT_STORE)
    notes: list[str] = []
    data: dict[str, Any] = {}
    hooks_run = False  # the deadline records only then: before, the store may be in use
    t0 = time.perf_counter()

    def expire() -> None:
        # Loading or hooks are still running (in the main thread): answer without them.
        reply = answer(ev, payload, Outcome((), timed_out=budget), notes)
        if hooks_run:
            ms = (time.perf_counter() - t0) * 1e3
            _record(store, ev, payload, [], reply, ms, data | {"timed_out": True})
        on_deadline(reply)

    watch = _Deadline(started + budget - margin(budget) - time.monotonic(), expire)
    try:
        loaded = lastgood.load(
            paths, lastgood.record_path(paths, base / DEFAULT_STORE.parent), State(compile=False)
        )
        notes = _invalid(loaded, paths, project)
        if loaded.saved is not None:
            data["fallback"] = True
        if loaded.problems:
            data["invalid"] = len(loaded.problems)
        if loaded.registry is None:
            if not watch.cancel():
                threading.Event().wait()  # the deadline's answer is on its way
            reply = answer(ev, payload, Outcome(()), notes)
            _record(store, ev, payload, [], reply, 0.0, data)
            return reply
        if loaded.registry.manifest.settings.telemetry is not None or any(
            k.startswith("OTEL_") for k in environ
        ):
            from .. import telemetry  # noqa: F401 - registers tracing for the runner made next
        runner = HookRunner(loaded.registry, paths)
        kw = arguments(ev, payload)
        plan = runner.registry.plans[ev.event]
        if any("metadata" in h.takes or "**" in h.takes for h in plan.hooks):
            sid = payload.get("session_id")
            kw.setdefault("metadata", _metadata(store, sid) if isinstance(sid, str) else {})
        observed: list[EmitResult] = []
        traced = runner.registry.state.observer  # tracing's, when the runner traces
        if traced is None:
            runner.set_observer(observed.append)
        else:

            def both(result: EmitResult) -> None:
                observed.append(result)
                traced(result)

            runner.set_observer(both)
        t0 = time.perf_counter()
        hooks_run = True
        outcome = _emit(runner, ev, kw, observed, notes)
        if not watch.cancel():
            threading.Event().wait()  # the deadline's answer is on its way; it ends the process
        ms = (time.perf_counter() - t0) * 1e3
        reply = answer(ev, payload, outcome, notes)
        _record(store, ev, payload, observed, reply, ms, data)
        return reply
    finally:
        watch.cancel()
        store.close()


def _emit(
    runner: HookRunner,
    ev: AgentEvent,
    kw: dict[str, Any],
    observed: list[EmitResult],
    notes: list[str],
) -> Outcome:
    """Fire the event; a hook whose failure is raised (on_error: raise) is named in the
    outcome (its result was observed before the error came out)."""
    vetoed, reason, value, raised = False, None, None, None
    try:
        result = runner.emit(ev.event, **kw)
        vetoed, reason, value = result.vetoed, result.reason, result.value
    except Exception as exc:
        failed = [r for o in observed if o.event == ev.event for r in o.results if not r.ok]
        raised = failed[-1].name if failed else None
        if raised is None:
            notes.append(f"hookrunner: {ev.event} hooks raised {what_raised(exc)}")
    results = [r for o in observed if o.event == ev.event for r in o.results]
    return Outcome(results, vetoed, reason, value, raised)


class _Deadline:
    """Calls ``expire`` after ``seconds`` unless cancelled first (exactly one of the two).

    In the main thread an interval timer's signal does it (no thread to start: that costs
    a process more than the hooks, on a busy machine); elsewhere a timer thread."""

    def __init__(self, seconds: float, expire: Callable[[], None]):
        self._settled = False
        self._lock = threading.Lock()
        self._expire = expire
        self._alarm = hasattr(signal, "setitimer") and (
            threading.current_thread() is threading.main_thread()
        )
        if self._alarm:
            self._previous = signal.signal(signal.SIGALRM, self._ring)
            signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
        else:
            self._timer = threading.Timer(max(seconds, 0.0), self._ring)
            self._timer.daemon = True
            self._timer.start()

    def _ring(self, *_: Any) -> None:
        if self._alarm:  # a signal handler, in the main thread: a lock could deadlock here
            if self._settled:
                return
            self._settled = True
        else:
            with self._lock:
                if self._settled:
                    return
                self._settled = True
        self._expire()

    def cancel(self) -> bool:
        """True when it was cancelled in time; False when ``expire`` runs or ran."""
        if self._alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)  # no ring can come after this
            settled, self._settled = self._settled, True
            return not settled
        self._timer.cancel()
        with self._lock:
            if self._settled:
                return False
            self._settled = True
        return True


def _record(
    store: Store,
    ev: AgentEvent,
    payload: Mapping[str, Any],
    observed: Sequence[EmitResult],
    reply: Answer,
    ms: float,
    data: dict[str, Any],
) -> None:
    """Record the call; a store that cannot be written never costs the agent its answer."""
    try:
        journal.record(store, ev, payload, observed, reply.stdout, ms, data)
    except StoreError:
        pass


def _metadata(store: Store, session_id: str) -> dict[str, Any]:
    try:
        return store.metadata(session_id)
    except StoreError:
        return {}


def _not_input(why: str) -> Answer:
    # Exit 1 is Claude Code's non-blocking error: the agent goes on, the user sees the line.
    return Answer(1, "", f"hookrunner: stdin is not a Claude Code hook input: {why}\n")


def _project(environ: Mapping[str, str], payload: Mapping[str, Any]) -> Path:
    for candidate in (environ.get("CLAUDE_PROJECT_DIR"), payload.get("cwd")):
        if isinstance(candidate, str) and candidate:
            return Path(candidate)
    return Path.cwd()


def manifests(hooks: Sequence[str], project: Path, payload: Mapping[str, Any]) -> list[str]:
    """The manifests to load: ``hooks`` (relative to the project), else the first
    ``hooks.yaml`` of the project folder and the input's ``cwd``."""
    if hooks:
        return [str(project / h) for h in hooks]
    cwd = payload.get("cwd")
    for folder in (project, Path(cwd) if isinstance(cwd, str) and cwd else None):
        if folder is not None and (folder / MANIFEST).is_file():
            return [str(folder / MANIFEST)]
    return []


def _invalid(loaded: lastgood.Loaded, paths: Sequence[str], project: Path) -> list[str]:
    """What the user reads when the manifests on disk are invalid."""
    if not loaded.problems:
        return []
    names = ", ".join(_shown(p, project) for p in paths)
    if loaded.saved is not None:
        from datetime import UTC, datetime

        when = datetime.fromtimestamp(loaded.saved, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        head = (
            f"hookrunner: {names} is invalid; the last valid version (saved {when}) runs "
            "until it is fixed:"
        )
    else:
        head = f"hookrunner: {names} is invalid, so no hooks run until it is fixed:"
    shown = [str(replace(p, file=_shown(p.file, project))) for p in loaded.problems]
    lines = [head, *shown[:SHOWN_PROBLEMS]]
    if len(shown) > SHOWN_PROBLEMS:
        lines.append(f"(and {len(shown) - SHOWN_PROBLEMS} more: hookrunner validate {names})")
    return ["\n".join(lines)]


def _shown(file: str, project: Path) -> str:
    """A path as the user knows it: relative to the project when it is inside it."""
    try:
        return os.path.relpath(file, project) if Path(file).is_relative_to(project) else file
    except ValueError:
        return file
