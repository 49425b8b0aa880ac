"""Hot reload: watch the manifest set and swap in a new registry after each valid change.

Editors save in three ways, and each looks different to inotify/watchdog:

- in place: ``modified`` (possibly several, the first *before* the data is written) and then
  ``closed`` once the writer closes the file;
- temp file then rename over the target (vim, ``sed -i``): a single ``moved`` whose
  destination is the watched file (or ``created`` when the temp file lived elsewhere);
- delete then create: ``deleted``, ``created``, ``modified``, ``closed``.

So directories are watched (a rename replaces the inode a file watch would follow) and events
are filtered by path. A file whose last event says its content is complete (``closed``, moved
into place) reloads after a very short settle. A file written in place (``modified``) is read
only once its writer closed it, where the observer reports closes (inotify, on Linux): a
writer that pauses halfway is waited for, however long it pauses (if no close comes within
``WRITE_WAIT``, which only a lost event explains, it is read once it is stable). Where no
close is reported, a modified file is read once it has stopped changing: no event for the
debounce, then the same size and modification time over another ``STABLE`` interval. Any other
last event (a deletion that may be followed by a create, a new file, a ``touch``) waits for
the debounce to pass quietly. Reading happens on a worker thread, never on watchdog's. A file in a folder that does not exist yet
(a new include) is watched through its nearest existing ancestor until the folder appears.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..kernel import secrets
from ..kernel.document import Document
from ..kernel.errors import Problem, ValidationError
from .diff import RegistryDiff
from .modules import project_modules

log = secrets.logger("hookrunner.reload")

# Seconds of quiet before reading, after an event that completes a file / after any other one.
SETTLE = 0.001
DEBOUNCE = 0.05
# Without close events: how long a modified file must keep its size and time to be read.
STABLE = 0.2
# With close events: how long a file written in place may stay open (no event at all)
# before it is read anyway, if it is stable (a close can only be missing if events were lost).
WRITE_WAIT = 10.0

# What the last event of a file says about its content.
COMPLETE, WRITING, QUIET = "complete", "writing", "quiet"
_COMPLETE = frozenset({"closed"})
_WATCHED_TYPES = frozenset({"modified", "attrib", "created", "deleted", "moved", "closed"})


class Target(Protocol):
    """What a watcher reloads: a ``HookRunner``, or the files of a pipeline run."""

    @property
    def generation(self) -> int: ...

    def reload(self, changed: Iterable[str | os.PathLike[str]] = ()) -> RegistryDiff | None: ...

    def watched_files(self) -> set[Path]: ...


@dataclass
class Reload:
    """The outcome of one reload attempt, as passed to ``on_reload`` callbacks."""

    files: list[Path]
    generation: int
    diff: RegistryDiff | None = None
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    # perf_counter() right after the new generation went live, before the registry diff
    # (benchmarks measure to here).
    swapped_at: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """The report ``hookrunner watch`` prints and the log receives."""
        names = ", ".join(p.name for p in self.files) or "manual"
        if self.ok and self.diff is None:
            return [f"reloaded ({names}): generation {self.generation}"]
        if self.ok:
            assert self.diff is not None
            head = f"reloaded ({names}): generation {self.diff.new}, {self.diff.summary()}"
            if self.diff.empty and not self.diff.modules:  # the head says so already
                return [head]
            return [head] + ["  " + line for line in self.diff.lines()]
        n = len(self.problems)
        head = (
            f"invalid edit ({names}): {n} problem{'s' if n != 1 else ''}, "
            f"generation {self.generation} stays live"
        )
        return [head] + ["  " + str(p) for p in self.problems]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "generation": self.generation,
            "files": [str(p) for p in self.files],
            "seconds": round(self.seconds, 6),
            "diff": self.diff.as_dict() if self.diff is not None else None,
            "problems": [p.as_dict() for p in self.problems],
        }


class Watcher:
    """Watches what a ``HookRunner`` (or another ``Target``) loaded, plus ``extra_paths``, and
    reloads it on change.

    ``on_reload`` is called on the watcher's thread after every attempt. An invalid edit is
    logged once (the same problems again are not repeated) and the last good registry stays.
    """

    def __init__(
        self,
        runner: Target,
        extra_paths: Iterable[str | os.PathLike[str]] = (),
        on_reload: Callable[[Reload], None] | None = None,
        debounce: float = DEBOUNCE,
        settle: float = SETTLE,
    ):
        self.runner = runner
        self.debounce = debounce
        self.settle = settle
        self._callbacks: list[Callable[[Reload], None]] = [on_reload] if on_reload else []
        self._extra = {Path(os.path.realpath(p)) for p in extra_paths}
        self._files: frozenset[str] = frozenset()
        # Folders of watched files that do not exist yet: their nearest existing ancestor is
        # watched, and creating a folder on the way triggers a rescan.
        self._missing_dirs: frozenset[str] = frozenset()
        self._rescan = False
        self._cond = threading.Condition()
        self._pending: dict[str, str] = {}  # path → COMPLETE, WRITING or QUIET
        self._closes = False  # the observer reports closes (inotify): wait for them
        self._last_event = 0.0
        self._stopping = False
        self._observer: Any = None
        self._watches: dict[str, Any] = {}
        self._refresh_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._reported: list[str] | None = None

    # ------------------------------------------------------------------ public
    @property
    def files(self) -> frozenset[str]:
        """Every file currently watched (absolute paths)."""
        return self._files

    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Watch more files (e.g. a pipeline file); a change to them reloads like any other."""
        self._extra.update(Path(os.path.realpath(p)) for p in paths)
        if self._observer is not None:
            self.refresh()

    def start(self) -> None:
        """Start watching (a watchdog observer thread plus one worker thread)."""
        from watchdog.observers import Observer

        if self._observer is not None:
            return
        self._observer = Observer(timeout=0.1)
        self._closes = _reports_closes(self._observer)
        self.refresh()
        self._observer.start()
        self._worker = threading.Thread(target=self._work, name="hookrunner-reload", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Stop both threads and wait for them (safe to call twice, or from a callback)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            if observer is not threading.current_thread():
                observer.join()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ watchdog side
    def dispatch(self, event: Any) -> None:
        """watchdog handler entry point: note which watched files were touched, nothing more."""
        kind = event.event_type
        if event.is_directory:
            if kind in ("created", "moved") and self._missing_dirs:
                made = os.fsdecode(event.dest_path if kind == "moved" else event.src_path)
                if any(m == made or m.startswith(made + os.sep) for m in self._missing_dirs):
                    with self._cond:
                        self._rescan = True
                        self._cond.notify()
            return
        if kind not in _WATCHED_TYPES:
            return
        files = self._files
        hits: list[tuple[str, str]] = []
        src = os.fsdecode(event.src_path)
        if src in files:
            # A file moved away is gone until something replaces it.
            if kind in _COMPLETE:
                state = COMPLETE
            elif kind == "modified" and self._closes:
                state = WRITING  # written through an open file: its close will follow
            else:
                state = QUIET
            hits.append((src, state))
        if kind == "moved":
            dest = os.fsdecode(event.dest_path)
            if dest in files:
                hits.append((dest, COMPLETE))  # renamed into place: written and closed
        if not hits:
            return
        with self._cond:
            for path, state in hits:
                self._pending[path] = state
            self._last_event = time.monotonic()
            self._cond.notify()

    def refresh(self, keep: bool = False) -> None:
        """Watch the folders of every file in the current set (recomputed after each reload).

        After a failed reload, ``keep`` holds on to files no longer found (a module that does
        not import any more is not in ``sys.modules``, but its fix must still be seen).
        """
        with self._refresh_lock:
            self._refresh(keep)

    def _refresh(self, keep: bool) -> None:
        files = {str(p) for p in self.runner.watched_files() | self._extra}
        if keep:
            files |= self._files
        self._files = frozenset(files)
        observer = self._observer
        if observer is None:
            return
        wanted: set[str] = set()
        missing: set[str] = set()
        for folder in {os.path.dirname(f) for f in files}:
            if not os.path.isdir(folder):
                missing.add(folder)
                while folder != os.path.dirname(folder) and not os.path.isdir(folder):
                    folder = os.path.dirname(folder)
            wanted.add(folder)
        self._missing_dirs = frozenset(missing)
        for folder in list(self._watches):
            if folder not in wanted:
                try:
                    observer.unschedule(self._watches.pop(folder))
                except (KeyError, OSError):
                    pass
        for folder in wanted - set(self._watches):
            try:
                self._watches[folder] = observer.schedule(self, folder, recursive=False)
            except OSError as exc:
                log.warning("cannot watch %s: %s", folder, exc)

    # ------------------------------------------------------------------ worker side
    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._rescan and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                rescan, self._rescan = self._rescan, False
            if rescan:
                self._found_folders()
            with self._cond:
                if not self._pending:
                    continue
                if not self._wait_until_complete():
                    return
                changed = sorted(self._pending)
                self._pending.clear()
            try:
                self._reload([Path(p) for p in changed])
            except (
                BaseException
            ):  # the watcher must survive anything a reload throws (sys.exit too)
                log.exception("hot reload failed unexpectedly")

    def _wait_until_complete(self) -> bool:
        """Wait (holding the condition) until every pending file may be read: closed by its
        writer, or quiet, or stable (see the module docstring); False when stopping."""
        while not self._stopping:
            states = set(self._pending.values())
            now = time.monotonic()
            if WRITING in states:
                remaining = self._last_event + WRITE_WAIT - now
                if remaining > 0:  # a writer still has the file open: wait for its close
                    self._cond.wait(remaining)
                    continue
            quiet = self.settle if states == {COMPLETE} else self.debounce
            remaining = self._last_event + quiet - now
            if remaining > 0:
                self._cond.wait(remaining)
                continue
            if states == {COMPLETE} or (self._closes and WRITING not in states):
                return True
            # No close to go by (or it never came): read once the files stopped changing.
            last = self._last_event
            before = _snapshot(self._pending)
            self._cond.wait(STABLE)
            if self._stopping:
                break
            if self._last_event == last and _snapshot(self._pending) == before:
                return True
        return False

    def _found_folders(self) -> None:
        """A missing folder appeared: watch it, and count files already in it as changed."""
        missing = self._missing_dirs
        self.refresh(keep=True)
        arrived = [f for f in self._files if os.path.dirname(f) in missing and os.path.exists(f)]
        if arrived:
            with self._cond:
                for f in arrived:
                    self._pending.setdefault(f, QUIET)  # maybe still being written: debounce
                self._last_event = time.monotonic()

    def _reload(self, changed: list[Path]) -> None:
        started = time.perf_counter()
        try:
            diff = self.runner.reload(changed)
            # The swap itself, when the target says (a HookRunner does): not after the diff.
            swapped_at = getattr(self.runner, "swapped_at", 0.0) or time.perf_counter()
            if swapped_at < started:
                swapped_at = time.perf_counter()
        except ValidationError as exc:
            report = Reload(changed, self.runner.generation, problems=exc.problems)
            report.seconds = time.perf_counter() - started
            text = [str(p) for p in exc.problems]
            self.refresh(keep=True)
            if text == self._reported:  # an invalid edit is reported once, not once per event
                return
            self._reported = text
            log.error("%s", "\n".join(report.lines()))
        else:
            report = Reload(changed, self.runner.generation, diff=diff, swapped_at=swapped_at)
            report.seconds = swapped_at - started
            self._reported = None
            log.info("%s", "\n".join(report.lines()))
            self.refresh()
        for callback in list(self._callbacks):
            try:
                callback(report)
            except BaseException:  # a callback that calls sys.exit() must not stop the watcher
                log.exception("on_reload callback failed")


def _reports_closes(observer: Any) -> bool:
    """Whether ``observer`` reports a writer closing a file (watchdog's inotify observer)."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux
        return False
    return isinstance(observer, InotifyObserver)


def _snapshot(paths: Iterable[str]) -> dict[str, tuple[int, int, int] | None]:
    """Size, modification time and inode of each file (None: gone), to see it is stable."""
    out: dict[str, tuple[int, int, int] | None] = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out[path] = None
        else:
            out[path] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def watch_list(roots: Iterable[str | os.PathLike[str]], documents: Iterable[Document]) -> set[Path]:
    """The files behind a loaded set: ``roots``, every document, every include (found or not:
    creating a missing include must reload) and the project's imported modules."""
    # realpath, not resolve(): a symlink loop is reported by the reload, it must not raise here
    out = {Path(os.path.realpath(p)) for p in roots}
    for doc in documents:
        out.add(Path(os.path.realpath(doc.file)))
        includes = doc.data.get("include") if isinstance(doc.data, dict) else None
        for inc in includes if isinstance(includes, list) else ():
            if isinstance(inc, str) and "\0" not in inc:
                out.add(Path(os.path.realpath(doc.directory / inc)))
    out.update(Path(f) for f in project_modules({str(p.parent) for p in out}).values())
    return out
