"""Whole ``hookrunner`` processes beside their peers: ``validate`` on a 10-hook manifest,
``--help``, and ``run`` of the quick start (``examples/quickstart``, copied).

pre-commit's ``validate-config`` checks an equivalent 10-hook config; ``kedro --version`` and
``python -c pass`` show what starting a Python CLI costs at all.
"""

from __future__ import annotations

import shutil
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


QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart"


def run(quick: bool) -> list[Row]:
    rounds = 5 if quick else 21
    bench = "whole process: validate (10 hooks), --help, run (quick start)"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root)
        quickstart = root / "quickstart"
        shutil.copytree(
            QUICKSTART,
            quickstart,
            ignore=shutil.ignore_patterns("out", ".hookrunner", "__pycache__"),
        )
        hookrunner = script("hookrunner")
        sides = {
            "hookrunner validate": process([hookrunner, "validate", "hooks.yaml"], root),
            "hookrunner --help": process([hookrunner, "--help"], root),
            "hookrunner run (quick start)": process(
                [hookrunner, "run", "quickstart/pipeline.yaml"], root
            ),
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
    peer = got["pre-commit validate-config"]
    rows.append(ratio(bench, "--help", got["hookrunner --help"], peer, 1.0, "≤ 1.0× pre-commit"))
    rows.append(
        ratio(
            bench,
            "run, quick start",
            got["hookrunner run (quick start)"],
            peer,
            1.5,
            "≤ 1.5× pre-commit",
        )
    )
    rows.append(ratio(bench, "process", ours, got["kedro --version"], None, "vs kedro"))
    rows.append(ratio(bench, "process", ours, got["python -c pass"], None, "vs bare python"))
    return rows
