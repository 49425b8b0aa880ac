"""Finding and loading a Kedro project's manifests (``hookrunner.kedro.locate`` and
``manifests``), in process, with Kedro's real ``OmegaConfigLoader``: a conf folder, a
packaged conf archive (``kedro run --conf-source=conf.tar.gz``), the project's own patterns,
and the switches from the environment."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

pytest.importorskip("kedro")
from kedro.config import OmegaConfigLoader  # noqa: E402

from hookrunner.kedro.errors import KedroManifestError  # noqa: E402
from hookrunner.kedro.locate import sources  # noqa: E402
from hookrunner.kedro.manifests import load, read, switches  # noqa: E402

BASE = """version: 1
hooks:
  - {name: a, event: before_node_run, call: "os:getpid"}
  - {name: b, event: after_node_run, call: "os:getpid", priority: 10}
"""
LOCAL = """version: 1
hooks:
  - {name: a, event: after_node_run, call: "os:getpid", priority: 7}
  - {name: c, event: after_node_run, call: "os:getpid", enabled: false}
"""


def _conf(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "conf" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "conf"


def _loader(conf: str | Path, env: str | None = None, **kwargs) -> OmegaConfigLoader:
    return OmegaConfigLoader(
        conf_source=str(conf), env=env, base_env="base", default_run_env="local", **kwargs
    )


def test_base_then_the_run_environment_override_by_name(tmp_path):
    conf = _conf(
        tmp_path,
        {
            "base/hooks.yaml": BASE,
            "base/.hidden/hooks.yaml": "not: read",
            "local/hooks.yml": LOCAL,
            "prod/hooks.yaml": BASE.replace("priority: 10", "priority: 20"),
        },
    )
    found = sources(_loader(conf))
    assert [(Path(s.file).relative_to(conf).as_posix(), s.env) for s in found] == [
        ("base/hooks.yaml", "base"),
        ("local/hooks.yml", "local"),
    ]
    manifest = read(found)
    # local's `a` replaced base's in place; `c` came after.
    assert [(d.name, d.event, d.priority) for d in manifest.decls] == [
        ("a", "after_node_run", 7),
        ("b", "after_node_run", 10),
        ("c", "after_node_run", 500),
    ]
    assert [s.env for s in sources(_loader(conf, env="prod"))] == ["base", "prod"]
    assert [s.env for s in sources(_loader(conf, env="base"))] == ["base"]  # once
    assert sources(_loader(conf, env="missing")) == [s for s in found if s.env == "base"]


def test_the_projects_own_patterns(tmp_path):
    conf = _conf(tmp_path, {"base/hooks.yaml": BASE, "base/hooks/extra.yml": LOCAL})
    loader = _loader(conf, config_patterns={"hooks": ["hooks/*"]})
    assert [Path(s.file).name for s in sources(loader)] == ["extra.yml"]


def test_a_packaged_conf_archive_is_read_through_the_loaders_file_system(tmp_path):
    conf = _conf(
        tmp_path,
        {"base/hooks.yaml": BASE, "local/hooks.yaml": LOCAL.replace("priority: 7", "priority: x")},
    )
    archive = tmp_path / "conf-proj.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(conf, arcname="conf")
    found = sources(_loader(archive))
    assert [s.file for s in found] == [
        f"{archive}!/conf/base/hooks.yaml",
        f"{archive}!/conf/local/hooks.yaml",
    ]
    assert found[0].text == BASE
    with pytest.raises(KedroManifestError) as caught:
        load(found)
    (problem,) = caught.value.problems
    column = LOCAL.splitlines()[2].index("7") + 1
    assert str(problem).startswith(
        f"{archive}!/conf/local/hooks.yaml:3:{column}: hooks[0] 'a' → priority: expected an integer"
    )


def test_no_conf_folder_no_manifest_no_loader():
    assert sources(None) == []
    assert sources(object()) == []
    assert sources(_loader("/nonexistent/conf")) == []


def test_switches_from_the_environment(tmp_path):
    conf = _conf(tmp_path, {"base/hooks.yaml": BASE, "local/hooks.yaml": LOCAL})
    manifest = read(sources(_loader(conf)))
    on_off, problems = switches(
        manifest.decls, {"HOOKRUNNER_ENABLE": "c", "HOOKRUNNER_DISABLE": "*"}
    )
    assert on_off == {"a": False, "b": False, "c": False} and not problems  # disable wins
    on_off, problems = switches(
        manifest.decls, {"HOOKRUNNER_ENABLE": " c", "HOOKRUNNER_DISABLE": "a, bb ,zz*"}
    )
    assert on_off == {"c": True, "a": False}
    assert [str(p) for p in problems] == [
        "HOOKRUNNER_DISABLE:1:4: no hook is named 'bb' (did you mean 'b'?)",
        "HOOKRUNNER_DISABLE:1:8: no hook is named 'zz*' (the hooks are: a, b, c)",
    ]
    runner, switched = load(sources(_loader(conf)), switched={"c": True, "b": False})
    assert [h.name for h in runner.registry.plans["after_node_run"].hooks] == ["a", "c"]
    assert switched == {"c": True, "b": False}


def test_a_wrapper_around_kedros_hooks_is_refused(tmp_path):
    conf = _conf(
        tmp_path,
        {
            "base/hooks.yaml": 'version: 1\nhooks:\n  - {name: w, event: before_node_run, call: "hookrunner_wrap_mod:w", mode: wrap}\n'
        },
    )
    (tmp_path / "conf" / "base" / "hookrunner_wrap_mod.py").write_text(
        "def w(original_func, node):\n    return original_func()\n"
    )
    with pytest.raises(KedroManifestError) as caught:
        load(sources(_loader(conf)))
    (problem,) = caught.value.problems
    assert problem.line == 3 and problem.path == ("hooks", 0, "mode")
    assert "a wrapper cannot run around Kedro's own before_node_run hooks" in problem.message
