"""Fire-and-forget delivery of notifications (SNS, SQS) on a bounded background queue.

A hook that notifies AWS must never slow down or fail the operation it observes, so it only
enqueues a ``Message``; one daemon thread sends it, retrying with exponential backoff while
other messages keep flowing. When the queue is full, or a message runs out of attempts, the
failure is logged (target name and error code only, never the payload or credentials) and
handed to the failure listeners (the session store records it). ``drain`` waits, with a bound,
for everything queued to be sent; sessions call it when they end, and so does every
``HookRunner.close()`` once this module is in use (it registers with the host).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...host import runner as host
from ...kernel import secrets

log = secrets.logger("hookrunner.delivery")

MAX_PENDING = 1000
DRAIN_TIMEOUT = 10.0


@dataclass
class Message:
    """One notification: ``send()`` performs it once and raises on failure."""

    service: str
    target: str
    send: Callable[[], Any]
    session_id: str | None = None
    hook: str | None = None
    max_attempts: int = 5
    backoff: float = 0.5
    attempts: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The target's short name (topic or queue), safe to log."""
        label = self.target.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]
        secrets.derive(self.target, label)
        return label


@dataclass(frozen=True)
class Failure:
    """A message that could not be delivered, as the session store records it."""

    service: str
    target: str
    session_id: str | None
    hook: str | None
    attempts: int
    error: str
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "target": self.target,
            "session_id": self.session_id,
            "hook": self.hook,
            "attempts": self.attempts,
            "error": self.error,
            "at": self.at,
        }


def describe(exc: BaseException) -> str:
    """An error as ``Type: AWS code``, without request payloads or credentials."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return f"{type(exc).__name__}: {code}"
    return type(exc).__name__


class Outbox:
    """The bounded queue plus its worker thread (started on first use)."""

    def __init__(self, max_pending: int = MAX_PENDING):
        self.max_pending = max_pending
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Message]] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[Failure], None]] = []
        self.failures: list[Failure] = []
        self.delivered = 0

    # ------------------------------------------------------------------ producers
    def submit(self, message: Message) -> bool:
        """Queue ``message``; False (and a recorded failure) when the queue is full."""
        with self._cond:
            if len(self._heap) + self._in_flight >= self.max_pending:
                full = True
            else:
                full = False
                heapq.heappush(self._heap, (time.monotonic(), next(self._seq), message))
                self._ensure_worker()
                self._cond.notify_all()
        if full:
            self._fail(message, f"delivery queue full ({self.max_pending} pending)")
            return False
        return True

    def drain(self, timeout: float = DRAIN_TIMEOUT) -> int:
        """Wait up to ``timeout`` seconds for the queue to empty; return what is left.

        Messages still queued at the deadline are given up and recorded as failures.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.05))
            abandoned = [m for _, _, m in self._heap]
            self._heap.clear()
            remaining = len(abandoned) + self._in_flight
        for m in abandoned:
            self._fail(m, f"not delivered before the {timeout:g}s drain deadline")
        return remaining

    # ------------------------------------------------------------------ listeners
    def add_listener(self, fn: Callable[[Failure], None]) -> Callable[[], None]:
        """Call ``fn`` with every ``Failure``; returns a function that removes it again."""
        with self._cond:
            self._listeners.append(fn)

        def remove() -> None:
            with self._cond:
                if fn in self._listeners:
                    self._listeners.remove(fn)

        return remove

    # ------------------------------------------------------------------ worker
    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._work, name="hookrunner-delivery", daemon=True
            )
            self._thread.start()

    def _next(self) -> Message:
        with self._cond:
            while True:
                if self._heap:
                    due = self._heap[0][0] - time.monotonic()
                    if due <= 0:
                        _, _, message = heapq.heappop(self._heap)
                        self._in_flight += 1
                        return message
                    self._cond.wait(due)
                else:
                    self._cond.wait()

    def _work(self) -> None:
        while True:
            message = self._next()
            try:
                self._attempt(message)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _attempt(self, message: Message) -> None:
        message.attempts += 1
        try:
            message.send()
        except Exception as exc:  # every failure is retried or recorded, never raised
            message.errors.append(describe(exc))
            if message.attempts >= message.max_attempts:
                self._fail(message, message.errors[-1])
                return
            delay = message.backoff * (2 ** (message.attempts - 1))
            log.info(
                "%s to %r failed (attempt %d/%d, %s); retrying in %.2fs",
                message.service,
                message.label,
                message.attempts,
                message.max_attempts,
                message.errors[-1],
                delay,
            )
            with self._cond:
                heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), message))
            return
        with self._cond:
            self.delivered += 1

    def _fail(self, message: Message, error: str) -> None:
        failure = Failure(
            service=message.service,
            target=message.target,
            session_id=message.session_id,
            hook=message.hook,
            attempts=message.attempts,
            error=error,
            at=datetime.now(UTC).isoformat(),
        )
        log.warning(
            "%s to %r given up after %d attempt(s): %s",
            message.service,
            message.label,
            message.attempts,
            error,
        )
        with self._cond:
            self.failures.append(failure)
            del self.failures[:-MAX_PENDING]
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(failure)
            except Exception:
                log.exception("a delivery failure listener failed")


OUTBOX = Outbox()


def submit(message: Message) -> bool:
    return OUTBOX.submit(message)


def drain(timeout: float = DRAIN_TIMEOUT) -> int:
    return OUTBOX.drain(timeout)


def add_listener(fn: Callable[[Failure], None]) -> Callable[[], None]:
    return OUTBOX.add_listener(fn)


def _drain_on_close(_: host.HookRunner) -> None:
    drain()


host.on_close(_drain_on_close)
