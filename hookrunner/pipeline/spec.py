"""Loading and validating a pipeline file: schema, local hooks and graph checks, all located.

Every problem points at ``file:line:col`` with the document path (``nodes[2] 'clean' →
inputs[1]``), like manifest problems. The graph is checked completely at load time (cycles,
missing inputs, outputs produced twice, functions and their signatures, dataset types,
parameters) so that a run never starts on a pipeline that cannot finish.
"""

from __future__ import annotations

import inspect
import os
import sys
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..host.runner import HookRunner
from ..kernel import schema
from ..kernel.document import Document, interpolate_env, load_file
from ..kernel.errors import (
    Problem,
    ResolveError,
    ValidationError,
    did_you_mean,
    elide,
    merge_origins,
)
from ..kernel.manifest import Loader, Manifest
from ..kernel.registered import Overlay, applied
from ..kernel.registry import build
from ..kernel.resolve import check_allowed, import_callable, split_target
from ..kernel.runtime.hook import State
from .catalog import PARAMS_PREFIX, Catalog, is_param, missing_param
from .datasets import (
    BUILTIN_TYPES,
    DatasetConfigError,
    MemoryDataset,
    dataset_class,
    make_dataset,
)
from .graph import Node, Pipeline, topological
from .kedro_api import node_type

PathLike = str | os.PathLike[str]


@dataclass
class PipelineSpec:
    """A loaded, checked pipeline file: the graph, the catalog entries and the parameters."""

    path: Path
    doc: Document
    pipeline: Pipeline
    params: dict[str, Any]
    catalog_config: dict[str, dict[str, Any]]
    # Where each node was declared, for errors raised later (e.g. parameter overrides).
    node_paths: dict[str, tuple[str | int, ...]] = field(default_factory=dict)
    # The run's settings.allowed_modules (manifests and this file): dataset types import here.
    allowed_modules: list[str] | None = None

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def conf_source(self) -> str:
        """Kedro's configuration folder (``conf_source:``, default ``conf`` beside the file);
        a URL (``s3://...``) is kept as written."""
        value = self.doc.get(("conf_source",))
        text = value if isinstance(value, str) and value else "conf"
        return text if "://" in text else os.path.normpath(os.path.join(self.directory, text))

    def make_catalog(self, params: Mapping[str, Any] | None = None) -> Catalog:
        """Fresh datasets for one run (datasets hold state, so runs never share them)."""
        datasets = {
            name: make_dataset(cfg, self.directory, self.allowed_modules)
            for name, cfg in self.catalog_config.items()
        }
        return Catalog(datasets, self.params if params is None else params)

    def check_params(self, params: Mapping[str, Any]) -> list[Problem]:
        """Every ``params:NAME`` input must name an existing (possibly nested) parameter."""
        problems = []
        for node in self.pipeline.nodes:
            base = self.node_paths[node.name]
            for key, name in _wiring(self.doc.get(base + ("inputs",))):
                if not name.startswith(PARAMS_PREFIX):
                    continue
                dotted = name[len(PARAMS_PREFIX) :]
                gap = missing_param(params, dotted)
                if gap is None:
                    continue
                missing, choices = gap
                problems.append(
                    self.doc.problem(
                        base + ("inputs",) + ((key,) if key is not None else ()),
                        f"parameter {dotted!r} does not exist under params:",
                        did_you_mean(missing, choices)
                        or "add it under params: or pass --params NAME=VALUE",
                    )
                )
        return problems


def _wiring(value: Any) -> list[tuple[str | int | None, str]]:
    """(document key, dataset name) for a node's inputs/outputs in any of their forms."""
    if value is None:
        return []
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, dict):
        return [(k, v) for k, v in value.items() if isinstance(v, str)]
    if isinstance(value, list):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


# --------------------------------------------------------------------------- documents


def load_document(path: PathLike) -> tuple[Document | None, list[Problem]]:
    """Parse the file, fill ``${env:...}`` and check it against the pipeline schema."""
    try:
        doc = load_file(path)
    except ValidationError as exc:
        return None, exc.problems
    problems = interpolate_env(doc) + schema.check(doc, "pipeline")
    return doc, problems


def manifest_paths(doc: Document, extra: Sequence[PathLike] | None = None) -> list[Path]:
    """Global manifests for a pipeline: ``extra`` (``--hooks``), then ``manifests:`` or the
    ``hooks.yaml`` beside the pipeline file; each file once."""
    out: list[Path] = [_real(p) for p in extra or []]
    declared = doc.get(("manifests",))
    if isinstance(declared, list):
        # Non-strings are reported by the schema; they name no file.
        out += [_real(doc.directory / p) for p in declared if isinstance(p, str)]
    elif (doc.directory / "hooks.yaml").is_file():
        out.append((doc.directory / "hooks.yaml").resolve())
    return list(dict.fromkeys(out))


