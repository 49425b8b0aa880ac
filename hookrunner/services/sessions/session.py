"""``Session``: one run or one conversation of a host application, recorded in a ``Store``.

A session has an id, metadata, feedback, checkpoints, a row for every hook call and, for a
pipeline run, a row for every node it ran. Hook-call rows, node rows and checkpoints are
buffered in memory and written in one transaction at most once a
second (or every 1,000 checkpoints) and when the session ends: recording must not cost more
than the hooks it records. Metadata and feedback (explicit user actions) are written at once,
except metadata set while the session ends (a run's outcome): that goes with the last rows
and the closing status, so that an end is one transaction and all or nothing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...kernel.errors import Veto, raised
from ...kernel.events import CATALOGUE
from ...kernel.runtime.results import CallRow, EmitResult
from ..aws import delivery
from ..telemetry import tracer_of
from .store import NodeRun, Store, dumps, loads, new_session_id

if TYPE_CHECKING:
    from ...host.runner import HookRunner

# Checkpoints buffered before a flush even within the interval: a transaction of a few
# thousand rows costs less per row than one of tens of thousands (its pages stay in
# SQLite's cache).
_FLUSH_BATCH = 1000


class Session:
    """One session on a HookRunner: emits with session fields filled, records every hook call.

    Open it with ``runner.session(...)`` (a context manager) or ``start()``/``end()``.
    """

    def __init__(
        self,
        runner: HookRunner,
        store: Store,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        kind: str = "session",
        source: str | None = None,
        resumed_from: str | None = None,
        flush_interval: float = 1.0,
        owns_store: bool = False,
    ):
        self.runner = runner
        self.store = store
        self.id = session_id or new_session_id()
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.kind = kind
        self.source = source
        self.resumed_from = resumed_from
        self.status = "new"
        self.flush_interval = flush_interval
        # Appended from any thread without a lock (deque appends are atomic); only flush()
        # takes items out, under its lock, so nothing appended during a flush is lost.
        self._calls: deque[CallRow] = deque()
        self._checkpoints: deque[tuple[float, str | None, str]] = deque()
        self._nodes: deque[NodeRun] = deque()
        # Calls made on another thread than this one record their thread (their lane).
        self._home = threading.get_ident()
        self._last_flush = time.monotonic()
        self._flush_lock = threading.Lock()
        self._previous_observer: Callable[[EmitResult], None] | None = None
        self._recording = False
        self._owns_store = owns_store
        # (event, hook) -> [calls, failures, total_ms, max_ms] of the calls written so far:
        # the run's summary needs them, and a query over the store's rows costs more.
        self._stats: dict[tuple[str, str], list[Any]] = {}
        # While the session ends: metadata (key → JSON) that the transaction closing the
        # record writes, so that ending costs one transaction.
        self._staged: dict[str, str] | None = None
        self._stop_listening: Callable[[], None] | None = None
        # A host session's span and tracer when its runner traces (a run has its run's span).
        self._span: Any = None
        self._tracer: Any = None
        self._scope: Callable[[], AbstractContextManager[Any]] = _no_scope

    # ------------------------------------------------------------------ recording
    def record(self, result: EmitResult) -> None:
        """The runner's observer: the emit's call rows, made at once (the result is still in
        the processor's cache, and a row of plain values costs the collector nothing); rows
        made on another thread than the session's own name that thread."""
        rows = result.rows(time.time())
        if threading.get_ident() != self._home:
            lane = threading.current_thread().name
            rows = [row._replace(lane=lane) for row in rows]
        self._calls.extend(rows)
        if self._previous_observer is not None:
            self._previous_observer(result)

    def record_remote(self, calls: list[CallRow], worker: str) -> None:
        """Hook calls made in another process (a distributed runner's worker): stored like
        local ones, with the worker's name."""
        self._calls.extend([row._replace(worker=worker) for row in calls])

    def lane(self) -> str | None:
        """The lane of work done on this thread: None on the session's own thread, else the
        thread's name (as hook-call rows name it)."""
        if threading.get_ident() == self._home:
            return None
        return threading.current_thread().name

    def record_node(
        self,
        node: str,
        started: float,
        ended: float,
        lane: str | None = None,
        error: str | None = None,
    ) -> None:
        """A node the run ran (seconds since the epoch; ``lane``: its thread or worker, None
        for the session's own thread; ``error``: why it failed). Written with the next
        flush."""
        self._nodes.append(_node_run(NodeRun, (node, started, ended, lane, error)))

    def start_recording(self) -> None:
        """Record hook calls from now on (before ``start`` too: the run's CLI events)."""
        if not self._recording:
            state = self.runner.registry.state
            self._previous_observer = state.observer
            self.runner.set_observer(self.record)
            self._recording = True

    def stop_recording(self) -> None:
        if self._recording:
            self.runner.set_observer(self._previous_observer)
            self._recording = False

    def flush(
        self,
        end: tuple[str, dict[str, Any] | None] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Write buffered hook calls and checkpoints in one transaction (which closes the
        session's record too when ``end`` is its status and summary, with ``metadata``)."""
        with self._flush_lock:
            rows = _drain(self._calls)
            checkpoints = _drain(self._checkpoints)
            nodes = _drain(self._nodes)
            self._last_flush = time.monotonic()
            self.store.flush(self.id, rows, checkpoints, end, metadata, nodes)
            self._count(rows)

    def _count(self, rows: list[CallRow]) -> None:
        """Add written call rows to the per-hook stats."""
        durations: dict[tuple[str, str], list[float]] = defaultdict(list)
        failed: Counter[tuple[str, str]] = Counter()
        for r in rows:
            durations[r.event, r.hook].append(r.duration_ms)
            if not r.ok:
                failed[r.event, r.hook] += 1
        stats = self._stats
        for key, ms in durations.items():
            s = stats.get(key)
            if s is None:
                stats[key] = [len(ms), failed[key], sum(ms), max(ms)]
            else:
                s[0] += len(ms)
                s[1] += failed[key]
                s[2] += sum(ms)
                s[3] = max(s[3], max(ms))

    def _maybe_flush(self) -> None:
        if (
            len(self._checkpoints) >= _FLUSH_BATCH
            or time.monotonic() - self._last_flush >= self.flush_interval
        ):
            self.flush()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Session:
        """Store the session row and fire ``session_start`` (returned mappings → metadata)."""
        self.start_recording()
        self.store.begin(self.id, self.kind, self.source, self.metadata, self.resumed_from)
        self.status = "running"
        self._stop_listening = delivery.add_listener(self._delivery_failed)
        tracer = tracer_of(self.runner) if self.kind != "run" else None
        if tracer is not None:
            self._start_span(tracer)
        self.emit("session_start")
        return self

    def _start_span(self, tracer: Any) -> None:
        """Make this session a span, with what it emits and writes inside it (set once, at
        start: a session that is not traced keeps the plain methods)."""
        from opentelemetry import trace

        self._tracer = tracer
        span = self._span = tracer.start_session(self.id, self.kind)
        plain_emit = self.emit

        def scope() -> AbstractContextManager[Any]:
            return trace.use_span(span, end_on_exit=False)

        def emit(event: str, /, **kwargs: Any) -> EmitResult:
            with scope():
                return plain_emit(event, **kwargs)

        self._scope = scope
        setattr(self, "emit", emit)  # noqa: B010 - an instance attribute, like the runner's

    def end(
        self,
        status: str = "ok",
        summary: dict[str, Any] | None = None,
        keep_recording: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Merge ``metadata`` (the outcome, through the ``session_metadata`` wrap hooks), fire
        ``pre_session_end`` and ``session_end`` and close the record (always pair). Metadata
        set while the session ends is written with the record's closing, in one transaction.

        ``keep_recording`` lets the caller record hook calls that belong to the session but
        come after its end (a run's ``after_command_run``); it flushes them itself."""
        if self.status != "running":
            self.stop_recording()
            return
        self._staged = {}
        try:
            if metadata:
                self.update_metadata(metadata)
            self.status = status
            self.emit("pre_session_end")
            self.emit("session_end")
        finally:
            self.status = status
            staged, self._staged = self._staged, None
            self._drain_deliveries()
            try:
                self.flush(end=(status, summary), metadata=staged)
            finally:
                if self._span is not None:
                    self._tracer.end_session(self._span, status, (summary or {}).get("error"))
                    self._span = None
            if not keep_recording:
                self.stop_recording()
            if self._owns_store:
                self.store.close()

    def _delivery_failed(self, failure: delivery.Failure) -> None:
        """An AWS notification of this session (or of no session) was given up: record it."""
        if failure.session_id not in (None, self.id):
            return
        error = (
            f"{failure.service} to {failure.target}: {failure.error} "
            f"({failure.attempts} attempt(s))"
        )
        row = CallRow(time.time(), "delivery", failure.hook or failure.service, False, error, 0.0)
        with self._flush_lock:
            self.store.flush(self.id, [row], [])
            self._count([row])

    def _drain_deliveries(self) -> None:
        """Wait (bounded) for queued notifications so their failures land in this session."""
        stop, self._stop_listening = self._stop_listening, None
        if stop is not None:
            try:
                delivery.drain()
            finally:
                stop()

    def __enter__(self) -> Session:
        if self.status == "new":
            self.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.end("ok")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("interrupted")
        else:
            self.end("failed", {"error": raised(exc)})

    # ------------------------------------------------------------------ events
    def emit(self, event: str, /, **kwargs: Any) -> EmitResult:
        """Emit with ``session_id``, ``timestamp`` and ``metadata`` filled in; a session event's
        returned mappings are merged into the session's metadata."""
        plan = self.runner.registry.plans.get(event)
        if plan is not None and not plan.hooks and plan.spec.style not in ("slot", "wrap"):
            return plan.emit(kwargs)  # no hook to fill the arguments in for
        spec = self.runner.registry.events.get(event)
        takes = spec.all_args if spec is not None else ()  # unknown: emit raises below
        if "session_id" in takes:
            kwargs.setdefault("session_id", self.id)
        if "timestamp" in takes:
            kwargs.setdefault("timestamp", datetime.now(UTC))
        if "metadata" in takes:
            kwargs.setdefault("metadata", dict(self.metadata))
        result = self.runner.emit(event, **kwargs)
        if result.changes and event in _SESSION_EVENTS:
            chain = self.runner.registry.events[event].chain
            changes = {k: v for k, v in result.changes.items() if k != chain}
            if changes:
                self._write_metadata(changes)
                self.metadata.update(changes)
        return result

    def update_metadata(self, metadata: dict[str, Any]) -> EmitResult:
        """Merge ``metadata`` through the ``session_metadata`` wrap hooks (which may refuse)."""

        def op(metadata: Any = None, **_: Any) -> dict[str, Any]:
            data = dict(metadata or {})
            self._write_metadata(data)
            self.metadata.update(data)
            return dict(self.metadata)

        with self._scope():
            return self.runner.wrap(
                "session_metadata", op, action="update", session_id=self.id, metadata=dict(metadata)
            )

    def _write_metadata(self, data: dict[str, Any]) -> None:
        """Store metadata now, or with the record's closing while the session ends."""
        if self._staged is None:
            self.store.set_metadata(self.id, data)
        else:
            self._staged.update((str(k), dumps(v)) for k, v in data.items())

    def get_metadata(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The stored metadata (only ``keys`` if given), through the wrap hooks (a cache may
        answer); raises ``Veto`` when a wrapper refuses."""

        def op(keys: Any = None, **_: Any) -> dict[str, Any]:
            data = self.store.metadata(self.id)
            if self._staged:  # written when the record closes; read as if written now
                data.update((k, loads(v)) for k, v in self._staged.items())
                data = dict(sorted(data.items()))
            return data if keys is None else {k: data[k] for k in keys if k in data}

        with self._scope():
            result = self.runner.wrap(
                "session_metadata",
                op,
                action="get",
                session_id=self.id,
                keys=None if keys is None else list(keys),
            )
        if result.vetoed:
            raise Veto(result.reason or "refused")
        return result.value

    def delete_metadata(self, keys: Iterable[str]) -> EmitResult:
        def op(keys: Any = None, **_: Any) -> list[str]:
            names = list(keys or [])
            self.store.delete_metadata(self.id, names)
            for k in names:
                self.metadata.pop(k, None)
                if self._staged:
                    self._staged.pop(str(k), None)
            return names

        with self._scope():
            return self.runner.wrap(
                "session_metadata", op, action="delete", session_id=self.id, keys=list(keys)
            )

    def add_feedback(self, feedback: dict[str, Any]) -> EmitResult:
        """Store feedback (``rating``: up/down/None, ``comment``) through ``session_feedback``."""

        def op(feedback: Any = None, **_: Any) -> int:
            return self.store.add_feedback(self.id, dict(feedback or {}))

        with self._scope():
            return self.runner.wrap(
                "session_feedback", op, action="add", session_id=self.id, feedback=dict(feedback)
            )

    def checkpoint(
        self,
        data: dict[str, Any] | None = None,
        node: str | None = None,
        encoded: str | None = None,
    ) -> bool:
        """``pre_checkpoint`` may veto; a stored checkpoint fires ``post_checkpoint``.

        Returns False when vetoed (nothing is stored, so ``--resume`` will redo that work).
        ``encoded`` is ``data`` as JSON when the caller has it already (runners reuse it).
        """
        data = data or {}
        plans = self.runner.registry.plans
        if (
            plans["pre_checkpoint"].hooks
            and self.emit("pre_checkpoint", checkpoint_data=data).vetoed
        ):
            return False
        self._checkpoints.append((time.time(), node, encoded or dumps(data)))
        if plans["post_checkpoint"].hooks:
            self.emit("post_checkpoint", checkpoint_data=data)
        self._maybe_flush()
        return True

    def carry_checkpoint(self, data: dict[str, Any], node: str | None = None) -> None:
        """Copy a checkpoint from a resumed session (no hooks: the work was done before)."""
        self._checkpoints.append((time.time(), node, dumps(data)))

    def hook_stats(self) -> list[dict[str, Any]]:
        """Per hook: calls, failures, total and slowest duration (slowest total first), as
        ``Store.hook_stats`` reads them back, from counts kept as the calls are written."""
        self.flush()
        with self._flush_lock:
            items = list(self._stats.items())
        stats = [
            {"event": e, "hook": h, "calls": n, "failures": f, "total_ms": t, "max_ms": m}
            for (e, h), (n, f, t, m) in items
        ]
        stats.sort(key=lambda s: s["total_ms"], reverse=True)
        return stats


_NO_SCOPE = nullcontext()
_node_run = tuple.__new__  # NodeRun's own __new__ is a Python function; this is the C one


def _no_scope() -> AbstractContextManager[Any]:
    return _NO_SCOPE


def _drain(items: deque[Any]) -> list[Any]:
    """Take what ``items`` holds now; what other threads append meanwhile stays for later."""
    popleft = items.popleft
    return [popleft() for _ in range(len(items))]


_SESSION_EVENTS = frozenset(e.name for e in CATALOGUE if e.group == "session")
