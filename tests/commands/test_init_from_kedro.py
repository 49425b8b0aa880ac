"""``hookrunner init --from-kedro``, and ``plugins: {kedro: true}``: the hooks Kedro would call,
in the order Kedro calls them (pluggy calls the hook registered last first).

The reference order comes from a real pluggy manager set up as Kedro's session does it
(``_create_hook_manager``, ``_register_hooks(HOOKS)``, ``_register_hooks_entry_points``),
with the published plugins installed by the test extra.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("kedro")
from kedro.framework.hooks.manager import (  # noqa: E402
    _create_hook_manager,
    _register_hooks,
    _register_hooks_entry_points,
)

HOOKS_MODULE = """
from kedro.framework.hooks import hook_impl


class First:
    @hook_impl
    def after_catalog_created(self, catalog):
        pass

    @hook_impl(tryfirst=True)
    def before_node_run(self, node):
        pass


class Second:
    def __init__(self, label="x", depth=0):
        self.label = label

    @hook_impl
    def after_catalog_created(self, catalog):
        pass

    @hook_impl(tryfirst=True)
    def before_node_run(self, node):
        pass


class Third:
    @hook_impl
    def after_catalog_created(self, catalog):
        pass


ready = Third()
"""


def _kedro_project(root: Path, package: str, settings: str) -> Path:
    (root / "src" / package).mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[tool.kedro]\npackage_name = "{package}"\nproject_name = "{package}"\n'
        'kedro_init_version = "1.7.0"\n'
    )
    (root / "src" / package / "__init__.py").write_text("")
    (root / "src" / package / "project_hooks.py").write_text(HOOKS_MODULE)
    (root / "src" / package / "settings.py").write_text(settings)
    return root


def _pluggy_order(objects: list, disabled: tuple[str, ...], event: str) -> list[str]:
    """The names Kedro's hook manager calls for ``event``, in its order, without hookrunner's
    own entry point (the manifest inside ``kedro run``: under hookrunner the manifests are
    loaded already, so ``plugins: {kedro: true}`` leaves it out)."""
    manager = _create_hook_manager()
    _register_hooks(manager, objects)
    _register_hooks_entry_points(manager, disabled)
    impls = getattr(manager.hook, event).get_hookimpls()
    names = [manager.get_name(i.plugin) for i in reversed(impls)]
    return [n for n in names if n != "hookrunner"]


def _our_order(cli, cwd: Path, event: str) -> list[str]:
    r = cli("list", "--event", event, "--format", "json", cwd=cwd)
    assert r.returncode == 0, r.stderr
    return [row["name"].rsplit(".", 1)[0] for row in _json(r.stdout)]


def _json(stdout: str) -> list[dict]:
    """The JSON array, after any lines Kedro's logging printed when a plugin imported it."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line in ("[", "[]"))
    return json.loads("\n".join(lines[start:]))


SETTINGS = """
open("EXECUTED", "w").close()  # init must never run this file

from {package}.project_hooks import First
from {package} import project_hooks as hooks_mod
from .project_hooks import ready

HOOKS = (First(), hooks_mod.Second(label="two", depth=3), ready)
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-telemetry",)
"""


@pytest.mark.parametrize("event", ["after_catalog_created", "before_node_run"])
def test_ported_hooks_yaml_calls_hooks_in_kedros_order(tmp_path, cli, monkeypatch, event):
    package = f"kp_{event[:6]}"
    root = _kedro_project(tmp_path / "proj", package, SETTINGS.format(package=package))
    out = tmp_path / "ported"
    r = cli("init", str(out), "--from-kedro", str(root), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "EXECUTED").exists() and not (root / "EXECUTED").exists()
    text = (out / "hooks.yaml").read_text()
    # settings.py's order, with descending priorities; the disable list carried over.
    assert text.index("name: first") < text.index("name: second") < text.index("name: ready")
    assert "class: " + package + ".project_hooks:First" in text
    assert 'args: {"label": "two", "depth": 3}' in text
    assert "class: " + package + ".project_hooks:ready" in text  # a ready hooks object
    assert 'disable: ["kedro-telemetry"]' in text
    assert [int(line.split()[-1]) for line in text.splitlines() if "priority:" in line] == [
        502,
        501,
        500,
    ]

    monkeypatch.syspath_prepend(str(root / "src"))
    monkeypatch.setenv("PYTHONPATH", str(root / "src"))
    import importlib

    mod = importlib.import_module(f"{package}.project_hooks")
    objects = [mod.First(), mod.Second(label="two", depth=3), mod.ready]
    by_id = {str(id(o)): n for o, n in zip(objects, ["first", "second", "ready"], strict=True)}
    expected = [by_id.get(n, n) for n in _pluggy_order(objects, ("kedro-telemetry",), event)]
    assert _our_order(cli, out, event) == expected
    # The installed plugins come first (Kedro registers them last); telemetry is disabled.
    if event == "after_catalog_created":
        assert set(expected[:2]) == {"pipeline-run-hook", "kedro-dataset-stats"}
        assert expected[2:] == ["ready", "second", "first"]


