"""Entry-point plugins: distributions on a temporary path (a ``*.dist-info`` folder with
``entry_points.txt``) are discovered, ordered after the manifests' hooks by plugin name, shown
by ``list`` with their plugin name, and skipped by plugin or distribution name."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sources import source

from hookrunner import HookRunner
from hookrunner.kernel.errors import ValidationError

_ids = itertools.count()

# One distribution with the four kinds of entry point, one with a single hooks object.
PACKAGE = source("plugins_package")
FUNCS = """
from . import CALLS

def post_file_edit(file_path):
    CALLS.append(("mod", file_path))
"""
SHIPPED = """
version: 1
hooks:
  - name: shipped_edit
    event: post_file_edit
    call: {pkg}.funcs_shipped:edit
  - name: clash
    event: post_file_edit
    call: {pkg}.funcs_shipped:clash
"""
FUNCS_SHIPPED = """
from . import CALLS

def edit(file_path):
    CALLS.append(("shipped", file_path))

def clash(file_path):
    CALLS.append(("plugin clash", file_path))
"""


def _dist(site: Path, dist: str, version: str, entries: dict[str, str]) -> None:
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[hookrunner.hooks]\n{lines}")


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, str, str]:
    """A folder with two installed distributions; their packages have unique names."""
    n = f"{os.getpid()}_{next(_ids)}"
    a, b = f"hkplug_a_{n}", f"hkplug_b_{n}"
    site = tmp_path / "site"
    pkg = site / a
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(PACKAGE)
    (pkg / "funcs.py").write_text(FUNCS)
    (pkg / "funcs_shipped.py").write_text(FUNCS_SHIPPED)
    (pkg / "hooks.yaml").write_text(textwrap.dedent(SHIPPED.format(pkg=a)).lstrip())
    _dist(
        site,
        "hk-plugin-a",
        "1.0",
        {
            "zeta": f"{a}:hooks",
            "alpha": f"{a}:AlphaHooks",
            "mod": f"{a}.funcs",
            "shipped": f"{a}:hooks.yaml",
        },
    )
    (site / f"{b}.py").write_text(
        "from importlib import import_module\n\n"
        "class Beta:\n"
        "    def post_file_edit(self, file_path):\n"
        f"        import_module('{a}').CALLS.append(('beta', file_path))\n\n"
        "hooks = Beta()\n"
    )
    _dist(site, "hk_Plugin_B", "2.0", {"beta": f"{b}:hooks"})
    return site, a, b


MANIFEST = """
version: 1
plugins: {{discover: true{disable}}}
hooks:
  - name: own
    event: post_file_edit
    call: {mod}:own
  - name: clash
    event: post_file_edit
    call: {mod}:own_clash
"""
OWN = """
from importlib import import_module

def own(file_path):
    import_module("{pkg}").CALLS.append(("own", file_path))

def own_clash(file_path):
    import_module("{pkg}").CALLS.append(("own clash", file_path))
