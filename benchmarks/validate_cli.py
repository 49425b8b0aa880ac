"""``hookrunner validate`` on a 10-hook manifest, as a whole process, beside its peers.

pre-commit's ``validate-config`` checks an equivalent 10-hook config; ``kedro --version`` and
``python -c pass`` show what starting a Python CLI costs at all.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from harness import Row, interleave, measure, process, ratio, script


def _write(root: Path) -> None:
    (root / "bench_validate_hooks.py").write_text(
        "".join(f"def check{i}(file_path):\n    pass\n\n" for i in range(10))
    )
    hooks = ["version: 1", "hooks:"]
    precommit = ["repos:", "  - repo: local", "    hooks:"]
    for i in range(10):
        hooks += [
            f"  - name: check{i}",
            "    event: post_file_edit",
            f"    call: bench_validate_hooks:check{i}",
            f"    priority: {10 * i}",
        ]
        precommit += [
            f"      - id: check{i}",
            f"        name: check{i}",
            f"        entry: python -m bench_validate_hooks check{i}",
            "        language: system",
            "        files: \\.py$",
        ]
    (root / "hooks.yaml").write_text("\n".join(hooks) + "\n")
    (root / ".pre-commit-config.yaml").write_text("\n".join(precommit) + "\n")


def run(quick: bool) -> list[Row]:
    rounds = 5 if quick else 21
    bench = "validate a 10-hook manifest, whole process"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root)
        sides = {
            "hookrunner validate": process([script("hookrunner"), "validate", "hooks.yaml"], root),
            "pre-commit validate-config": process(
                [script("pre-commit"), "validate-config", ".pre-commit-config.yaml"], root
            ),
            "kedro --version": process([script("kedro"), "--version"], root),
            "python -c pass": process([sys.executable, "-c", "pass"], root),
        }
        got = {
            name: measure(bench, "process", name, values, "ms")
            for name, values in interleave(sides, rounds).items()
        }
    rows: list[Row] = list(got.values())
    ours = got["hookrunner validate"]
    rows.append(
        ratio(bench, "process", ours, got["pre-commit validate-config"], 0.8, "≤ 0.8× pre-commit")
    )
    rows.append(ratio(bench, "process", ours, got["kedro --version"], None, "vs kedro"))
    rows.append(ratio(bench, "process", ours, got["python -c pass"], None, "vs bare python"))
    return rows
