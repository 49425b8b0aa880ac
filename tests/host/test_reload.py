"""Hot reload end to end: real files, a real watchdog observer, real threads."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hookrunner import HookRunner, ValidationError
from hookrunner.host.reload import Reload, Watcher

WAIT = 10.0  # generous: CI machines are shared; success normally takes milliseconds


def wait_for(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


class Lines:
    """Lines of a subprocess stream, read on a thread so that a missing line fails, not hangs."""

    def __init__(self, stream):
        self.q: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream) -> None:
        for line in stream:
            self.q.put(line)

    def next(self, timeout: float = WAIT) -> str:
        return self.q.get(timeout=timeout)

    def rest(self) -> str:
        """Everything not read yet, up to the end of the stream (call after the exit)."""
        self.thread.join(WAIT)
        return "".join(self.q.queue)


class Live:
    """A watched runner plus every reload report it produced."""

    def __init__(self, path: Path):
        self.reports: queue.Queue[Reload] = queue.Queue()
        self.runner = HookRunner.from_files(path, watch=True, on_reload=self.reports.put)

    def names(self, event: str = "session_start") -> list[str]:
        return [r.name for r in self.runner.emit(event).results]

    def next_report(self, timeout: float = WAIT) -> Reload:
        return self.reports.get(timeout=timeout)

    def no_report(self, wait: float = 0.3) -> bool:
        try:
            self.reports.get(timeout=wait)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def live(project):
    made: list[Live] = []

    def start(path: Path) -> Live:
        made.append(Live(path))
        return made[-1]

    yield start
    for item in made:
        item.runner.close()


def manifest(module: str, *names: str, priority: dict[str, int] | None = None) -> str:
    lines = ["version: 1", "hooks:"]
    for n in names:
        lines += [f"  - name: {n}", "    event: session_start", f"    call: {module}:hook"]
        if priority and n in priority:
            lines.append(f"    priority: {priority[n]}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def mod(project) -> str:
    return project.module("def hook(session_id):\n    return session_id\n")


# --------------------------------------------------------------------------- save patterns


def test_in_place_write_makes_the_new_hook_live(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    assert w.names() == ["a"] and w.runner.emit("session_start").generation == 1
    path.write_text(manifest(mod, "a", "b"))
    report = w.next_report()
    assert report.ok and [str(c) for c in report.diff.added] == ["b (session_start)"]
    assert w.names() == ["a", "b"]
    assert w.runner.emit("session_start").generation == 2


def test_partial_in_place_write_is_not_read_before_it_closes(project, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    reports: queue.Queue[Reload] = queue.Queue()
    with HookRunner.from_files(path) as runner:
        # A long debounce: only the close may trigger the read, however slow the machine.
        watcher = Watcher(runner, on_reload=reports.put, debounce=5.0)
        watcher.start()
        runner._closers.append(watcher.stop)
        text = manifest(mod, "a", "late")
        split = text.index("late") + 2  # the first part alone is invalid ('la', no call)
        with open(path, "w") as fh:
            fh.write(text[:split])
            fh.flush()
            time.sleep(0.1)  # watchdog has reported "modified" by now; the file is still open
            fh.write(text[split:])
        report = reports.get(timeout=WAIT)
        assert report.ok, report.lines()  # read once, after the close: the complete content
        assert [r.name for r in runner.emit("session_start").results] == ["a", "late"]
        with pytest.raises(queue.Empty):
            reports.get(timeout=0.2)


@pytest.mark.parametrize("closes", [True, False], ids=["close events", "no close events"])
def test_slow_writers_never_get_a_half_written_manifest_served(
    project, live, mod, monkeypatch, closes
):
    """A writer that pauses mid-file (30-150 ms, longer than the debounce) while emits run
    all the time: every emit sees a whole generation, never the first half of a file (which
    is a valid manifest of its own). Without close events the file must stay unchanged
    for STABLE, and the pauses stay under it."""
    from hookrunner.host import reload

    if not closes:
        monkeypatch.setattr(reload, "_reports_closes", lambda observer: False)
    pauses = [0.03, 0.08, 0.15] if closes else [0.03, 0.08, 0.12]

    def full(i: int) -> str:
        return manifest(mod, f"g{i}_1", f"g{i}_2")

    path = project.write("hooks.yaml", full(0))
    w = live(path)
    wholes = {(f"g{i}_1", f"g{i}_2") for i in range(len(pauses) * 3 + 1)}
    seen: list[tuple[str, ...]] = []
    stop = threading.Event()

    def emit_all_the_time() -> None:
        while not stop.is_set():
            seen.append(
                tuple(r.name for r in w.runner.emit("session_start", session_id="s").results)
            )

    emitter = threading.Thread(target=emit_all_the_time, daemon=True)
    emitter.start()
    try:
        for i, pause in enumerate(pauses * 3, start=1):
            text = full(i)
            half = text.index(f"  - name: g{i}_2")  # the first hook alone: a valid manifest
            with open(path, "w") as fh:
                fh.write(text[:half])
                fh.flush()
                time.sleep(pause)  # the slow writer itself, not a wait for something
                fh.write(text[half:])
            wait_for(lambda i=i: w.names() == [f"g{i}_1", f"g{i}_2"])
    finally:
        stop.set()
        emitter.join(WAIT)
    halves = [names for names in seen if names not in wholes]
    assert not halves, f"{len(halves)} of {len(seen)} emits ran on a half-written file"
    reports = []
    while not w.reports.empty():
        reports.append(w.reports.get())
    assert all(r.ok for r in reports), [r.lines() for r in reports if not r.ok]


def test_a_bad_core_tag_under_hot_reload_is_a_reported_problem(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    path.write_text(manifest(mod, "a", "b") + "    priority: !!int x\n")
    report = w.next_report()
    assert not report.ok and report.generation == 1
    assert f"{path}:9:15: hooks[1] → priority: invalid YAML: 'x' is not a valid !!int value" in (
        "\n".join(report.lines())
    )
    assert w.names() == ["a"]
    with pytest.raises(ValidationError):
        w.runner.reload()
    path.write_text(manifest(mod, "a", "b"))
    assert w.next_report().ok and w.names() == ["a", "b"]


def test_a_manifest_replaced_by_a_fifo_is_reported_not_read(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    os.mkfifo(project.root / "pipe")
    os.replace(project.root / "pipe", path)  # a rename: seen at once
    report = w.next_report()
    assert not report.ok and "is a named pipe (FIFO), not a regular file" in report.lines()[1]
    assert w.names() == ["a"]


def test_temp_file_renamed_over_the_manifest(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    tmp = project.write(".hooks.yaml.swp", manifest(mod, "b", "a", priority={"b": 1}))
    os.replace(tmp, path)  # vim / sed -i: watchdog reports only a "moved" event
    report = w.next_report()
    assert report.ok and report.files == [path.resolve()]
    assert w.names() == ["b", "a"]


def test_temp_file_from_another_folder_renamed_into_place(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    tmp = project.write("elsewhere/tmp.yaml", manifest(mod, "c"))
    os.replace(tmp, path)  # arrives as a bare "created" in the watched folder
    assert w.next_report().ok
    assert w.names() == ["c"]


def test_delete_then_create(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    path.unlink()
    path.write_text(manifest(mod, "d"))
    wait_for(lambda: w.names() == ["d"])
    assert w.runner.generation >= 2


def test_included_file_edit_reloads(project, live, mod):
    project.write("common/more.yaml", manifest(mod, "inc1"))
    path = project.write("hooks.yaml", "version: 1\ninclude: [common/more.yaml]\n")
    w = live(path)
    assert w.names() == ["inc1"]
    project.write("common/more.yaml", manifest(mod, "inc1", "inc2"))
    assert w.next_report().ok
    assert w.names() == ["inc1", "inc2"]


def test_creating_a_missing_include_reloads(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    path.write_text("version: 1\ninclude: [later/more.yaml]\n" + manifest(mod, "a")[11:])
    report = w.next_report()
    assert not report.ok and "included file 'later/more.yaml' not found" in str(report.problems)
    project.write("later/more.yaml", manifest(mod, "inc"))  # a new folder, then the file
    wait_for(lambda: w.names() == ["inc", "a"])


# --------------------------------------------------------------------------- invalid edits


def test_invalid_edit_keeps_last_good_and_is_reported_once(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    bad = manifest(mod, "a", "b") + "    priority: high\n"
    path.write_text(bad)
    report = w.next_report()
    assert not report.ok and report.generation == 1
    text = "\n".join(report.lines())
    assert f"{path}:9:15: hooks[1] 'b' → priority: expected an integer" in text
    assert "generation 1 stays live" in text
    assert w.names() == ["a"]
    assert w.runner.emit("session_start", session_id="s").results[0].value == "s"
    path.write_text(bad)  # saved again unchanged: not reported a second time
    assert w.no_report()
    path.write_text(manifest(mod, "a", "b"))  # fixing it reloads
    report = w.next_report()
    assert report.ok and report.generation == 2
    assert w.names() == ["a", "b"]


def test_deleted_manifest_is_an_error_that_keeps_the_registry(project, live, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    w = live(path)
    path.unlink()
    report = w.next_report()
    assert not report.ok and "file not found" in report.problems[0].message
    assert w.names() == ["a"]
    path.write_text(manifest(mod, "e"))
    assert w.next_report().ok
    assert w.names() == ["e"]


def test_manual_reload_raises_and_keeps_the_registry(project, mod):
    path = project.write("hooks.yaml", manifest(mod, "a", "c"))
    with HookRunner.from_files(path) as runner:
        path.write_text(manifest(mod, "a", "c").replace(":hook", ":nope", 1))
        with pytest.raises(ValidationError) as info:
            runner.reload()
        assert "has no attribute 'nope'" in str(info.value)
        assert runner.generation == 1
        assert [h.name for h in runner.hooks("session_start")] == ["a", "c"]
        path.write_text(manifest(mod, "b", "a", "c", priority={"a": 900}))
        diff = runner.reload()
        assert diff.new == 2 and runner.generation == 2
        assert [c.name for c in diff.added] == ["b"]
        assert [(c.name, c.detail) for c in diff.changed] == [("a", "priority 500 → 900")]
        assert [c.name for c in diff.reordered] == ["a"]


# --------------------------------------------------------------------------- hook modules


def test_edited_hook_module_runs_the_new_body(project, live):
    name = project.module("def hook():\n    return 1\n")
    path = project.write("hooks.yaml", manifest(name, "m"))
    w = live(path)
    assert w.runner.emit("session_start").results[0].value == 1
    assert (project.root / f"{name}.py").resolve() in w.runner.watched_files()
    # Same size, same second: the cached bytecode must not win.
    (project.root / f"{name}.py").write_text("def hook():\n    return 2\n")
    report = w.next_report()
    assert report.ok and name in report.diff.modules
    assert [c.detail for c in report.diff.changed] == ["code"]
    assert w.runner.emit("session_start").results[0].value == 2


def test_module_importing_an_edited_module_is_reimported(project, live):
    helper = project.module("FACTOR = 10\n\ndef scale(x):\n    return x * FACTOR\n")
    name = project.module(f"from {helper} import scale\n\ndef hook():\n    return scale(1)\n")
    path = project.write("hooks.yaml", manifest(name, "m"))
    w = live(path)
    assert w.runner.emit("session_start").results[0].value == 10
    (project.root / f"{helper}.py").write_text("FACTOR = 10\n\ndef scale(x):\n    return x * 7\n")
    report = w.next_report()
    assert report.ok and set(report.diff.modules) == {helper, name}
    assert w.runner.emit("session_start").results[0].value == 7


def test_broken_module_keeps_the_old_function(project, live):
    name = project.module("def hook():\n    return 'old'\n")
    path = project.write("hooks.yaml", manifest(name, "m"))
    w = live(path)
    (project.root / f"{name}.py").write_text("def hook(:\n")
    report = w.next_report()
    assert not report.ok and "SyntaxError" in report.problems[0].message
    assert w.runner.emit("session_start").results[0].value == "old"
    (project.root / f"{name}.py").write_text("def hook():\n    return 'new'\n")
    assert w.next_report().ok
    assert w.runner.emit("session_start").results[0].value == "new"


# --------------------------------------------------------------------------- concurrency


def test_emits_during_hundreds_of_flips_each_see_one_generation(project, live):
    name = project.module("def a():\n    return 'A'\n\ndef b():\n    return 'B'\n")
    versions = {
        "A": ("a1", "a2", "a3"),
        "B": ("b1", "b2", "b3", "b4"),
    }

    def text(v: str) -> str:
        lines = ["version: 1", "hooks:"]
        for n in versions[v]:
            lines.append(f"  - {{name: {n}, event: session_start, call: '{name}:{v.lower()}'}}")
        return "\n".join(lines) + "\n"

    path = project.write("hooks.yaml", text("A"))
    w = live(path)
    stop = threading.Event()
    records: list[list[tuple[int, tuple[str, ...], tuple[object, ...], bool]]] = []
    counts: list[int] = []
    errors: list[BaseException] = []

    def emitter() -> None:
        mine: list[tuple[int, tuple[str, ...], tuple[object, ...], bool]] = []
        records.append(mine)
        n = 0
        try:
            while not stop.is_set():
                n += 1
                r = w.runner.emit("session_start")
                mine.append(
                    (
                        r.generation,
                        tuple(x.name for x in r.results),
                        tuple(x.value for x in r.results),
                        r.ok,
                    )
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            counts.append(n)

    # Busy emitters hold the GIL for the default 5 ms slices; shorter slices keep the writer
    # and the reload thread moving so the test stays short.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    threads = [threading.Thread(target=emitter) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        flips = 200
        for i in range(flips):
            content = text("B" if i % 2 == 0 else "A")
            if i % 2:
                path.write_text(content)  # in place
            else:
                tmp = project.write(".hooks.tmp", content)
                os.replace(tmp, path)  # renamed over
            time.sleep(0.003)
        final = "B" if (flips - 1) % 2 == 0 else "A"
        wait_for(
            lambda: tuple(x.name for x in w.runner.emit("session_start").results) == versions[final]
        )
    finally:
        stop.set()
        for t in threads:
            t.join()
        sys.setswitchinterval(interval)
    assert not errors
    assert sum(counts) == sum(len(m) for m in records)  # no emit lost
    seen: dict[int, tuple[str, ...]] = {}
    for mine in records:
        for generation, names, values, ok in mine:
            assert ok
            assert names in (versions["A"], versions["B"])  # never a mix
            assert set(values) == {"A" if names == versions["A"] else "B"}
            assert seen.setdefault(generation, names) == names  # one generation, one hook set
    # Proof that reloads happened while the emitters ran (the count depends on machine load).
    assert len(seen) >= 5, f"only {len(seen)} generations served emits"


def test_close_leaves_no_watcher_thread(project, mod):
    before = set(threading.enumerate())
    path = project.write("hooks.yaml", manifest(mod, "a"))
    runner = HookRunner.from_files(path, watch=True)
    assert len(set(threading.enumerate()) - before) >= 2  # observer + reload worker at least
    runner.close()
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == []


# --------------------------------------------------------------------------- CLI


def test_watch_command_prints_reloads_and_stops_on_ctrl_c(project, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "watch", "--hooks", str(path)],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out_lines, err_lines = Lines(proc.stdout), Lines(proc.stderr)
    try:
        first = out_lines.next()
        assert first.startswith("watching ") and "generation 1, 1 hook" in first
        path.write_text(manifest(mod, "a", "b"))
        head = out_lines.next()
        assert "reloaded (hooks.yaml): generation 2, 1 added" in head
        assert out_lines.next().strip() == "added b (session_start)"
        path.write_text(manifest(mod, "a") + "  - name: b\n    event: nope\n    call: x:y\n")
        err = err_lines.next()
        assert "invalid edit (hooks.yaml)" in err and "generation 2 stays live" in err
        # Paths below the current directory are shown relative to it.
        assert "hooks.yaml:7:12: hooks[1] 'b' → event: unknown event 'nope'" in err_lines.next()
        # A save that changes no hook says so once, on the reload's own line.
        path.write_text(manifest(mod, "a", "b") + "# a comment\n")
        head = out_lines.next()
        assert head.rstrip().endswith("reloaded (hooks.yaml): generation 3, no hook changes")
        assert out_lines.q.empty() or "no hook changes" not in out_lines.next(timeout=0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
        err = err_lines.rest()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "Traceback" not in err and "stopped" in err


def test_watch_started_on_an_invalid_manifest_waits_for_the_fix(project, mod):
    """As ``run --watch`` does: the problems, then the fix is picked up and watching goes on."""
    path = project.write("hooks.yaml", "version: 1\nhooks: 3\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "watch"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out_lines, err_lines = Lines(proc.stdout), Lines(proc.stderr)
    try:
        assert err_lines.next().startswith("hooks.yaml:2:8: hooks: expected a list")
        assert "waiting for a fix (Ctrl-C to stop)" in out_lines.next()
        path.write_text(manifest(mod, "a"))
        assert out_lines.next().rstrip().endswith("valid now")
        assert "generation 1, 1 hook" in out_lines.next()
        path.write_text(manifest(mod, "a", "b"))
        assert "generation 2, 1 added" in out_lines.next()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
        err = err_lines.rest()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "Traceback" not in err


def test_run_watch_reruns_after_each_valid_change(project):
    nodes = project.module("def make():\n    return 1\n", prefix="nd")
    pipeline = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        catalog:
          result: {{type: json, path: out/result.json}}
        nodes:
          - name: make
            func: {nodes}:make
            outputs: result
        """,
    )
    result = project.root / "out" / "result.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "run", str(pipeline), "--watch", "--quiet"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, DO_NOT_TRACK="1"),
    )
    out_lines, err_lines = Lines(proc.stdout), Lines(proc.stderr)
    try:
        assert out_lines.next().startswith("watching 2 files")
        assert result.read_text().strip() == "1"
        (project.root / f"{nodes}.py").write_text("def make():\n    return 2\n")  # node code
        assert f"changed: {nodes}.py; running again" in out_lines.next()
        wait_for(lambda: result.read_text().strip() == "2")
        pipeline.write_text(pipeline.read_text().replace("outputs: result", "outputs: [result"))
        err = err_lines.next()
        assert "invalid edit (pipeline.yaml)" in err and "not running" in err
        assert "pipeline.yaml:7:14: invalid YAML: the '[' opened on line 7" in err_lines.next()
        pipeline.write_text(pipeline.read_text().replace("[result", "[result]"))
        assert "changed: pipeline.yaml; running again" in out_lines.next()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
        err = err_lines.rest()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "Traceback" not in err