"""


def _manifest(project, pkg: str, disable: str = "") -> Path:
    mod = project.module(OWN.format(pkg=pkg))
    return project.write("hooks.yaml", MANIFEST.format(mod=mod, disable=disable))


def test_plugins_are_discovered_ordered_by_name_after_the_manifest(project, site, monkeypatch):
    root, a, _ = site
    monkeypatch.syspath_prepend(str(root))
    path = _manifest(project, a)
    with HookRunner.from_files(path) as runner:
        hooks = runner.hooks("post_file_edit")
        assert [h.name for h in hooks] == [
            "own",
            "clash",  # the project's: the plugin's hook of that name is not loaded
            "alpha.post_file_edit",
            "beta.post_file_edit",
            "mod.post_file_edit",
            "shipped_edit",
            "zeta.post_file_edit",
        ]
        sources = {h.name: h.source for h in hooks}
        assert sources["alpha.post_file_edit"] == "plugin:alpha"
        assert sources["zeta.post_file_edit"] == "plugin:zeta"
        assert sources["shipped_edit"] == f"plugin:shipped ({root / a / 'hooks.yaml'}:3)"
        assert sources["own"] == f"{path}:4"
        runner.emit("post_file_edit", file_path="x.py")
    calls = sys.modules[a].CALLS
    assert [who for who, _ in calls] == [
        "own",
        "own clash",
        "alpha",
        "beta",
        "mod",
        "shipped",
        "zeta",
    ]


def test_plugins_are_disabled_by_plugin_or_distribution_name(project, site, monkeypatch):
    root, a, _ = site
    monkeypatch.syspath_prepend(str(root))
    # "hk-plugin-b" matches the distribution "hk_Plugin_B" as pip compares names.
    path = _manifest(project, a, ", disable: [zeta, hk-plugin-b, shipped]")
    with HookRunner.from_files(path) as runner:
        names = [h.name for h in runner.hooks("post_file_edit")]
    assert names == ["own", "clash", "alpha.post_file_edit", "mod.post_file_edit"]


def test_without_discover_no_plugin_loads(project, site, monkeypatch):
    root, a, _ = site
    monkeypatch.syspath_prepend(str(root))
    mod = project.module(OWN.format(pkg=a))
    path = project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: own, event: post_file_edit, call: '{mod}:own'}}\n",
    )
    with HookRunner.from_files(path) as runner:
        assert [h.name for h in runner.hooks("post_file_edit")] == ["own"]


def test_a_plugin_outside_allowed_modules_is_a_located_problem(project, site, monkeypatch):
    root, a, _ = site
    monkeypatch.syspath_prepend(str(root))
    path = project.write(
        "hooks.yaml",
        "version: 1\nsettings: {allowed_modules: [nothing_here]}\n"
        "plugins: {discover: true, disable: [mod, shipped, zeta, hk-plugin-b]}\n",
    )
    with pytest.raises(ValidationError) as err:
        HookRunner.from_files(path)
    [problem] = err.value.problems
    assert (problem.file, problem.line) == (str(path), 3)
    assert f"module {a!r} is outside settings.allowed_modules" in problem.message
    assert "plugins: plugin 'alpha': module" in str(problem)


def test_list_shows_plugin_sources_from_a_subprocess(project, site):
    root, a, _ = site
    _manifest(project, a, ", disable: [hk-plugin-b]")
    env_path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    r = subprocess.run(
        [sys.executable, "-m", "hookrunner", "list", "--format", "json"],
        cwd=project.root,
        env={**os.environ, "PYTHONPATH": env_path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(x["name"], x["source"].split(" ")[0]) for x in rows] == [
        ("own", "hooks.yaml:4"),
        ("clash", "hooks.yaml:7"),
        ("alpha.post_file_edit", "plugin:alpha"),
        ("mod.post_file_edit", "plugin:mod"),
        ("shipped_edit", "plugin:shipped"),
        ("zeta.post_file_edit", "plugin:zeta"),
    ]


def test_a_plugin_object_without_event_methods_is_a_located_problem(project, tmp_path, monkeypatch):
    name = f"hkplug_empty_{os.getpid()}_{next(_ids)}"
    site = tmp_path / "site_empty"
    site.mkdir()
    (site / f"{name}.py").write_text(
        "class _Nothing:\n    def hello(self):\n        pass\n\nhooks = _Nothing()\n"
    )
    _dist(site, "hk-empty", "0.1", {"empty": f"{name}:hooks"})
    monkeypatch.syspath_prepend(str(site))
    path = project.write("hooks.yaml", "version: 1\nplugins:\n  discover: true\n")
    with pytest.raises(ValidationError) as err:
        HookRunner.from_files(path)
    [problem] = [p for p in err.value.problems if "'empty'" in p.message]
    assert (problem.line, problem.message) == (
        3,
        "plugin 'empty': _Nothing has no method named after an event",
    )


def test_a_plugin_manifest_in_a_subpackage_is_found_without_importing_anything(
    project, tmp_path, monkeypatch
):
    """Locating ``pkg.conf:hooks.yaml`` imports neither ``pkg`` nor ``pkg.conf`` (find_spec
    of a dotted name would run ``pkg/__init__.py``); the shipped hooks' own targets then meet
    the project's allow-list like any other."""
    n = f"{os.getpid()}_{next(_ids)}"
    pkg = f"hkplug_c_{n}"
    site = tmp_path / "site_c"
    mark = tmp_path / "imported.txt"
    (site / pkg / "conf").mkdir(parents=True)
    (site / pkg / "__init__.py").write_text(f"open({str(mark)!r}, 'a').write('pkg')\n")
    (site / pkg / "conf" / "__init__.py").write_text(f"open({str(mark)!r}, 'a').write('conf')\n")
    (site / pkg / "conf" / "hooks.yaml").write_text(
        f"version: 1\nhooks:\n  - {{name: shipped, event: post_file_edit, call: '{pkg}.x:f'}}\n"
    )
    _dist(site, "hk-plugin-c", "1.0", {"conf": f"{pkg}.conf:hooks.yaml"})
    monkeypatch.syspath_prepend(str(site))
    path = project.write(
        "hooks.yaml",
        "version: 1\nsettings: {allowed_modules: [nothing_here]}\n"
        "plugins: {discover: true, disable: [hk-plugin-a, hk-plugin-b]}\n",
    )
    with pytest.raises(ValidationError) as err:
        HookRunner.from_files(path)
    [problem] = err.value.problems
    assert problem.file.endswith(f"{pkg}/conf/hooks.yaml")
    assert f"module '{pkg}.x' is outside settings.allowed_modules (nothing_here)" in problem.message
    assert not mark.exists()