def _real(path: PathLike) -> Path:
    """``path`` resolved; a symlink loop stays as written (reading it reports the loop)."""
    return Path(os.path.realpath(path))


def own_allowed(doc: Document, shape: list[Problem] | None = None) -> list[str] | None:
    """The pipeline file's own ``settings.allowed_modules`` (None when it sets none, or its
    ``settings:`` failed the schema)."""
    if any(p.path[:1] == ("settings",) or not p.path for p in shape or []):
        return None
    value = doc.get(("settings", "allowed_modules"))
    return [str(v) for v in value] if isinstance(value, list) else None


def hook_manifest(
    doc: Document,
    extra: Sequence[PathLike] | None = None,
    shape: list[Problem] | None = None,
    loader: Loader | None = None,
) -> Manifest:
    """Global manifests, then entry-point plugins, then the pipeline's ``forget:`` and local
    ``hooks:`` (same rules). ``loader`` reads the files (a worker's reads shipped texts)."""
    loader = loader if loader is not None else Loader()
    declared = doc.get(("manifests",))
    for p in manifest_paths(doc, extra):
        i = None
        if isinstance(declared, list):
            i = next(
                (
                    i
                    for i, d in enumerate(declared)
                    if isinstance(d, str) and _real(doc.directory / d) == p
                ),
                None,
            )
        # A manifest the pipeline names that cannot be read is reported at its entry.
        origin = (doc, ("manifests", i), declared[i]) if i is not None else None
        loader.add_file(p, origin=origin)
    own = own_allowed(doc, shape)
    if own is not None:  # one rule for the whole run: the union of the allow-lists
        loader.m.settings.allow(own)
    loader.add_plugins()
    bad = [p.path for p in shape or []]
    loader.m.files.append(doc)
    if not any(b[:1] == ("forget",) for b in bad):
        loader.forget(doc, ("forget",))
    loader.add_hooks(doc, ("hooks",), bad)
    return loader.result()


def build_hooks(
    doc: Document,
    extra: Sequence[PathLike] | None = None,
    shape: list[Problem] | None = None,
    overlay: Overlay | None = None,
) -> HookRunner:
    """The HookRunner for a pipeline run; raises ValidationError listing every hook problem.

    ``overlay`` is what a host application registered from code (``HookRunner.overlay``):
    laid over the files' hooks as it is over its own manifests."""
    manifest = hook_manifest(doc, extra, shape)
    if overlay is not None:
        manifest = applied(manifest, overlay.decls, overlay.switches)
    return HookRunner(build(manifest, State()), manifest.paths)


# --------------------------------------------------------------------------- the graph


