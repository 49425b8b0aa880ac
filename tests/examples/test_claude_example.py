"""examples/claude as its README says: installed, then driven as Claude Code drives it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "claude"


@pytest.fixture
def example(tmp_path):
    root = tmp_path / "claude"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".hookrunner", "__pycache__"))
    return root


def _hookrunner(root: Path, *args: str, stdin: str | None = None):
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "hookrunner", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _bash(root: Path, command: str):
    payload = {
        "session_id": "demo",
        "transcript_path": str(root / "t.jsonl"),
        "cwd": str(root),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "run it"},
        "tool_use_id": "toolu_1",
    }
    done = _hookrunner(root, "claude", "hook", stdin=json.dumps(payload))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    if not done.stdout:
        return None
    out = json.loads(done.stdout)["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    return out["permissionDecisionReason"]


def test_install_writes_the_settings_claude_code_reads(example):
    done = _hookrunner(example, "claude", "install")
    assert done.returncode == 0, done.stderr
    settings = json.loads((example / ".claude" / "settings.json").read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert command.endswith("hookrunner claude hook")
    assert _hookrunner(example, "validate").returncode == 0


@pytest.mark.parametrize(
    "command, verdict",
    [
        ("rm -rf /etc", "rm -rf outside the project: /etc (the project is {root})"),
        (
            "rm -fr ../elsewhere",
            "rm -rf outside the project: {parent}/elsewhere (the project is {root})",
        ),
        (
            "sudo rm -r -f ~/notes",
            "rm -rf outside the project: {home}/notes (the project is {root})",
        ),
        (
            "npm test && rm --recursive --force /tmp",
            "rm -rf outside the project: /tmp (the project is {root})",
        ),
        ("cd .. && rm -rf claude", "rm -rf of the whole project ({root})"),
        ("rm -rf $BUILD_DIR", "rm -rf of '$BUILD_DIR': cannot tell where that is"),
        ("rm -rf build dist", None),
        ("cd src && rm -rf ../build", None),
        ("rm -f /tmp/x.lock", None),  # not recursive
        ("ls -la /etc", None),
    ],
)
def test_the_guard_blocks_rm_rf_outside_the_project(example, command, verdict):
    env = {"root": example.resolve(), "parent": example.resolve().parent, "home": Path.home()}
    expected = verdict.format(**env) if verdict else None
    assert _bash(example, command) == expected


def test_the_formatter_and_the_prompt_log(example):
    edited = example / "messy.py"
    edited.write_text("x  =  [1,2]\n")
    post = {
        "session_id": "demo",
        "cwd": str(example),
        "hook_event_name": "PostToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": str(edited), "content": "x  =  [1,2]\n"},
        "tool_response": {"filePath": str(edited), "success": True},
        "tool_use_id": "toolu_2",
    }
    done = _hookrunner(example, "claude", "hook", stdin=json.dumps(post))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert edited.read_text() == "x = [1, 2]\n"
    assert json.loads(done.stdout) == {
        "hookSpecificOutput": {
            "hookEventName": "PostToolUse",
            "additionalContext": f"formatted: {edited} was reformatted by ruff after Write; "
            "read it again",
        }
    }
    # Formatted already: nothing to say. Not Python: the hook does not even run.
    assert _hookrunner(example, "claude", "hook", stdin=json.dumps(post)).stdout == ""
    notes = example / "notes.md"
    notes.write_text("a  b\n")
    other = {**post, "tool_input": {"file_path": str(notes), "content": "a  b\n"}}
    assert _hookrunner(example, "claude", "hook", stdin=json.dumps(other)).stdout == ""

    prompt = {
        "session_id": "demo",
        "cwd": str(example),
        "hook_event_name": "UserPromptSubmit",
        "prompt": "tidy messy.py",
    }
    done = _hookrunner(example, "claude", "hook", stdin=json.dumps(prompt))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    logged = (example / ".hookrunner" / "prompts.jsonl").read_text().splitlines()
    assert [json.loads(line)["prompt"] for line in logged] == ["tidy messy.py"]

    shown = json.loads(_hookrunner(example, "sessions", "show", "demo", "--format", "json").stdout)
    assert [(a["event"], a["subject"]) for a in shown["activity"]] == [
        ("PostToolUse", f"Write: {edited}"),
        ("PostToolUse", f"Write: {edited}"),
        ("PostToolUse", f"Write: {notes}"),
        ("UserPromptSubmit", "tidy messy.py"),
    ]
    assert [c["hook"] for c in shown["calls"]] == ["format_python", "format_python", "log_prompt"]
