"""Bad pipeline files: every graph check reports file:line:col and the document path, through
``hookrunner run`` (exit 2) and ``hookrunner validate``, never with a traceback."""

from __future__ import annotations

import json

import pytest
from sources import source

MODULE = source("spec_module")

CASES = {
    "cycle": (
        """
        version: 1
        nodes:
          - name: a
            func: M:one
            inputs: [y]
            outputs: x
          - name: b
            func: M:one
            inputs: [x]
            outputs: y
        """,
        "pipeline.yaml:3:5: nodes[0] 'a': the nodes form a cycle: a → b → a",
    ),
    "missing_input": (
        """
        version: 1
        nodes:
          - name: a
            func: M:one
            inputs: [raw]
            outputs: x
        """,
        "pipeline.yaml:5:14: nodes[0] 'a' → inputs[0]: input 'raw' is produced by no node "
        "and not in the catalog",
    ),
    "output_twice": (
        """
        version: 1
        catalog:
          x: {type: json, path: x.json}
        nodes:
          - name: a
            func: M:one
            inputs: [x]
            outputs: y
          - name: b
            func: M:one
            inputs: [x]
            outputs: y
        """,
        "pipeline.yaml:12:14: nodes[1] 'b' → outputs: dataset 'y' is already produced by "
        "node 'a' (line 5)",
    ),
    "unknown_module": (
        """
        version: 1
        nodes:
          - name: a
            func: nope_module_xyz:one
            outputs: x
        """,
        "pipeline.yaml:4:11: nodes[0] 'a' → func: module 'nope_module_xyz' not found",
    ),
    "unknown_function": (
        """
        version: 1
        nodes:
          - name: a
            func: M:on
            outputs: x
        """,
        "pipeline.yaml:4:11: nodes[0] 'a' → func: module 'M' has no attribute 'on' "
        "(did you mean 'one'?)",
    ),
    "unimportable": (
        """
        version: 1
        nodes:
          - name: a
            func: BROKEN:one
            outputs: x
        """,
        # Reported where the module fails (once for all its users), naming the entry.
        "BROKEN.py:1:1: importing 'BROKEN' failed: ImportError: needs libfoo "
        "(imported for nodes[0] 'a' → func at pipeline.yaml:4)",
    ),
    "too_many_inputs": (
        """
        version: 1
        catalog:
          x: {type: json, path: x.json}
          w: {type: json, path: w.json}
        nodes:
          - name: a
            func: M:one
            inputs: [x, w]
            outputs: y
        """,
        "pipeline.yaml:8:13: nodes[0] 'a' → inputs: 2 positional input(s) do not fit "
        "M:one(x): too many positional arguments",
    ),
    "wrong_keyword": (
        """
        version: 1
        catalog:
          x: {type: json, path: x.json}
        nodes:
          - name: a
            func: M:one
            inputs: {z: x}
            outputs: y
        """,
        "pipeline.yaml:7:13: nodes[0] 'a' → inputs: inputs ['z'] do not fit M:one(x)",
    ),
    "return_shape": (
        """
        version: 1
        catalog:
          x: {type: json, path: x.json}
        nodes:
          - name: a
            func: M:pair
            inputs: x
            outputs: [p, q, r]
        """,
        "pipeline.yaml:8:14: nodes[0] 'a' → outputs: the function returns a tuple of 2 values, "
        "but 3 outputs are declared",
    ),
    "unknown_dataset_type": (
        """
        version: 1
        catalog:
          x: {type: jsno, path: x.json}
        nodes:
          - {name: a, func: "M:one", inputs: x, outputs: y}
        """,
        "pipeline.yaml:3:13: catalog.x.type: unknown dataset type 'jsno' (did you mean 'json'?)",
    ),
    "dataset_class_without_load": (
        """
        version: 1
        catalog:
          x: {type: "M:NotADataset", path: x.bin}
        nodes:
          - {name: a, func: "M:one", inputs: x, outputs: y}
        """,
        "pipeline.yaml:3:13: catalog.x.type: NotADataset has no load() method",
    ),
    "missing_param": (
        """
        version: 1
        params: {alpha: 1}
        nodes:
          - name: a
            func: M:one
            inputs: ["params:alpah"]
            outputs: y
        """,
        "pipeline.yaml:6:14: nodes[0] 'a' → inputs[0]: parameter 'alpah' does not exist under "
        "params: (did you mean 'alpha'?)",
    ),
    "param_under_a_scalar": (
        """
        version: 1
        params: {p: 1}
        nodes:
          - {name: a, inputs: "params:p.x", func: "M:one", outputs: y}
        """,
        "pipeline.yaml:4:23: nodes[0] 'a' → inputs: parameter 'p.x' does not exist under params:",
    ),
    "schema": (
        """
        version: 1
        nodes:
          - name: a
            fnc: M:one
        """,
        "pipeline.yaml:4:5: nodes[0] 'a' → fnc: unknown key 'fnc' (did you mean 'func'?)",
    ),
    "local_hook": (
        """
        version: 1
        hooks:
          - name: h
            event: before_node_rn
            call: M:one
        nodes:
          - {name: a, func: "M:one", inputs: "params:p", outputs: y}
        params: {p: 1}
        """,
        "pipeline.yaml:4:12: hooks[0] 'h' → event: unknown event 'before_node_rn' "
        "(did you mean 'before_node_run'?)",
    ),
}


