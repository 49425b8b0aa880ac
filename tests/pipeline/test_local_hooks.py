"""Global hooks (manifests) and local hooks (the pipeline file's ``hooks:``) with coma's
semantics: local hooks are appended, ``forget:`` drops a global one, and a local hook with a
global's name overrides it in place, which ``hookrunner list --pipeline`` says."""

from __future__ import annotations

import importlib
import json

from hookrunner.pipeline.lifecycle import run_pipeline

HOOKS = """
CALLS = []

def mark(label):
    CALLS.append(label)
"""


def _project(project):
    hooks = project.module(HOOKS)
    nodes = project.module("def one():\n    return 1\n")

    def hook(name: str, label: str) -> str:
        return (
            f"  - {{name: {name}, event: before_pipeline_run, call: '{hooks}:mark', "
            f"with: {{label: {label}}}}}\n"
        )

    project.write(
        "hooks.yaml",
        "version: 1\nhooks:\n"
        + hook("g1", "global-1")
        + hook("g2", "global-2")
        + hook("g3", "global-3"),
    )
    path = project.write(
        "pipeline.yaml",
        "version: 1\nforget: [g3]\nhooks:\n"
        + hook("l1", "local-1")
        + hook("g2", "local-2")
        + f"nodes:\n  - {{name: a, func: '{nodes}:one', outputs: x}}\n",
    )
    return hooks, path


def test_local_hooks_append_forget_and_override_in_place(project):
    hooks, path = _project(project)
    assert run_pipeline(path).ok
    # g2 keeps its global position with the local body; l1 comes after the globals.
    assert importlib.import_module(hooks).CALLS == ["global-1", "local-2", "local-1"]


def test_list_pipeline_shows_the_layering(project, cli):
    _project(project)
    r = cli(
        "list", "--pipeline", "pipeline.yaml", "--event", "before_pipeline_run",
        "--format", "json", cwd=project.root,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    # Sources are shown relative to the current directory, as `list` shows them everywhere.
    assert [(x["name"], x["source"], x["overrides"]) for x in rows] == [
        ("g1", "hooks.yaml:3", None),
        ("g2", "pipeline.yaml:5", "hooks.yaml:4"),
        ("l1", "pipeline.yaml:4", None),
    ]
    r = cli("list", "--pipeline", "pipeline.yaml", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert "(overrides hooks.yaml:4)" in r.stdout.replace("\n", "")
    # Without --pipeline only the manifest is listed: g3 is there, no local hook.
    r = cli("list", "--format", "json", cwd=project.root)
    assert [x["name"] for x in json.loads(r.stdout)] == ["g1", "g2", "g3"]


def test_forget_of_an_unknown_global_is_a_located_error(project, cli):
    _project(project)
    text = (project.root / "pipeline.yaml").read_text().replace("forget: [g3]", "forget: [g4]")
    (project.root / "pipeline.yaml").write_text(text)
    r = cli("list", "--pipeline", "pipeline.yaml", cwd=project.root)
    assert r.returncode == 2
    assert "pipeline.yaml:2:10: forget[0]: forget: no earlier hook is named 'g4'" in r.stderr
