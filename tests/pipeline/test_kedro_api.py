"""API parity with the installed Kedro, introspected (so it follows Kedro's releases).

Every public name of Kedro's ``KedroContext``, ``DataCatalog``, ``Node``, ``Pipeline`` and
``ProjectMetadata`` (and the private ones published plugins use) exists on the objects a
hookrunner run gives its hooks, with a compatible signature (every call Kedro's accepts,
ours accepts) and return type. The objects are taken from a real run; ``EXCEPTIONS`` lists
what differs on purpose, each with its reason.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

kedro = pytest.importorskip("kedro")
import attrs  # noqa: E402 - Kedro's dependency
from kedro.framework.context import KedroContext  # noqa: E402
from kedro.framework.startup import ProjectMetadata  # noqa: E402
from kedro.io import DataCatalog  # noqa: E402
from kedro.pipeline import Pipeline  # noqa: E402
from kedro.pipeline.node import Node  # noqa: E402

from hookrunner.host import project_metadata  # noqa: E402
from hookrunner.pipeline import catalog as our_catalog  # noqa: E402
from hookrunner.pipeline import graph  # noqa: E402
from hookrunner.pipeline.lifecycle import run_pipeline  # noqa: E402

#: Private members published plugins use (kedro-mlflow, kedro-viz, kedro-boot, Kedro's docs).
PRIVATE = {
    "KedroContext": {
        "_package_name",
        "_get_config_credentials",
        "_hook_manager",
        "_get_catalog",
        "_get_parameters",
        "_runtime_params",
    },
    "DataCatalog": {
        "_datasets",
        "__getitem__",
        "__setitem__",
        "__contains__",
        "__iter__",
        "__len__",
    },
    "Node": {"_func_name", "_name", "__call__", "__eq__", "__hash__", "__lt__", "__str__"},
    "Pipeline": {"__add__", "__sub__", "__and__", "__or__"},
    "ProjectMetadata": set(),
}

#: (class, name): why ours differs. Nothing else may.
EXCEPTIONS = {
    ("DataCatalog", "config_resolver"): "a pipeline file declares every dataset: no dataset "
    "factories, so no CatalogConfigResolver (the property is None)",
    ("KedroContext", "_hook_manager"): "hookrunner's registry is not a pluggy PluginManager; "
    "the object answers what plugins use it for, `.hook.<event>(**kwargs)`",
}

ANY = "*"
ALIASES = {
    "List": "list",
    "Dict": "dict",
    "Set": "set",
    "Tuple": "tuple",
    "NoneType": "None",
    "Any": ANY,
    "DataCatalog": "Catalog",
    "CatalogProtocol": "Catalog",
    "AbstractDataset": ANY,  # ours are any object with load/save
    "PreviewPayload": ANY,  # a pipeline file declares no previews (always None)
    "_DO": ANY,
}


def _kinds(annotation: Any) -> set[str] | None:
    """``'dict[str, Any] | None'`` → ``{"dict", "None"}``; None when not annotated."""
    if annotation is inspect.Signature.empty:
        return None
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    out: set[str] = set()
    depth, part, parts = 0, "", []
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += ch
    parts.append(part)
    for p in parts:
        base = p.strip().strip("'\"").split("[")[0].split(".")[-1]
        out.add(ALIASES.get(base, base))
    return {ANY} if ANY in out else out


def _returns_compatible(theirs: set[str] | None, ours: set[str] | None) -> bool:
    if theirs is None or ANY in theirs:
        return True
    return ours is not None and (ANY in ours or theirs <= ours | {"None"} and ours <= theirs)


PY_TYPES = {"list": list, "dict": dict, "set": set, "tuple": tuple, "str": str, "bool": bool}
PY_TYPES.update({"int": int, "None": type(None), "Path": Path})


def _value_fits(value: Any, kinds: set[str] | None, owner: type) -> bool:
    if kinds is None or ANY in kinds:
        return True
    for kind in kinds:
        if kind in PY_TYPES and isinstance(value, PY_TYPES[kind]):
            return True
        if kind == "Callable" and callable(value):
            return True
        ours = {"Catalog": our_catalog.Catalog, "Pipeline": graph.Pipeline, "Node": graph.Node}
        if kind in ours and isinstance(value, ours[kind]):
            return True
        theirs = getattr(sys.modules[owner.__module__], kind, None)
        if theirs is None:  # names imported for type checking only
            for module in ("kedro.config", "kedro.io", "kedro.pipeline"):
                theirs = theirs or getattr(importlib.import_module(module), kind, None)
        if isinstance(theirs, type) and isinstance(value, theirs):
            return True
    return False


def _check_call(cls_name: str, name: str, theirs: Any, ours: Any) -> list[str]:
    """Every call Kedro's signature accepts, ours accepts; the return types agree."""
    where = f"{cls_name}.{name}"
    if not callable(ours):
        return [f"{where}: not callable on ours"]
    sig_t = inspect.signature(theirs)
    sig_o = inspect.signature(ours)
    problems = []
    params_t = [p for p in sig_t.parameters.values() if p.name not in ("self", "cls")]
    params_o = list(sig_o.parameters.values())
    by_name = {p.name: p for p in params_o}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params_o)
    var_pos = any(p.kind is p.VAR_POSITIONAL for p in params_o)
    positional_o = [p for p in params_o if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for i, p in enumerate(params_t):
        if p.kind is p.VAR_POSITIONAL:
            if not var_pos:
                problems.append(f"{where}: Kedro takes *{p.name}, ours does not")
            continue
        if p.kind is p.VAR_KEYWORD:
            if not var_kw:
                problems.append(f"{where}: Kedro takes **{p.name}, ours does not")
            continue
        mine = by_name.get(p.name)
        if p.kind is p.POSITIONAL_OR_KEYWORD:
            if mine is None or positional_o[i : i + 1] != [mine]:
                problems.append(f"{where}: parameter {p.name!r} (position {i}) differs: {sig_o}")
                continue
        elif mine is None and not var_kw:
            problems.append(f"{where}: no keyword {p.name!r}: {sig_o}")
            continue
        if mine is not None and p.default is not p.empty and mine.default is mine.empty:
            problems.append(f"{where}: {p.name!r} needs a default, as Kedro's has")
    known = {p.name for p in params_t}
    for p in params_o:
        if (
            p.name not in known
            and p.default is p.empty
            and p.kind
            not in (
                p.VAR_POSITIONAL,
                p.VAR_KEYWORD,
            )
        ):
            problems.append(f"{where}: ours requires {p.name!r}, which Kedro's callers never pass")
    kinds_t, kinds_o = _kinds(sig_t.return_annotation), _kinds(sig_o.return_annotation)
    if not _returns_compatible(kinds_t, kinds_o):
        problems.append(f"{where}: returns {kinds_o}, Kedro's {kinds_t}")
    return problems


def _names(cls: type) -> set[str]:
    names = {n for n in dir(cls) if not n.startswith("_")}
    if attrs.has(cls):
        names |= {f.name for f in attrs.fields(cls) if not f.name.startswith("_")}
    return names | PRIVATE[cls.__name__]


def _attr_kinds(cls: type, name: str) -> set[str] | None:
    static = inspect.getattr_static(cls, name, None)
    getter = getattr(static, "fget", None) or getattr(static, "func", None)
    if getter is not None:
        return _kinds(inspect.signature(getter).return_annotation)
    if attrs.has(cls):
        field = {f.name: f for f in attrs.fields(cls)}.get(name)
        if field is not None:
            return _kinds(field.type if field.type is not None else inspect.Signature.empty)
    return None


def check_parity(cls: type, ours: Any) -> list[str]:
    problems = []
    for name in sorted(_names(cls)):
        if (cls.__name__, name) in EXCEPTIONS:
            continue
        try:
            mine = getattr(ours, name)
        except AttributeError:
            problems.append(f"{cls.__name__}.{name}: missing on ours ({type(ours).__name__})")
            continue
        static = inspect.getattr_static(cls, name, None)
        if isinstance(static, (classmethod, staticmethod)) or inspect.isfunction(static):
            problems += _check_call(cls.__name__, name, getattr(cls, name), mine)
        elif isinstance(static, type(len)) or callable(static) and not isinstance(static, type):
            continue  # a builtin slot (tuple.count...): the same on ours
        elif not _value_fits(mine, _attr_kinds(cls, name), cls):
            problems.append(
                f"{cls.__name__}.{name}: {type(mine).__name__} does not fit "
                f"{_attr_kinds(cls, name)}"
            )
    return problems


@pytest.fixture(scope="module")
def run_objects(tmp_path_factory):
    """The context, catalog, node, pipeline and project metadata a real run passes."""
    root = tmp_path_factory.mktemp("parity")
    (root / "parity_hooks.py").write_text(
        "SEEN = {}\n\n"
        "def remember(**kwargs):\n"
        "    for k, v in kwargs.items():\n"
        "        SEEN.setdefault(k, v)\n"
    )
    (root / "parity_nodes.py").write_text("def twice(x, k):\n    return x * k\n")
    (root / "pipeline.yaml").write_text(
        "version: 1\n"
        "params: {k: 2}\n"
        "catalog:\n  x: {type: json, path: x.json}\n"
        "nodes:\n  - {name: twice, func: 'parity_nodes:twice', inputs: [x, 'params:k'], "
        "outputs: y, tags: [t]}\n"
        "hooks:\n"
        + "".join(
            f"  - {{name: r_{e}, event: {e}, call: 'parity_hooks:remember'}}\n"
            for e in ("before_command_run", "after_context_created", "before_node_run")
        )
    )
    (root / "x.json").write_text("3")
    result = run_pipeline(root / "pipeline.yaml")
    assert result.ok, result.error
    return importlib.import_module("parity_hooks").SEEN


@pytest.mark.parametrize(
    "cls, key",
    [
        (KedroContext, "context"),
        (DataCatalog, "catalog"),
        (Node, "node"),
        (Pipeline, "pipeline"),
        (ProjectMetadata, "project_metadata"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_objects_speak_kedros_api(run_objects, cls, key):
    ours = run_objects[key] if key != "pipeline" else run_objects["context"].pipeline
    assert check_parity(cls, ours) == []


def test_exceptions_are_still_needed(run_objects):
    """An entry that Kedro no longer has, or that ours now matches, must go."""
    objects = {"KedroContext": run_objects["context"], "DataCatalog": run_objects["catalog"]}
    for cls_name, name in EXCEPTIONS:
        cls = {"KedroContext": KedroContext, "DataCatalog": DataCatalog}[cls_name]
        assert name in _names(cls), (cls_name, name)
        mine = getattr(objects[cls_name], name)
        assert not _value_fits(mine, _attr_kinds(cls, name), cls), (cls_name, name)


def test_kedro_classes_where_plugins_check_for_them(run_objects):
    """Kedro's own classes where a plugin can check for them (it loaded their modules)."""
    assert isinstance(run_objects["node"], Node)
    assert isinstance(run_objects["project_metadata"], ProjectMetadata)
    from kedro.config import OmegaConfigLoader

    assert isinstance(run_objects["context"].config_loader, OmegaConfigLoader)


def test_fallback_metadata_has_kedros_fields(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "kedro.framework.startup")
    meta = project_metadata.make(tmp_path, pipeline="p.yaml")
    assert not isinstance(meta, ProjectMetadata)
    assert meta._fields == ProjectMetadata._fields
    assert meta.project_path == tmp_path.resolve() and meta["pipeline"] == "p.yaml"


def test_the_parity_check_catches_a_difference():
    """The check itself fails on a missing name, a narrower signature or a wrong return."""

    class Narrow:
        def only_nodes(self):  # Kedro's takes *node_names
            return None

        def describe(self, names_only) -> int:  # no default; returns int, not str
            return 0

    problems = check_parity(Pipeline, Narrow())
    assert any("Pipeline.filter: missing" in p for p in problems)
    assert any("only_nodes: Kedro takes *node_names" in p for p in problems)
    assert any("describe: 'names_only' needs a default" in p for p in problems)
    assert any("describe: returns {'int'}" in p for p in problems)


def test_a_union_of_pipelines_has_one_order_whatever_the_hash_seed():
    """``a | b`` lists independent nodes in the pipelines' own order, not a set's."""
    import os
    import subprocess
    import sys

    script = (
        "from hookrunner.pipeline.graph import Node, Pipeline\n"
        "f = lambda: 1\n"
        "a = Pipeline([Node(f'n{i}', f, None, f'o{i}') for i in range(0, 12, 2)])\n"
        "b = Pipeline([Node(f'n{i}', f, None, f'o{i}') for i in range(1, 12, 2)])\n"
        "print(' '.join(n.name for n in (a | b).nodes))\n"
    )
    orders = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
        ).stdout
        for seed in range(1, 6)
    }
    assert len(orders) == 1, orders
