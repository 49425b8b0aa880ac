"""Hostile manifests: core tags with bad values, broken durations, regexes built to stall,
files that are not files. Each is a located ValidationError (exit 2 from the CLI), never a
traceback, a hang or unbounded memory."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from hookrunner import HookRunner, ValidationError
from hookrunner.kernel import document
from hookrunner.kernel.schema import parse_duration

HOOK = "def hook(session_id):\n    return None\n"


def _problems(path: Path) -> list:
    with pytest.raises(ValidationError) as caught:
        HookRunner.from_files(path)
    problems = caught.value.problems
    assert problems
    for p in problems:
        assert str(p).startswith(f"{p.file}:{p.line}:{p.column}: ")
    return problems


def _clean(result, code: int = 2) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def _manifest(project, value: str, key: str = "priority") -> Path:
    m = project.module(HOOK)
    return project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - name: a\n    event: session_start\n"
        f"    call: {m}:hook\n    {key}: {value}\n",
    )


# --------------------------------------------------------------------------- YAML core tags

BAD_TAGS = [
    "!!int x",
    '!!int ""',
    "!!int 0b102",
    "!!float 1e",
    "!!bool x",
    '!!timestamp ""',
    "!!timestamp 2024-13-45",
    "2024-13-45",  # no tag: the implicit timestamp is read the same way
    "1" * 5000,  # an integer over Python's digit limit
]


@pytest.mark.parametrize("value", BAD_TAGS)
def test_a_core_tag_with_a_bad_value_is_a_located_problem(project, value):
    [p] = _problems(_manifest(project, value))
    assert (p.line, p.column, p.path) == (6, 15, ("hooks", 0, "priority"))
    assert "is not a valid !!" in p.message and p.hint


def test_bad_tags_exit_2_in_every_command(project, cli):
    m = project.module(HOOK)
    project.write(
        "hooks.yaml", f"version: 1\nhooks:\n  - {{name: a, event: session_start, call: {m}:hook}}\n"
    )
    project.write("bad.yaml", "version: 1\nsettings: {timeout: !!float 1e}\n")
    project.write(
        "pipeline.yaml", "version: 1\nparams: {when: !!timestamp 2024-13-45}\nnodes: []\n"
    )
    for args in (
        ("validate", "bad.yaml"),
        ("list", "--hooks", "bad.yaml"),
        ("emit", "session_start", "--hooks", "bad.yaml"),
        ("run", "pipeline.yaml"),
    ):
        result = cli(*args, cwd=project.root)
        _clean(result)
        assert "is not a valid !!" in result.stderr, args


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize("value", [".nan", "999999h", "25h", "0s", "0ms", "86401", ".inf", "-1"])
def test_durations_that_are_no_usable_timeout_are_rejected(project, value):
    problems = _problems(_manifest(project, value, key="timeout"))
    assert [p.path for p in problems] == [("hooks", 0, "timeout")]
    with pytest.raises(ValueError):
        parse_duration(float(value) if value[0] in ".-8" else value)


def test_a_zero_timeout_says_more_than_zero(project):
    [problem] = _problems(_manifest(project, "0", key="timeout"))
    assert problem.message.endswith("must be more than 0, got 0"), problem.message


@pytest.mark.parametrize(
    "written, secret",
    [
        ('"${env:HR_SECRET_T}"', "99999h"),
        ('"${env:HR_SECRET_T}"', "10 seconds"),
        ('"${env:HR_SECRET_T}s"', "90000"),
        ('"${env:HR_SECRET_T}s"', "0"),
    ],
)
def test_a_bad_duration_from_the_environment_is_explained_without_its_value(
    project, monkeypatch, secret, written
):
    monkeypatch.setenv("HR_SECRET_T", secret)
    [problem] = _problems(_manifest(project, written, key="timeout"))
    text = str(problem)
    assert problem.path == ("hooks", 0, "timeout")
    assert not re.search(r"\w<from env>|<from env>\w", text), text  # no word cut into
    if len(secret) > 1:  # a lone digit stands in the advice's own examples
        assert secret not in text.split("timeout:", 1)[1], text


@pytest.mark.parametrize("value", ["24h", "86400", "1440m", "500ms", "0.5"])
def test_durations_up_to_a_day_are_accepted(project, value):
    path = _manifest(project, value, key="timeout")
    path.write_text(path.read_text() + f"settings: {{timeout: {value}}}\n")
    with HookRunner.from_files(path) as runner:
        assert runner.emit("session_start", session_id="s").ok


def test_settings_timeout_nan_is_located(project):
    path = project.write("hooks.yaml", "version: 1\nsettings:\n  timeout: .nan\n")
    [p] = _problems(path)
    assert (p.line, p.path) == (3, ("settings", "timeout")) and "nan" in p.message


# --------------------------------------------------------------------------- regex matchers


def test_a_regex_built_to_backtrack_matches_in_linear_time(project):
    m = project.module(HOOK)
    path = project.write(
        "hooks.yaml",
        "version: 1\nhooks:\n"
        f"  - {{name: a, event: session_start, call: {m}:hook,"
        " when: {session_id: {regex: '(a+)+$'}}}\n",
    )
    runner = HookRunner.from_files(path)
    outcome: list = []
    # With a backtracking engine this emit takes about 2^41 steps; run it where a hang
    # cannot take the test down with it.
    worker = threading.Thread(
        target=lambda: outcome.append(runner.emit("session_start", session_id="a" * 41 + "!")),
        daemon=True,
    )
    worker.start()
    worker.join(30)
    assert outcome, "matching (a+)+$ did not finish"
    assert outcome[0].results == []  # no match: the hook did not run
    assert runner.emit("session_start", session_id="aaa").results[0].ok  # it does match
    runner.close()


@pytest.mark.parametrize(
    "pattern, words",
    [
        ("(a)\\1", "backreferences"),  # RE2 has no backreferences
        ("(?=a)", "lookaround"),
        ("[", "missing ]"),
        ("((a{1000}){1000}){1000}", "repetition"),
    ],
)
def test_an_unusable_regex_is_a_located_problem(project, pattern, words):
    m = project.module(HOOK)
    path = project.write(
        "hooks.yaml",
        "version: 1\nhooks:\n"
        f"  - name: a\n    event: session_start\n    call: {m}:hook\n"
        f"    when: {{session_id: {{regex: {json.dumps(pattern)}}}}}\n",
    )
    [p] = _problems(path)
    assert p.line == 6 and p.path == ("hooks", 0, "when")
    assert "invalid regex" in p.message and words in f"{p.message} {p.hint}"


def test_a_huge_repetition_count_is_no_traceback(project):
    m = project.module(HOOK)
    path = project.write(
        "hooks.yaml",
        "version: 1\nhooks:\n"
        f"  - {{name: a, event: session_start, call: {m}:hook,"
        " when: {session_id: {regex: 'a{99999999999}'}}}\n",
    )
    try:
        runner = HookRunner.from_files(path)
    except ValidationError as exc:  # either answer is fine: no OverflowError
        assert exc.problems[0].line == 3
    else:
        assert runner.emit("session_start", session_id="a").results == []
        runner.close()


# --------------------------------------------------------------------------- files that are not files


@pytest.fixture
def odd_files(project):
    """A FIFO, a directory, a symlink loop and a file under a file, beside hooks.yaml."""
    root = project.root
    os.mkfifo(root / "fifo.yaml")
    (root / "dir.yaml").mkdir()
    os.symlink(root / "loop2.yaml", root / "loop1.yaml")
    os.symlink(root / "loop1.yaml", root / "loop2.yaml")
    (root / "plain.yaml").write_text("version: 1\n")
    return root


@pytest.mark.parametrize(
    "name, reason",
    [
        ("fifo.yaml", "is a named pipe (FIFO), not a regular file"),
        ("/dev/zero", "is a character device, not a regular file"),
        ("dir.yaml", "is a directory, not a regular file"),
        ("loop1.yaml", "cannot read the file: Too many levels of symbolic links"),
        ("plain.yaml/x.yaml", "cannot read the file: Not a directory"),
        ("missing.yaml", "not found"),
    ],
)
def test_an_include_that_cannot_be_read_is_reported_at_its_line(project, odd_files, name, reason):
    path = project.write("hooks.yaml", f"version: 1\ninclude:\n  - other.yaml\n  - {name}\n")
    project.write("other.yaml", "version: 1\n")
    [p] = _problems(path)
    assert (Path(p.file).name, p.line, p.column, p.path) == ("hooks.yaml", 4, 5, ("include", 1))
    assert p.message.startswith(f"included file '{name}'") and reason in p.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_include_without_read_permission_is_reported_at_its_line(project):
    locked = project.write("locked.yaml", "version: 1\n")
    locked.chmod(0)
    path = project.write("hooks.yaml", "version: 1\ninclude: [locked.yaml]\n")
    [p] = _problems(path)
    assert (Path(p.file).name, p.line) == ("hooks.yaml", 2)
    assert "Permission denied" in p.message


def test_a_chain_of_500_includes_is_a_problem_not_a_recursion_error(project):
    for i in range(500):
        body = f"version: 1\ninclude: [c{i + 1}.yaml]\n" if i < 499 else "version: 1\n"
        project.write(f"c{i}.yaml", body)
    [p] = _problems(project.root / "c0.yaml")
    assert p.line == 2 and p.path == ("include", 0)
    assert "includes nest more than 64 files deep" in p.message and "… and " in p.message


def test_files_that_are_not_files_are_refused_at_once(project, odd_files, cli):
    """``validate /dev/zero`` would grow without end and a FIFO would block: both answer."""
    for name in ("/dev/zero", "fifo.yaml", "dir.yaml", "loop1.yaml"):
        result = cli("validate", name, cwd=project.root)
        _clean(result)
        assert f"{name}: " in result.stderr, result.stderr  # the file as a whole: no line
    result = cli("list", "--hooks", "fifo.yaml", cwd=project.root)
    _clean(result)
    assert "named pipe" in result.stderr


def test_the_size_cap_holds_for_a_file_that_reports_no_size(monkeypatch):
    """/proc files say 0 bytes and hold more: the cap counts what is read, not what stat says."""
    monkeypatch.setattr(document, "MAX_BYTES", 64)
    assert os.stat("/proc/self/maps").st_size == 0
    with pytest.raises(ValidationError) as caught:
        document.load_file("/proc/self/maps")
    assert "grew while it was read, over the 64-byte limit" in str(caught.value)


# --------------------------------------------------------------------------- huge values


def test_a_huge_value_is_not_echoed_whole(project, cli):
    m = project.module(HOOK)
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: a, event: {'e' * 15_000_000}, call: {m}:hook}}\n",
    )
    t0 = time.monotonic()
    result = cli("validate", "hooks.yaml", cwd=project.root)
    _clean(result)
    assert len(result.stderr) < 1000, len(result.stderr)
    assert "(15,000,000 characters)" in result.stderr
    assert time.monotonic() - t0 < 60
