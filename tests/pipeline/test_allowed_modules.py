"""``settings.allowed_modules`` governs every dotted path a validate or a run imports.

Each case names a module outside the list in one place a file can name one (a hook's
``call:``, ``class:`` or ``error_handler:``, an invocation slot, a pipeline's local hook, a
node's ``func:``, a dataset ``type:``); ``validate``, ``validate --no-import`` and ``run`` all
exit 2 with the problem at that line, and the module's import-time mark never appears.
"""

from __future__ import annotations

import pytest
from sources import source

CASES = {
    "call": (
        "hooks",
        "{{name: x, event: before_node_run, call: '{out}:f'}}",
        "hooks[0] 'x' → call",
    ),
    "class": ("hooks", "{{name: x, class: '{out}:Hooks'}}", "hooks[0] 'x' → class"),
    "error_handler": (
        "hooks",
        "{{name: x, event: before_node_run, call: '{ok}:hook', error_handler: '{out}:f'}}",
        "hooks[0] 'x' → error_handler",
    ),
    "invocation_slot": (
        "hooks",
        "{{name: x, event: run_hook, call: '{out}:f'}}",
        "hooks[0] 'x' → call",
    ),
    "local_hook": (
        "local",
        "{{name: x, event: before_node_run, call: '{out}:f'}}",
        "hooks[0] 'x' → call",
    ),
    "func": ("node", "{out}:node", "nodes[1] 'evil' → func"),
    "type": ("type", "{out}:Dataset", "catalog.data.type"),
}


def _project(project, where: str, text: str, own: str = "") -> tuple[str, str]:
    ok = project.module(source("allowed_inside"), "inside")
    out = project.module(source("allowed_outside"), "outside")
    text = text.format(ok=ok, out=out)
    hooks = [text] if where == "hooks" else []
    project.write(
        "hooks.yaml",
        f"version: 1\nsettings: {{allowed_modules: [{ok}]}}\nhooks: [{', '.join(hooks)}]\n",
    )
    nodes = [f"  - {{name: n, func: '{ok}:node', inputs: 'params:x', outputs: y}}"]
    if where == "node":
        nodes.append(f"  - {{name: evil, func: '{text}', inputs: 'params:x', outputs: z}}")
    catalog = f"catalog:\n  data: {{type: '{text}', path: d.txt}}\n" if where == "type" else ""
    local = f"hooks: [{text}]\n" if where == "local" else ""
    project.write(
        "pipeline.yaml",
        f"version: 1\n{own}params: {{x: 1}}\n{catalog}{local}nodes:\n" + "\n".join(nodes) + "\n",
    )
    return ok, out


@pytest.mark.parametrize("case", list(CASES))
def test_a_module_outside_the_list_is_never_imported(project, cli, monkeypatch, case):
    mark = project.root / "imported.txt"
    monkeypatch.setenv("HR_OUTSIDE_MARK", str(mark))
    where, text, crumb = CASES[case]
    ok, out = _project(project, where, text)
    expected = f"{crumb}: module {out!r} is outside settings.allowed_modules ({ok})"
    for args in (
        ["validate", "pipeline.yaml"],
        ["validate", "--no-import", "pipeline.yaml"],
        ["run", "pipeline.yaml"],
    ):
        result = cli(*args, cwd=project.root)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    if where == "hooks":  # the manifest on its own too
        result = cli("validate", "hooks.yaml", cwd=project.root)
        assert result.returncode == 2 and expected in result.stderr
    assert not mark.exists(), mark.read_text()


def test_a_pipeline_file_adds_its_own_list_and_the_union_is_the_rule(project, cli, monkeypatch):
    mark = project.root / "imported.txt"
    monkeypatch.setenv("HR_OUTSIDE_MARK", str(mark))
    hooks_mod = project.module(source("allowed_inside"), "hooks")
    nodes_mod = project.module(source("allowed_inside"), "nodes")
    out = project.module(source("allowed_outside"), "outside")
    project.write(
        "hooks.yaml",
        f"version: 1\nsettings: {{allowed_modules: [{hooks_mod}]}}\n"
        f"hooks: [{{name: h, event: before_node_run, call: '{hooks_mod}:hook'}}]\n",
    )
    pipeline = (
        "version: 1\n"
        f"settings: {{allowed_modules: [{nodes_mod}]}}\n"
        f"hooks: [{{name: local, event: before_node_run, call: '{nodes_mod}:hook'}}]\n"
        "params: {x: 1}\n"
        f"nodes:\n  - {{name: n, func: '{nodes_mod}:node', inputs: 'params:x', outputs: y}}\n"
    )
    project.write("pipeline.yaml", pipeline)
    assert cli("validate", "pipeline.yaml", cwd=project.root).returncode == 0
    ran = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert ran.returncode == 0, ran.stderr
    # Anything outside both lists is still refused, naming the union.
    project.write("pipeline.yaml", pipeline.replace(f"'{nodes_mod}:node'", f"'{out}:node'"))
    refused = cli("run", "pipeline.yaml", cwd=project.root)
    assert refused.returncode == 2
    assert f"is outside settings.allowed_modules ({hooks_mod}, {nodes_mod})" in refused.stderr
    assert not mark.exists()
