"""Command invocation hooks (coma): parser hook, config/init/run each pre/main/post, the slot
defaults and their factories, and ``--params`` overrides."""

from __future__ import annotations

import importlib
import json

import pytest
from sources import source

from hookrunner.kernel.errors import ValidationError
from hookrunner.pipeline.lifecycle import run_pipeline

NINE = [
    "pre_config_hook",
    "config_hook",
    "post_config_hook",
    "pre_init_hook",
    "init_hook",
    "post_init_hook",
    "pre_run_hook",
    "run_hook",
    "post_run_hook",
]

# Records every invocation event; the three main hooks record and then do the default work.
ORDER_HOOKS = source("invocation_order_hooks")


def _hook(name: str, event: str, call: str, with_: str = "") -> str:
    extra = f", with: {{{with_}}}" if with_ else ""
    return f"  - {{name: {name}, event: {event}, call: '{call}'{extra}}}\n"


def test_the_nine_invocation_hooks_fire_in_comas_order(project):
    hooks = project.module(ORDER_HOOKS)
    nodes = project.module("def one():\n    return 1\n")
    entries = _hook("parser", "parser_hook", f"{hooks}:parser")
    for event in NINE:
        if event in ("config_hook", "init_hook", "run_hook"):
            entries += _hook(event, event, f"{hooks}:{event}")
        else:
            entries += _hook(event, event, f"{hooks}:note", f"event: {event}")
    path = project.write(
        "pipeline.yaml",
        "version: 1\nhooks:\n"
        + entries
        + f"nodes:\n  - {{name: a, func: '{nodes}:one', outputs: x}}\n",
    )
    result = run_pipeline(path)
    assert result.ok, result.error
    assert importlib.import_module(hooks).CALLS == ["parser_hook", *NINE]
    assert result.outputs == {"x": 1}  # the delegated defaults did the real work


ENV_HOOKS = source("invocation_env_hooks")


def _env_project(project):
    hooks = project.module(ENV_HOOKS)
    nodes = project.module("def depth(d):\n    return d\n")
    project.write("conf/base.yaml", "model: {name: tree}\n")
    project.write("conf/prod.yaml", "model: {depth: 9, name: forest}\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{model: {{depth: 3}}}}
        hooks:
          - {{name: env, event: parser_hook, call: "{hooks}:add_env"}}
          - {{name: conf, event: config_hook, call: "{hooks}:config", on_error: raise}}
          - {{name: show, event: post_init_hook, call: "{hooks}:show"}}
        catalog:
          out: {{type: json, path: out/depth.json}}
        nodes:
          - {{name: d, func: "{nodes}:depth", inputs: ["params:model.depth"], outputs: out}}
        """,
    )


def _shown(stdout: str) -> dict:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("context: "))
    return json.loads(line.removeprefix("context: "))


def test_parser_hook_option_reaches_a_config_factory_and_help_lists_it(project, cli):
    _env_project(project)
    r = cli("run", "pipeline.yaml", "--env", "prod", "--quiet", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert _shown(r.stdout) == {
        "env": "prod",
        "params": {"model": {"depth": 9, "name": "forest"}},
        "ctx_env": "prod",
    }
    assert json.loads((project.root / "out/depth.json").read_text()) == 9

    # The default of the added option applies; --params still wins over the files.
    r = cli("run", "pipeline.yaml", "--params", "model.depth=4", "-q", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert _shown(r.stdout)["params"] == {"model": {"depth": 4, "name": "tree"}}

    r = cli("run", "pipeline.yaml", "--env", "staging", "-q", cwd=project.root)
    assert r.returncode == 2 and "parameters file 'conf/staging.yaml' not found" in r.stderr

    r = cli("run", "pipeline.yaml", "--help", cwd=project.root)
    assert r.returncode == 0
    assert "Options added by parser_hook hooks for pipeline.yaml" in r.stdout
    assert "--env ENV" in r.stdout and "merge conf/ENV.yaml over params" in r.stdout


def test_help_lists_parser_options_from_extra_hooks_files(project, cli):
    mod = project.module(
        "def add(parser):\n    parser.add_argument('--region', help='where to deploy')\n"
    )
    project.write(
        "extra.yaml", f"version: 1\nhooks: [{{name: r, event: parser_hook, call: '{mod}:add'}}]\n"
    )
    nodes = project.module("def f(x):\n    return x\n")
    project.write(
        "pipeline.yaml",
        f"version: 1\nparams: {{a: 1}}\nnodes:\n  - {{name: n, func: '{nodes}:f', inputs: 'params:a', outputs: y}}\n",
    )
    for args in (
        ("pipeline.yaml", "--hooks", "extra.yaml"),
        ("--hooks=extra.yaml", "pipeline.yaml"),
    ):
        r = cli("run", *args, "--help", cwd=project.root)
        assert r.returncode == 0, r.stderr
        assert "--region REGION" in r.stdout and "where to deploy" in r.stdout
    r = cli("run", "pipeline.yaml", "--help", cwd=project.root)
    assert "--region" not in r.stdout  # only when that manifest is loaded


RUN_VARIATION = source("invocation_run_variation")


def test_a_run_hook_factory_variation_replaces_one_step(project):
    hooks = project.module(RUN_VARIATION)
    nodes = project.module("def one():\n    return 1\n\ndef two():\n    return 2\n")
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        hooks:
          - {{name: runner, event: run_hook, call: "{hooks}:run"}}
          - {{name: after, event: after_pipeline_run, call: "{hooks}:after"}}
        nodes:
          - {{name: a, func: "{nodes}:one", outputs: x}}
          - {{name: b, func: "{nodes}:two", outputs: y}}
        """,
    )
    result = run_pipeline(path)
    assert result.ok, result.error
    seen = importlib.import_module(hooks).SEEN
    # The variation's runner and result; the default's events around them are kept.
    assert seen == ["b", "a", ("after_pipeline_run", {"ran": ["b", "a"]})]
    assert result.outputs == {"ran": ["b", "a"]} and result.nodes_run == ["b", "a"]


