"""``context.config_loader``: Kedro's OmegaConfigLoader over the conf folder (``conf_source:``,
``--env``), the built-in loader with the same patterns when Kedro cannot be imported, and a
run that does not use Kedro not importing it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from hookrunner.pipeline.config_loader import ConfigLoader, MissingConfigException
from hookrunner.pipeline.lifecycle import run_pipeline

CONF = {
    "conf/base/catalog.yml": "raw: {type: json, path: data/raw.json}\n",
    "conf/base/parameters.yml": "alpha: 1\nmodel: {depth: 3, name: tree}\n",
    "conf/base/parameters/extra.yml": "beta: 2\n",
    "conf/base/.hidden/parameters.yml": "hidden: true\n",
    "conf/local/parameters.yml": "alpha: 10\n",
    "conf/prod/parameters.yml": "model: {depth: 9}\n",
    "conf/prod/credentials.yml": "db: {user: prod}\n",
    "conf/base/mlflow.yml": "server: {uri: mlruns}\n",
}


@pytest.fixture
def conf(project):
    for name, text in CONF.items():
        project.write(name, text)
    return project.root / "conf"


@pytest.mark.parametrize("env", [None, "prod"])
def test_builtin_loader_reads_what_kedros_reads(conf, env):
    omegaconf = pytest.importorskip("kedro.config")
    theirs = omegaconf.OmegaConfigLoader(
        str(conf), env=env, base_env="base", default_run_env="local"
    )
    ours = ConfigLoader(conf, env=env)
    assert ours.config_patterns == theirs.config_patterns
    for key in ("catalog", "parameters"):
        assert ours[key] == dict(theirs[key]), key
    theirs.config_patterns["mlflow"] = ours.config_patterns["mlflow"] = ["mlflow*"]
    assert ours["mlflow"] == dict(theirs["mlflow"])
    if env == "prod":
        assert ours["credentials"] == dict(theirs["credentials"]) == {"db": {"user": "prod"}}
    else:
        for loader, missing in (
            (ours, MissingConfigException),
            (theirs, omegaconf.MissingConfigException),
        ):
            with pytest.raises(missing):
                loader["credentials"]
    with pytest.raises(KeyError, match="No config patterns were found for 'nothing'"):
        ours["nothing"]


def test_builtin_loader_without_the_environment_folder(conf):
    with pytest.raises(MissingConfigException, match="conf/staging"):
        ConfigLoader(conf, env="staging")["parameters"]


RECORD = """
import json
from pathlib import Path

def remember(context):
    loader = context.config_loader
    Path(context.project_path, "seen.json").write_text(json.dumps({
        "loader": type(loader).__module__ + "." + type(loader).__name__,
        "env": context.env,
        "parameters": dict(loader["parameters"]),
        "credentials": context._get_config_credentials(),
    }))
"""


def _pipeline(project, extra: str = "") -> None:
    module = project.module(RECORD)
    project.write("nodes_cfg.py", "def one():\n    return 1\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        {extra}
        hooks:
          - {{name: r, event: after_context_created, call: "{module}:remember"}}
        nodes:
          - {{name: one, func: "nodes_cfg:one", outputs: x}}
        """,
    )


def test_conf_source_and_env_reach_kedros_loader(project, conf, monkeypatch):
    pytest.importorskip("kedro.config")
    (project.root / "settings").mkdir()
    conf.rename(project.root / "settings" / "conf")
    _pipeline(project, "conf_source: settings/conf")
    monkeypatch.setenv("KEDRO_ENV", "prod")
    result = run_pipeline(project.root / "pipeline.yaml")
    assert result.ok, result.error
    seen = json.loads((project.root / "seen.json").read_text())
    assert seen["loader"] == "kedro.config.omegaconf_config.OmegaConfigLoader"
    assert seen["env"] == "prod" and seen["credentials"] == {"db": {"user": "prod"}}
    assert seen["parameters"]["model"] == {"depth": 9}
    # --env on the command line wins over KEDRO_ENV; without conf_source: it is conf/.
    result = run_pipeline(project.root / "pipeline.yaml", extra_args=["--env", "local"])
    assert result.ok, result.error
    seen = json.loads((project.root / "seen.json").read_text())
    assert seen["env"] == "local" and seen["parameters"]["alpha"] == 10
    assert seen["credentials"] == {}


def test_without_kedro_the_builtin_loader_serves(project, conf, monkeypatch):
    for name in [m for m in sys.modules if m == "kedro" or m.startswith("kedro.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "kedro", None)  # `import kedro` now fails
    _pipeline(project)
    result = run_pipeline(project.root / "pipeline.yaml", env="prod")
    assert result.ok, result.error
    seen = json.loads((project.root / "seen.json").read_text())
    assert seen["loader"] == "hookrunner.pipeline.config_loader.ConfigLoader"
    assert seen["env"] == "prod" and seen["parameters"]["beta"] == 2
    assert seen["credentials"] == {"db": {"user": "prod"}}


def test_a_run_that_uses_no_kedro_does_not_import_it(project):
    project.write("nodes_plain.py", "def one():\n    return 1\n")
    project.write(
        "pipeline.yaml",
        """
        version: 1
        nodes:
          - {name: one, func: "nodes_plain:one", outputs: x}
        """,
    )
    code = textwrap.dedent(
        f"""
        import sys
        from hookrunner.pipeline.lifecycle import run_pipeline
        result = run_pipeline({str(project.root / "pipeline.yaml")!r})
        assert result.ok, result.error
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("kedro", "omegaconf")))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