def _return_problem(fn: Any, outputs: Any) -> str | None:
    """A clear mismatch between a declared return annotation and ``outputs``, if any."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return None
    if "return" not in hints:
        return None
    ann = hints["return"]
    if ann is Any or outputs is None:
        return None
    if ann is type(None):
        return "the function is annotated to return None, but outputs are declared"
    origin = typing.get_origin(ann) or ann
    if isinstance(outputs, list):
        if origin is tuple:
            args = typing.get_args(ann)
            if args and Ellipsis not in args and len(args) != len(outputs):
                return (
                    f"the function returns a tuple of {len(args)} values, "
                    f"but {len(outputs)} outputs are declared"
                )
            return None
        if inspect.isclass(origin) and origin in (dict, str, int, float, bool, bytes):
            return (
                f"{len(outputs)} outputs need a returned tuple or list, "
                f"but the function returns {origin.__name__}"
            )
    if isinstance(outputs, dict) and inspect.isclass(origin) and origin in (tuple, list):
        return f"mapped outputs need a returned mapping, but the function returns {origin.__name__}"
    return None


def _not_imported(*_: Any) -> Any:
    raise RuntimeError("validate --no-import does not import node functions")


def _shape(wiring: Any) -> Any:
    """What a signature or return check reads of ``inputs``/``outputs``: the kind and the
    count, or the names of a mapping."""
    if isinstance(wiring, dict):
        return ("dict", tuple(wiring))
    if isinstance(wiring, list):
        return ("list", len(wiring))
    return ("one", wiring is None)


class _GraphChecker:
    """The graph, the catalog and the node functions. ``allowed`` is the run's allow-list;
    validate passes ``construct=False`` (no project dataset class is constructed) or
    ``imports=False`` (``--no-import``: no function or dataset type is imported)."""

    def __init__(
        self,
        doc: Document,
        shape: list[Problem],
        allowed: list[str] | None = None,
        imports: bool = True,
        construct: bool = True,
    ):
        self.doc = doc
        self.bad = [p.path for p in shape]
        self.problems: list[Problem] = []
        self.allowed = allowed
        self.imports = imports
        self.construct = construct
        # Per check: a large pipeline uses the same few functions for many nodes, and
        # importing, reading a signature and reading type hints are the costly parts.
        self.imported: dict[str, Any] = {}
        self.fits: dict[tuple[Any, str, Any], str | None] = {}
        self.returns: dict[tuple[Any, Any], str | None] = {}
        # Catalog entries with a problem of their own (reported there): an input naming one
        # is not also "produced by no node" (one mistake, one problem).
        self.broken_datasets: set[str] = set()
        self.ghosts: list[Node] = []

    def _is_memory(self, cfg: dict[str, Any]) -> bool:
        type_name = str(cfg.get("type", "memory"))
        if not self.imports and type_name not in BUILTIN_TYPES:
            return False  # a project class: taken as file-backed without importing it
        return dataset_class(type_name, self.allowed) is MemoryDataset

    def _import(self, target: Any) -> Any:
        """``import_callable(target)`` within the allow-list, once per target (a
        ResolveError is raised each time)."""
        key = target if isinstance(target, str) else repr(target)
        got = self.imported.get(key)
        if got is None:
            try:
                got = import_callable(target, self.allowed)
            except ResolveError as exc:
                got = exc
            self.imported[key] = got
        if isinstance(got, ResolveError):
            raise got
        return got

    def _ok(self, path: tuple[str | int, ...]) -> bool:
        n = len(path)
        return not any(b[:n] == path or path[: len(b)] == b for b in self.bad if b)

    def add(self, path: tuple[str | int, ...], message: str, hint: str | None = None) -> None:
        self.problems.append(self.doc.problem(path, message, hint))

    def catalog(self) -> dict[str, dict[str, Any]]:
        raw = self.doc.get(("catalog",)) or {}
        out: dict[str, dict[str, Any]] = {}
        if not isinstance(raw, dict):
            return out
        for name, cfg in raw.items():
            path = ("catalog", name)
            if not self._ok(path) or not isinstance(cfg, dict):
                self.broken_datasets.add(str(name))
                continue
            if is_param(str(name)):
                self.add(path, f"{name!r} is reserved for parameters", "rename the dataset")
                continue
            type_name = str(cfg.get("type", "memory"))
            try:
                if not self.imports and type_name not in BUILTIN_TYPES:
                    try:
                        check_allowed(split_target(type_name)[0], self.allowed)
                    except ResolveError as exc:
                        raise DatasetConfigError("type", exc.message, exc.hint) from None
                else:
                    dataset_class(type_name, self.allowed)
                    make_dataset(cfg, self.doc.directory, self.allowed, self.construct)
            except DatasetConfigError as exc:
                self.add(path + ((exc.key,) if exc.key else ()), exc.message, exc.hint)
                self.broken_datasets.add(str(name))
                continue
            out[str(name)] = cfg
        return out

    def nodes(
        self, catalog: dict[str, dict[str, Any]]
    ) -> tuple[list[Node], dict[str, tuple[str | int, ...]]]:
        raw = self.doc.get(("nodes",)) or []
        make_node = node_type()  # Kedro's Node class too, when a hook loaded it
        nodes: list[Node] = []
        where: dict[str, tuple[str | int, ...]] = {}
        producer: dict[str, str] = {}
        # Nodes with a problem of their own still take part in the graph checks with what
        # they declare (their outputs, their inputs), so a cycle through one is still found
        # and its outputs are not "produced by no node" downstream; they never run.
        ghosts: list[Node] = []
        for i, entry in enumerate(raw if isinstance(raw, list) else []):
            path: tuple[str | int, ...] = ("nodes", i)
            if not isinstance(entry, dict):
                continue
            if not self._ok(path):
                ghosts.extend(self._ghost(path, entry, i, where, producer))
                continue
            try:
                if self.imports:
                    fn = self._import(entry["func"])
                else:
                    module, attr = split_target(entry["func"])
                    check_allowed(module, self.allowed)
                    fn = _not_imported
            except ResolveError as exc:
                self.problems.append(
                    exc.problem(self.doc.problem(path + ("func",), exc.message, exc.hint))
                )
                ghosts.extend(self._ghost(path, entry, i, where, producer))
                continue
            default = getattr(fn, "__name__", None) if self.imports else attr.rpartition(".")[2]
            name = entry.get("name") or default or f"node_{i}"
            if name in where:
                line, _ = self.doc.where(where[name])
                self.add(
                    path + (("name",) if "name" in entry else ("func",)),
                    f"duplicate node name {name!r} (first used at line {line})",
                    "give each node a unique name:",
                )
                continue
            inputs, outputs = entry.get("inputs"), entry.get("outputs")
            ok = not self.imports or self._signature(path, fn, entry["func"], inputs)
            msg = self._returns(fn, outputs) if self.imports else None
            if msg:
                self.add(path + ("outputs",), msg)
                ok = False
            for key, out in _wiring(outputs):
                at = path + ("outputs",) + ((key,) if key is not None else ())
                if is_param(out):
                    self.add(at, f"{out!r} is a parameter; parameters are read-only")
                    ok = False
                elif out in producer:
                    line, _ = self.doc.where(where[producer[out]])
                    self.add(
                        at,
                        f"dataset {out!r} is already produced by node {producer[out]!r} "
                        f"(line {line})",
                        "each dataset has one producer; rename one output",
                    )
                    ok = False
            if isinstance(outputs, list) and len(set(outputs)) != len(outputs):
                self.add(path + ("outputs",), "the same dataset is listed twice in outputs")
                ok = False
            where[name] = path
            tags = entry.get("tags") or []
            node = make_node(name, fn, inputs, outputs, [tags] if isinstance(tags, str) else tags)
            for out in node.outputs:
                producer.setdefault(out, name)
            if not ok:
                ghosts.append(node)
                continue
            nodes.append(node)
        self.ghosts = ghosts
        # Inputs need a producer, a persistent catalog entry or a parameter.
        for node in nodes + ghosts:
            path = where[node.name]
            if not self._ok(path + ("inputs",)):
                continue
            for key, inp in _wiring(self.doc.get(path + ("inputs",))):
                if inp in producer or is_param(inp) or inp in self.broken_datasets:
                    continue
                cfg = catalog.get(inp)
                if cfg is not None and not self._is_memory(cfg):
                    continue
                known = list(producer) + list(catalog)
                self.add(
                    path + ("inputs",) + ((key,) if key is not None else ()),
                    f"input {inp!r} is produced by no node"
                    + (
                        " and is a memory dataset" if cfg is not None else " and not in the catalog"
                    ),
                    did_you_mean(inp, known)
                    or "declare it under catalog: with a file type, or produce it in a node",
                )
        return nodes, where

    def _returns(self, fn: Any, outputs: Any) -> str | None:
        """``_return_problem``, once per function and shape of outputs."""
        key = (fn, _shape(outputs))
        try:
            if key not in self.returns:
                self.returns[key] = _return_problem(fn, outputs)
        except TypeError:  # an unhashable callable: checked every time
            return _return_problem(fn, outputs)
        return self.returns[key]

    def _ghost(
        self,
        path: tuple[str | int, ...],
        entry: dict[str, Any],
        i: int,
        where: dict[str, tuple[str | int, ...]],
        producer: dict[str, str],
    ) -> list[Node]:
        """A node entry with a problem, as the graph checks see it: its name, and the inputs
        and outputs that passed the schema (never run: the pipeline is invalid anyway)."""
        func = entry.get("func")
        name = entry.get("name") if self._ok(path + ("name",)) else None
        if not isinstance(name, str):
            name = str(func).rpartition(":")[2].rpartition(".")[2] if func else f"node_{i}"
        if name in where:
            return []
        inputs = entry.get("inputs") if self._ok(path + ("inputs",)) else None
        outputs = entry.get("outputs") if self._ok(path + ("outputs",)) else None
        try:
            node = Node(name, _never, inputs, outputs)
        except (TypeError, AttributeError):
            return []
        where[name] = path
        for out in node.outputs:
            if isinstance(out, str):
                producer.setdefault(out, name)
        return [node]

    def _signature(self, path: tuple[str | int, ...], fn: Any, target: str, inputs: Any) -> bool:
        """Whether ``inputs`` fit ``fn``'s parameters (the answer is kept per function and
        shape of inputs; a misfit is reported at each node that has it)."""
        try:
            key = (fn, target, _shape(inputs))
            hash(key)
        except TypeError:  # an unhashable callable: checked every time
            message = _misfit(fn, target, inputs)
        else:
            if key not in self.fits:
                self.fits[key] = _misfit(fn, target, inputs)
            message = self.fits[key]
        if message is not None:
            self.add(
                path + ("inputs",),
                message,
                "list inputs in parameter order, or map parameter names to datasets",
            )
            return False
        return True


def _misfit(fn: Any, target: str, inputs: Any) -> str | None:
    """Why ``inputs`` do not fit ``fn`` (None: they fit, or its signature is unknown)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        if isinstance(inputs, dict):
            sig.bind(**dict.fromkeys(inputs))
        else:
            n = 0 if inputs is None else 1 if isinstance(inputs, str) else len(inputs)
            sig.bind(*([None] * n))
    except TypeError as exc:
        shown = (
            "no inputs"
            if not inputs
            else f"inputs {list(inputs)}"
            if isinstance(inputs, dict)
            else f"{1 if isinstance(inputs, str) else len(inputs)} positional input(s)"
        )
        return f"{shown} do not fit {target}{sig}: {exc}"
    return None