def test_kedro_plugins_opt_in_and_disable(tmp_path, cli):
    (tmp_path / "hooks.yaml").write_text("version: 1\nhooks: []\n")
    assert _our_order(cli, tmp_path, "after_context_created") == []
    (tmp_path / "hooks.yaml").write_text("version: 1\nplugins: {kedro: true}\n")
    expected = _pluggy_order([], (), "after_context_created")
    assert _our_order(cli, tmp_path, "after_context_created") == expected
    assert {"kedro_boot_hook", "kedro-telemetry"} <= set(expected)
    (tmp_path / "hooks.yaml").write_text(
        "version: 1\nplugins: {kedro: true, disable: [kedro_boot]}\n"  # pip-style name
    )
    assert "kedro_boot_hook" not in _our_order(cli, tmp_path, "after_context_created")
    r = cli("list", "--event", "before_command_run", "--format", "json", cwd=tmp_path)
    assert [row["source"] for row in _json(r.stdout)] == ["plugin:kedro-telemetry"]


def test_from_kedro_problems_are_clear(tmp_path, cli):
    r = cli("init", str(tmp_path / "o"), "--from-kedro", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "is not a Kedro project: no pyproject.toml" in r.stderr
    root = _kedro_project(
        tmp_path / "p",
        "kp_bad",
        "from kp_bad.project_hooks import First\n"
        "VALUE = 3\n"
        "HOOKS = (First(VALUE), First(label=VALUE))\n",
    )
    r = cli("init", str(tmp_path / "o"), "--from-kedro", str(root), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    column = "HOOKS = (First(VALUE)".index("VALUE") + 1
    assert (
        f"settings.py:3:{column}: First(VALUE): positional arguments cannot be ported" in r.stderr
    )
    assert "argument label=VALUE is not a literal" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("init", str(tmp_path / "o"), "--from-kedro", str(root), cwd=tmp_path)
    assert r.returncode == 2 and "already exists (pass --force" in r.stderr


def test_literals_hooks_yaml_cannot_hold_are_converted_or_left_out_with_a_warning(tmp_path, cli):
    import yaml

    lines = [
        "from kp_lit.project_hooks import First",
        "HOOKS = (",
        "    First(tags={'b', 'a'}, keyed={[1]: 2}, raw=b'x', z=1j, mixed={1, 'a'},",
        "          n={1: 'one'}, nested={'k': ({3, 1}, (1, 2))}, ok=[1, 'two', None]),",
        ")",
    ]
    root = _kedro_project(tmp_path / "p", "kp_lit", "\n".join(lines) + "\n")
    r = cli("init", str(tmp_path / "o"), "--from-kedro", str(root), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr

    def at(line: int, text: str) -> str:
        return f"settings.py:{line}:{lines[line - 1].index(text) + 1}: "

    warned = [w.split("kp_lit/", 1)[1] for w in r.stderr.splitlines() if w.startswith("warning")]
    assert warned == [
        at(3, "{[1]: 2}") + "First(tags={'b', 'a'}, keyed={[1]: 2}, raw=b'x', z=1j, mixed={1, "
        "'a'}, n={1: 'one'}, nested={'k': ({3, 1}, (1, 2))}, ok=[1, 'two', None]): argument "
        "keyed={[1]: 2} is not a literal (add it under `args:` by hand)",
        at(3, "b'x'") + "argument raw: the bytes b'x' cannot be written in hooks.yaml; left out "
        "(add it under `args:` by hand, in a form YAML holds)",
        at(3, "1j") + "argument z: the complex 1j cannot be written in hooks.yaml; left out "
        "(add it under `args:` by hand, in a form YAML holds)",
        at(3, "{1, 'a'}") + f"argument mixed: a set of values that do not sort "
        f"({r.stderr.split('do not sort (', 1)[1].split(')', 1)[0]}) cannot be written in "
        "hooks.yaml; left out (add it under `args:` by hand, in a form YAML holds)",
        at(4, "{1: 'one'}") + "argument n: the mapping key 1 (keys must be strings) cannot be "
        "written in hooks.yaml; left out (add it under `args:` by hand, in a form YAML holds)",
    ]
    written = yaml.safe_load((tmp_path / "o" / "hooks.yaml").read_text())
    assert written["hooks"][0]["args"] == {
        "tags": ["a", "b"],
        "nested": {"k": [[1, 3], [1, 2]]},
        "ok": [1, "two", None],
    }
