"""Pipeline files: one root mistake gives one problem, independent ones show in one pass."""

from __future__ import annotations


def _problems(cli, project, name: str = "pipeline.yaml") -> list[str]:
    r = cli("validate", name, cwd=project.root)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    return [line for line in r.stderr.splitlines() if not line.endswith("file(s)")]


NODES = "def first(rows):\n    return rows\n\n\ndef second(rows):\n    return rows\n"


def test_a_catalog_option_typo_does_not_make_its_dataset_missing(project, cli):
    mod = project.module(NODES)
    project.write("data/orders.csv", "id\n1\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        catalog:
          orders: {{type: csv, path: data/orders.csv, delimeter: ";"}}
        nodes:
          - {{name: a, func: {mod}:first, inputs: orders, outputs: x}}
        """,
    )
    assert _problems(cli, project) == [
        "pipeline.yaml:3:57: catalog.orders.delimeter: CSVDataset does not accept these "
        "options: got an unexpected keyword argument 'delimeter' (did you mean 'delimiter'?)"
    ]


def test_a_node_with_a_bad_func_keeps_its_outputs_so_a_cycle_is_still_found(project, cli):
    mod = project.module(NODES)
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        nodes:
          - {{name: a, func: {mod}:frist, inputs: c_out, outputs: a_out}}
          - {{name: b, func: {mod}:second, inputs: a_out, outputs: b_out}}
          - {{name: c, tagz: [x], func: {mod}:second, inputs: b_out, outputs: c_out}}
        """,
    )
    assert _problems(cli, project) == [
        f"pipeline.yaml:3:21: nodes[0] 'a' → func: module '{mod}' has no attribute 'frist' "
        "(did you mean 'first'?)",
        "pipeline.yaml:4:5: nodes[1] 'b': the nodes form a cycle: b → a → c → b (a node "
        "cannot depend on its own outputs; break the loop)",
        "pipeline.yaml:5:15: nodes[2] 'c' → tagz: unknown key 'tagz' (did you mean 'tags'?)",
    ]


def test_a_syntax_error_in_the_nodes_module_is_one_problem_in_that_module(project, cli):
    mod = project.module(NODES + "\n\ndef broken(:\n    pass\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        catalog:
          rows: {{type: json, path: rows.json}}
        nodes:
          - {{name: a, func: {mod}:first, inputs: rows, outputs: x}}
          - {{name: b, func: {mod}:second, inputs: x, outputs: y}}
        """,
    )
    project.write("rows.json", "[]")
    assert _problems(cli, project) == [
        f"{mod}.py:9:12: importing '{mod}' failed: SyntaxError: invalid syntax (imported for "
        "nodes[0] 'a' → func at pipeline.yaml:5, nodes[1] 'b' → func at pipeline.yaml:6)"
    ]