def test_run_watch_runs_once_per_burst_of_saves(project):
    """Saves made while a run is going (or in quick succession) make one more run, not one
    per save."""
    nodes = project.module(
        "import time\n\n\ndef make():\n    time.sleep(0.6)\n    return 1\n", prefix="nd"
    )
    runs = project.root / "runs.log"
    hooks = project.module(
        f"def count():\n    with open({str(runs)!r}, 'a') as f:\n        f.write('run\\n')\n",
        prefix="cnt",
    )
    pipeline = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        hooks:
          - {{name: count, event: before_pipeline_run, call: {hooks}:count}}
        nodes:
          - name: make
            func: {nodes}:make
            outputs: result
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "run", str(pipeline), "--watch", "--quiet"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out_lines = Lines(proc.stdout)
    try:
        assert out_lines.next().startswith("watching ")
        text = pipeline.read_text()
        for i in range(4):  # a burst: four saves, 50 ms apart
            pipeline.write_text(text + f"# save {i}\n")
            time.sleep(0.05)
        assert "changed: pipeline.yaml; running again" in out_lines.next()
        wait_for(lambda: runs.read_text().count("run") == 2)
        time.sleep(1.5)  # long enough for another run to start, were one queued
        assert runs.read_text().count("run") == 2
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130


def test_watch_command_json_lines(project, mod):
    path = project.write("hooks.yaml", manifest(mod, "a"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "watch", "--format", "json"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out_lines = Lines(proc.stdout)
    try:
        first = json.loads(out_lines.next())
        assert first["generation"] == 1 and str(path.resolve()) in first["watching"]
        path.write_text(manifest(mod, "a", "b", priority={"a": 700}))
        report = json.loads(out_lines.next())
        assert report["ok"] and report["generation"] == 2
        assert report["diff"]["added"] == [{"event": "session_start", "name": "b", "detail": ""}]
        assert report["diff"]["changed"][0]["detail"] == "priority 500 → 700"
        path.write_text("version: 1\nhooks: {}\n")
        report = json.loads(out_lines.next())
        assert not report["ok"] and report["generation"] == 2
        assert report["problems"][0]["line"] == 2 and report["problems"][0]["path"] == "hooks"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