DUMP = """
import json

def dump(params):
    return params
"""


def _params_project(project):
    nodes = project.module(DUMP)
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{model: {{depth: 3, name: tree}}, lr: 0.1, flags: [], country: "se",
                  code: "1", debug: false, note: x}}
        catalog:
          out: {{type: json, path: out.json}}
        nodes:
          - {{name: d, func: "{nodes}:dump", inputs: [parameters], outputs: out}}
        """,
    )


def test_params_overrides_are_typed_and_must_exist(project, cli):
    _params_project(project)
    args = [
        "model.depth=5",
        "lr=1e-3",
        "flags=[1, 2.5, x]",
        "country=no",
        "code=007",
        "debug=true",
        "note=null",
        "model.name=a: b",
    ]
    r = cli(
        "run", "pipeline.yaml", "-q", *[x for a in args for x in ("--params", a)], cwd=project.root
    )
    assert r.returncode == 0, r.stderr
    assert json.loads((project.root / "out.json").read_text()) == {
        "model": {"depth": 5, "name": "a: b"},
        "lr": 0.001,
        "flags": [1, 2.5, "x"],
        "country": "no",
        "code": "007",
        "debug": True,
        "note": None,
    }

    r = cli("run", "pipeline.yaml", "--params", "model.dpth=4", cwd=project.root)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert (
        "pipeline.yaml:2:9: params: --params model.dpth: no such parameter "
        "(did you mean 'model.depth'?; pass --params-new to add parameters)"
    ) in r.stderr

    r = cli(
        "run", "pipeline.yaml", "-q", "--params-new", "--params", "model.seed=7", cwd=project.root
    )
    assert r.returncode == 0, r.stderr
    assert json.loads((project.root / "out.json").read_text())["model"]["seed"] == 7


def test_params_overrides_from_the_python_api(project):
    _params_project(project)
    path = project.root / "pipeline.yaml"
    with pytest.raises(ValidationError, match="--params missing: no such parameter"):
        run_pipeline(path, params={"missing": 1})
    assert run_pipeline(path, params={"missing": 1}, params_new=True).ok
    assert json.loads((project.root / "out.json").read_text())["missing"] == 1