def _write(project, text):
    mod = project.module(MODULE, "gm")
    broken = project.module("raise ImportError('needs libfoo')\n", "broken")
    project.write("pipeline.yaml", text.replace("BROKEN", broken).replace("M:", f"{mod}:"))
    return mod, broken


@pytest.mark.parametrize("case", sorted(CASES))
def test_run_reports_each_graph_problem_with_its_position(project, cli, case):
    text, expected = CASES[case]
    mod, broken = _write(project, text)
    expected = expected.replace("BROKEN", broken)
    r = cli("run", "pipeline.yaml", cwd=project.root)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert expected.replace("'M'", f"'{mod}'").replace("M:", f"{mod}:") in r.stderr
    assert not (project.root / ".hookrunner").exists()  # nothing ran: no session was recorded


def test_validate_lists_problems_as_json(project, cli):
    mod, _ = _write(project, CASES["missing_param"][0])
    r = cli("validate", "pipeline.yaml", "--format", "json", cwd=project.root)
    assert r.returncode == 2
    [report] = json.loads(r.stdout)
    assert report["kind"] == "pipeline" and not report["valid"]
    [problem] = report["problems"]
    assert (problem["line"], problem["column"]) == (6, 14)
    assert problem["path"] == "nodes[0].inputs[0]"
    assert mod  # the module exists; only the parameter is wrong


def test_validate_accepts_a_good_pipeline(project, cli):
    _write(
        project,
        """
        version: 1
        params: {p: 1}
        nodes:
          - {name: a, func: "M:one", inputs: "params:p", outputs: y}
        """,
    )
    r = cli("validate", "pipeline.yaml", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert "pipeline.yaml: ok (pipeline, 1 node)" in r.stdout


def test_manifests_that_are_not_paths_are_schema_errors_only(project, cli):
    mod, _ = _write(
        project,
        f"""
        version: 1
        manifests: [[1, 2], "{"x" * 5000}"]
        params: {{p: 1}}
        nodes:
          - {{name: a, func: "M:one", inputs: "params:p", outputs: y}}
        """,
    )
    r = cli("validate", "pipeline.yaml", "--format", "json", cwd=project.root)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    [report] = json.loads(r.stdout)
    messages = [(p["path"], p["message"].split(" (")[0][:30]) for p in report["problems"]]
    # A non-string item is only a type error (no bogus "not found" path); a name too long for
    # the file system is reported as not found instead of crashing.
    assert messages == [
        ("manifests[0]", "expected a string, got a list"),
        ("manifests[1]", "manifest 'xxxxxxxxxxxxxxxxxxxx"),
    ]


def test_a_cycle_through_10000_nodes_is_named_in_a_short_message(project, cli):
    m = project.module("def f(x):\n    return x\n")
    lines = ["version: 1", "nodes:"]
    n = 10_000
    for i in range(n):
        lines.append(f"  - {{name: n{i}, func: {m}:f, inputs: [d{(i + 1) % n}], outputs: d{i}}}")
    project.write("pipeline.yaml", "\n".join(lines) + "\n")
    result = cli("validate", "pipeline.yaml", cwd=project.root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [cycle] = [line for line in result.stderr.splitlines() if "form a cycle" in line]
    assert "n0 → n1 → n2" in cycle and "… and 9,991 more" in cycle
    assert len(cycle) < 400, len(cycle)
