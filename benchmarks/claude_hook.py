"""``hookrunner claude hook`` with 10 hooks, as a whole process, beside ``python -c pass``.

Claude Code starts the command for every hook event and waits for it (twice per tool use),
so what a hook costs the agent is a whole process: the interpreter, the imports, loading the
manifest, the hooks, the session store's write. The input is Claude Code's PreToolUse for a
Bash command; the 10 hooks match it and return None. The first call (not timed) records the
manifest and creates the store, as the first event of a session does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import Row, interleave, measure, process, ratio, script


def _write(root: Path) -> bytes:
    (root / "bench_claude_hooks.py").write_text(
        "".join(f"def check{i}(tool_name, tool_input):\n    pass\n\n" for i in range(10))
    )
    hooks = ["version: 1", "hooks:"]
    for i in range(10):
        hooks += [
            f"  - name: check{i}",
            "    event: pre_tool_execution",
            f"    call: bench_claude_hooks:check{i}",
            f"    priority: {10 * i}",
            "    when: {tool: Bash}",
        ]
    (root / "hooks.yaml").write_text("\n".join(hooks) + "\n")
    payload = {
        "session_id": "bench-session",
        "transcript_path": str(root / "transcript.jsonl"),
        "cwd": str(root),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "npm test", "description": "Run the tests"},
        "tool_use_id": "toolu_bench",
    }
    return json.dumps(payload).encode()


def run(quick: bool) -> list[Row]:
    rounds = 5 if quick else 21
    bench = "claude hook, 10 hooks, whole process"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stdin = _write(root)
        env = {"CLAUDE_PROJECT_DIR": str(root)}
        argv = [script("hookrunner"), "claude", "hook"]
        first = subprocess.run(argv, cwd=root, input=stdin, capture_output=True, env=None)
        if first.returncode != 0 or first.stdout.strip():
            raise RuntimeError(f"unexpected answer: {first.stdout!r} {first.stderr!r}")
        sides = {
            "hookrunner claude hook": process(argv, root, stdin=stdin, env=env),
            "python -c pass": process([sys.executable, "-c", "pass"], root),
        }
        got = {
            name: measure(bench, "process", name, values, "ms")
            for name, values in interleave(sides, rounds).items()
        }
    ours = got["hookrunner claude hook"]
    return [
        *got.values(),
        ratio(bench, "process", ours, got["python -c pass"], 3.0, "≤ 3× python -c pass"),
    ]
