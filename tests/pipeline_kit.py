"""Helpers for the pipeline and session tests: a recording hooks class and small pipelines."""

from __future__ import annotations

import json
from pathlib import Path

from sources import source

# A hooks class with one method per non-slot event of the catalogue; every call is recorded
# as (event, node name, dataset name) in EVENTS, and as a JSON line in `log` when given
# (for runs in a subprocess). after_command_run also records the exit code. With
# `stamped: true` each log line also carries the process id and the time (for runs whose hooks
# fire in several processes).
RECORDER = source("pipeline_recorder")

NODES = source("pipeline_nodes")


def three_node_pipeline(project, recorder: str, nodes: str, extra: str = "") -> Path:
    """A → B → C: json input file, a parameter, list and mapping inputs/outputs."""
    project.write("data/x.json", "1\n")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: rec
            class: {recorder}:Recorder
        """,
    )
    return project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{y: 2}}
        catalog:
          x: {{type: json, path: data/x.json}}
          r: {{type: json, path: out/r.json}}
        nodes:
          - name: A
            func: {nodes}:add
            inputs: [x, "params:y"]
            outputs: s
          - name: B
            func: {nodes}:split
            inputs: s
            outputs: [p, q]
          - name: C
            func: {nodes}:combine
            inputs: {{p: p, q: q}}
            outputs: {{r: r}}
        {extra}
        """,
    )


def node_events(name: str, inputs: list[str], outputs: list[str]) -> list[tuple]:
    """The events one successful node fires, in order (checkpoints included)."""
    out: list[tuple] = []
    for i in inputs:
        out += [("before_dataset_loaded", name, i), ("after_dataset_loaded", name, i)]
    out += [("before_node_run", name, None), ("after_node_run", name, None)]
    for o in outputs:
        out += [("before_dataset_saved", name, o), ("after_dataset_saved", name, o)]
    out += [("pre_checkpoint", None, None), ("post_checkpoint", None, None)]
    return out


HEAD = [
    ("before_command_run", None, None),
    ("parser_hook", None, None),
    ("pre_config_hook", None, None),
    ("post_config_hook", None, None),
    ("pre_init_hook", None, None),
    ("session_start", None, None),
    ("after_context_created", None, None),
    ("after_catalog_created", None, None),
    ("post_init_hook", None, None),
    ("pre_run_hook", None, None),
    ("before_pipeline_run", None, None),
]


def tail(exit_code: int, failed: bool) -> list[tuple]:
    end = (
        [("on_pipeline_error", None, None), ("post_error", None, None)]
        if failed
        else [("after_pipeline_run", None, None), ("post_run_hook", None, None)]
    )
    return end + [
        ("session_metadata", None, None),
        ("pre_session_end", None, None),
        ("session_end", None, None),
        ("after_command_run", None, None, exit_code),
    ]


def read_log(path: Path) -> list[tuple]:
    return [tuple(json.loads(line)) for line in path.read_text().splitlines()]