def _check_graph(
    doc: Document,
    shape: list[Problem],
    check_params: bool = True,
    allowed: list[str] | None = None,
    imports: bool = True,
    construct: bool = True,
) -> tuple[PipelineSpec, list[Problem]]:
    directory = str(doc.directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    checker = _GraphChecker(doc, shape, allowed, imports, construct)
    catalog = checker.catalog()
    nodes, where = checker.nodes(catalog)
    ordered, cycle = topological(nodes + checker.ghosts)
    if cycle:
        chain = elide(cycle, 10, " → ")
        checker.add(
            where[cycle[0]],
            f"the nodes form a cycle: {chain}",
            "a node cannot depend on its own outputs; break the loop",
        )
    params = doc.get(("params",)) or {}
    if not isinstance(params, dict):
        params = {}
    if not cycle:
        ordered = [n for n in ordered if n.func is not _never]
    spec = PipelineSpec(
        path=Path(doc.file).resolve(),
        doc=doc,
        pipeline=Pipeline(nodes if cycle else ordered),
        params=params,
        catalog_config=catalog,
        node_paths=where,
        allowed_modules=allowed,
    )
    problems = checker.problems
    if check_params:
        problems += spec.check_params(params)
    return spec, problems


def _never(*args: Any, **kwargs: Any) -> Any:
    """The function of a node that failed its checks (it never runs)."""
    raise RuntimeError("this node failed validation")


def _sorted(problems: list[Problem]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for p in sorted(problems, key=lambda p: (p.file, p.line, p.column)):
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return merge_origins(out)


def load_pipeline(
    path: PathLike,
    check_params: bool = True,
    document: tuple[Document | None, list[Problem]] | None = None,
    hooks: HookRunner | None = None,
) -> PipelineSpec:
    """Load and check a pipeline file; raise ValidationError listing every problem.

    ``document`` is ``load_document(path)``'s result when the caller has it already;
    ``hooks`` the run's hooks, whose allow-list (its manifests' and this file's) governs the
    imports (without it, the file's manifests are read for it)."""
    doc, shape = document if document is not None else load_document(path)
    if doc is None:
        raise ValidationError(shape)
    if hooks is not None:
        allowed = hooks.registry.manifest.settings.allowed_modules
    else:
        allowed = hook_manifest(doc, None, shape).settings.allowed_modules
    spec, problems = _check_graph(doc, shape, check_params, allowed)
    problems = shape + problems
    if problems:
        raise ValidationError(_sorted(problems))
    return spec


def validate_pipeline(
    path: PathLike, extra: Sequence[PathLike] | None = None, imports: bool = True
) -> tuple[int, list[Problem]]:
    """(node count, problems) for ``hookrunner validate``: schema, hooks (``extra`` manifests
    first, like ``--hooks``) and the graph. The modules the files name are imported (to check
    callables and signatures), but nothing of the project is constructed or called; with
    ``imports=False`` nothing is imported."""
    doc, shape = load_document(path)
    if doc is None:
        return 0, shape
    problems = list(shape)
    manifest = hook_manifest(doc, extra, shape)
    registry = None
    try:
        registry = build(manifest, State(), imports=imports, construct=False)
    except ValidationError as exc:
        problems += [p for p in exc.problems if p not in problems]
    allowed = manifest.settings.allowed_modules
    spec, graph = _check_graph(doc, shape, allowed=allowed, imports=imports, construct=False)
    problems += graph
    if not problems and registry is not None:  # warnings only about a pipeline that is whole
        from .applies import unmatched_when

        problems += unmatched_when(registry.manifest, spec)
    return len(spec.pipeline), _sorted(problems)
