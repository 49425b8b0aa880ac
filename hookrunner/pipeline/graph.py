"""Nodes and the pipeline graph, shaped like Kedro's so that Kedro hooks read them unmodified.

Everything a run needs per node (argument mapping, output shape, upstream nodes) is decided
here once, when the pipeline file loads; ``Node.run`` only moves values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..host.project_metadata import kedro_version
from ..kernel.errors import HookrunnerError


class OutputShapeError(HookrunnerError, TypeError):
    """A node returned something that does not fit its declared ``outputs``."""


def readable_name(func: Any) -> str:
    """Kedro's ``_get_readable_func_name``: the function's ``__name__``, else its repr."""
    name = getattr(func, "__name__", None)
    if name is not None:
        return str(name)
    text = repr(func)
    return "<partial>" if "functools.partial" in text else text


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    if isinstance(value, list):
        return tuple(value)
    return value


class Node:
    """One step: a function, the datasets it reads and writes, and its tags.

    ``inputs`` and ``outputs`` are lists of dataset names (as in Kedro); how they map onto the
    function's parameters and return value is kept privately. The rest of Kedro's ``Node``
    API (``tag``, ``namespace_prefixes``, ``_func_name``, equality by name and wiring...) is
    here too, so hooks written against Kedro's nodes read these unmodified.
    """

    __slots__ = (
        "name",
        "func",
        "_tags",
        "inputs",
        "outputs",
        "namespace",
        "confirms",
        "_name",
        "_inputs",
        "_outputs",
        "_hash",
        "_in_keys",
        "_out_kind",
        "_out_keys",
    )

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        inputs: str | Sequence[str] | Mapping[str, str] | None,
        outputs: str | Sequence[str] | Mapping[str, str] | None,
        tags: Iterable[str] = (),
    ):
        self.name = name
        self._name = name
        self.func = func
        self._tags = frozenset([tags] if isinstance(tags, str) else tags)
        self.namespace: str | None = None
        self.confirms: list[str] = []
        # As written (Kedro keeps them for repr, equality and copies).
        self._inputs = dict(inputs) if isinstance(inputs, Mapping) else inputs
        self._outputs = dict(outputs) if isinstance(outputs, Mapping) else outputs
        self._hash: int | None = None
        self._out_keys: tuple[str, ...]
        if inputs is None:
            self.inputs: list[str] = []
            self._in_keys: tuple[str, ...] | None = None
        elif isinstance(inputs, str):
            self.inputs, self._in_keys = [inputs], None
        elif isinstance(inputs, Mapping):
            self._in_keys = tuple(inputs)
            self.inputs = [inputs[k] for k in self._in_keys]
        else:
            self.inputs, self._in_keys = list(inputs), None
        if outputs is None:
            self._out_kind, self.outputs, self._out_keys = "none", [], ()
        elif isinstance(outputs, str):
            self._out_kind, self.outputs, self._out_keys = "one", [outputs], ()
        elif isinstance(outputs, Mapping):
            self._out_keys = tuple(outputs)
            self._out_kind, self.outputs = "map", [outputs[k] for k in self._out_keys]
        else:
            self._out_kind, self.outputs, self._out_keys = "list", list(outputs), ()

    @property
    def tags(self) -> set[str]:
        """The node's tags (a new set each time, as Kedro's)."""
        return set(self._tags)

    @property
    def short_name(self) -> str:
        return self._name or self._func_name.replace("_", " ").title()

    @property
    def _func_name(self) -> str:
        return readable_name(self.func)

    @property
    def namespace_prefixes(self) -> list[str]:
        """``a.b.c`` → ``["a", "a.b", "a.b.c"]`` (empty without a namespace)."""
        if not self.namespace:
            return []
        parts = self.namespace.split(".")
        return [".".join(parts[: i + 1]) for i in range(len(parts))]

    def tag(self, tags: str | Iterable[str]) -> Node:
        """A copy of this node with ``tags`` added."""
        extra = [tags] if isinstance(tags, str) else list(tags)
        return type(self)(
            self.name, self.func, self._inputs, self._outputs, self._tags | set(extra)
        )

    def preview(self) -> Any:
        """Kedro's node previews: a pipeline file declares none."""
        return None

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        return self.run(kwargs)

    @property
    def _unique_key(self) -> tuple[Any, ...]:
        return self.name, _hashable(self._inputs), _hashable(self._outputs)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return self._unique_key == other._unique_key

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return bool(self._unique_key < other._unique_key)

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash(self._unique_key)
        return h

    def __repr__(self) -> str:
        return f"Node({self._func_name}, {self._inputs!r}, {self._outputs!r}, {self._name!r})"

    def __str__(self) -> str:
        """Kedro's form, ``name: func([a;b]) -> [c]`` (plugins hash it into node ids)."""
        ins = f"[{';'.join(self.inputs)}]" if self._inputs else "None"
        outs = f"[{';'.join(self.outputs)}]" if self._outputs else "None"
        prefix = f"{self._name}: " if self._name else ""
        return f"{prefix}{self._func_name}({ins}) -> {outs}"

    def run(self, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Call the function with ``inputs`` (by dataset name); return outputs by dataset name."""
        if inputs is None:
            inputs = {}
        if self._in_keys is None:
            result = self.func(*[inputs[n] for n in self.inputs])
        else:
            result = self.func(
                **{k: inputs[n] for k, n in zip(self._in_keys, self.inputs, strict=True)}
            )
        kind = self._out_kind
        if kind == "one":
            return {self.outputs[0]: result}
        if kind == "none":
            return {}
        if kind == "list":
            if not isinstance(result, (list, tuple)) or len(result) != len(self.outputs):
                got = (
                    f"{len(result)} values"
                    if isinstance(result, (list, tuple))
                    else type(result).__name__
                )
                raise OutputShapeError(
                    f"node {self.name!r} must return a list or tuple of {len(self.outputs)} "
                    f"values for outputs {self.outputs}, got {got}"
                )
            return dict(zip(self.outputs, result, strict=True))
        if not isinstance(result, Mapping):
            raise OutputShapeError(
                f"node {self.name!r} must return a mapping with keys {list(self._out_keys)}, "
                f"got {type(result).__name__}"
            )
        missing = [k for k in self._out_keys if k not in result]
        if missing:
            raise OutputShapeError(f"node {self.name!r} returned no value for key {missing[0]!r}")
        return {n: result[k] for k, n in zip(self._out_keys, self.outputs, strict=True)}


@dataclass
class GroupedNodes:
    """Kedro's ``GroupedNodes``: a group of node names (by namespace) and the groups it needs."""

    name: str
    type: str  # "namespace" or "nodes"
    nodes: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)


class Pipeline:
    """Nodes in a topological order (ties keep file order), with Kedro's query methods.

    Kedro's ``Pipeline`` API is here (set operations, ``filter``, ``from_inputs``,
    ``to_outputs``, ``grouped_nodes``, ``node_dependencies``, ``describe``, ``to_json``...);
    a pipeline made from others keeps the producers-first order."""

    def __init__(self, nodes: Iterable[Node]):
        self._nodes = list(nodes)
        self._by_name = {n.name: n for n in self._nodes}
        producer = {out: n.name for n in self._nodes for out in n.outputs}
        self.upstream: dict[str, tuple[str, ...]] = {}
        read: set[str] = set()
        for n in self._nodes:
            read.update(n.inputs)
            self.upstream[n.name] = tuple(
                dict.fromkeys(producer[i] for i in n.inputs if i in producer)
            )
        # Kept from here, where the nodes are at hand: a run asks for its free outputs at
        # its end, when walking every node again costs a cache miss per node.
        self._free_inputs = frozenset(read - producer.keys())
        self._free_outputs = frozenset(producer.keys() - read)
        self._datasets = frozenset(read | producer.keys())
        down: dict[str, list[str]] = {n.name: [] for n in self._nodes}
        for name, ups in self.upstream.items():
            for u in ups:
                down[u].append(name)
        self.downstream: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in down.items()}

    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self):  # noqa: ANN204 - iterator of nodes
        return iter(self._nodes)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Node:
        return self._by_name[name]

    def __repr__(self) -> str:
        return f"Pipeline({[n.name for n in self._nodes]})"

    def all_inputs(self) -> set[str]:
        return {i for n in self._nodes for i in n.inputs}

    def all_outputs(self) -> set[str]:
        return {o for n in self._nodes for o in n.outputs}

    def inputs(self) -> set[str]:
        """Datasets read but produced by no node of this pipeline (Kedro's free inputs)."""
        return set(self._free_inputs)

    def outputs(self) -> set[str]:
        """Datasets produced but read by no node of this pipeline (Kedro's free outputs)."""
        return set(self._free_outputs)

    # ------------------------------------------------------------------ selection
    def _closure(self, names: Iterable[str], edges: dict[str, tuple[str, ...]]) -> set[str]:
        seen: set[str] = set()
        stack = list(names)
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(edges[n])
        return seen

    def _subset(self, keep: set[str]) -> Pipeline:
        return Pipeline([n for n in self._nodes if n.name in keep])

    def only_nodes(self, *names: str) -> Pipeline:
        self._unknown(names, self._by_name, "nodes")
        return self._subset(set(names))

    def only_nodes_with_tags(self, *tags: str) -> Pipeline:
        wanted = set(tags)
        return self._subset({n.name for n in self._nodes if n.tags & wanted})

    def from_nodes(self, *names: str) -> Pipeline:
        """The named nodes and everything downstream of them."""
        return self._subset(self._closure(names, self.downstream))

    def to_nodes(self, *names: str) -> Pipeline:
        """The named nodes and everything upstream of them."""
        return self._subset(self._closure(names, self.upstream))

    # ------------------------------------------------------------------ Kedro's API
    @staticmethod
    def _of(nodes: Iterable[Node]) -> Pipeline:
        """A pipeline of ``nodes`` in a producers-first order."""
        ordered, _ = topological(list(dict.fromkeys(nodes)))
        return Pipeline(ordered)

    def _other(self, other: Any) -> set[Node]:
        if not isinstance(other, Pipeline):
            raise TypeError(f"expected a Pipeline, got {type(other).__name__}")
        return set(other._nodes)

    def __add__(self, other: Any) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return self._of([*self._nodes, *other._nodes])

    def __radd__(self, other: Any) -> Pipeline:
        # sum([p1, p2]) starts from 0, as Kedro allows.
        return self if other == 0 else NotImplemented

    def __sub__(self, other: Any) -> Pipeline:
        drop = self._other(other)
        return self._of(n for n in self._nodes if n not in drop)

    def __and__(self, other: Any) -> Pipeline:
        keep = self._other(other)
        return self._of(n for n in self._nodes if n in keep)

    def __or__(self, other: Any) -> Pipeline:
        self._other(other)  # the type check; the union keeps both pipelines' own order
        return self._of([*self._nodes, *other._nodes])

    def datasets(self) -> set[str]:
        return set(self._datasets)

    @property
    def node_dependencies(self) -> dict[Node, set[Node]]:
        """Each node and the nodes it reads from."""
        by_name = self._by_name
        return {n: {by_name[u] for u in self.upstream[n.name]} for n in self._nodes}

    @property
    def grouped_nodes(self) -> list[list[Node]]:
        """The nodes in dependency levels (each level sorted as Kedro sorts nodes)."""
        level: dict[str, int] = {}
        for n in self._nodes:
            level[n.name] = 1 + max((level[u] for u in self.upstream[n.name]), default=-1)
        groups: list[list[Node]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for n in self._nodes:
            groups[level[n.name]].append(n)
        return [sorted(g) for g in groups]

    def group_nodes_by(self, group_by: str | None = "namespace") -> list[GroupedNodes]:
        """Kedro's grouping of node names: by top-level namespace, or one group per node."""
        deps = self.node_dependencies
        if group_by is None or group_by.lower() == "none":
            return [
                GroupedNodes(
                    n.name, "nodes", [n.name], [p.name for p in sorted(deps[n], key=_name)]
                )
                for n in self._nodes
            ]
        if group_by.lower() != "namespace":
            raise ValueError(f"Unsupported group_by strategy: {group_by}")
        groups: dict[str, GroupedNodes] = {}
        for n in self._nodes:
            key = n.namespace.split(".")[0] if n.namespace else n.name
            group = groups.setdefault(
                key, GroupedNodes(key, "namespace" if n.namespace else "nodes")
            )
            group.nodes.append(n.name)
            for parent in sorted(deps[n], key=_name):
                pkey = parent.namespace.split(".")[0] if parent.namespace else parent.name
                if pkey != key and pkey not in group.dependencies:
                    group.dependencies.append(pkey)
        return list(groups.values())

    def _unknown(self, names: Iterable[str], known: Iterable[str], what: str) -> None:
        missing = sorted(set(names) - set(known))
        if missing:
            raise ValueError(f"Pipeline does not contain {what} named {missing}")

    def only_nodes_with_inputs(self, *inputs: str) -> Pipeline:
        self._unknown(inputs, self.datasets(), "datasets")
        wanted = set(inputs)
        return self._of(n for n in self._nodes if wanted & set(n.inputs))

    def only_nodes_with_outputs(self, *outputs: str) -> Pipeline:
        self._unknown(outputs, self.datasets(), "datasets")
        wanted = set(outputs)
        return self._of(n for n in self._nodes if wanted & set(n.outputs))

    def from_inputs(self, *inputs: str) -> Pipeline:
        """The nodes that read ``inputs``, and everything downstream of them."""
        start = self.only_nodes_with_inputs(*inputs)
        return self._subset(self._closure([n.name for n in start], self.downstream))

    def to_outputs(self, *outputs: str) -> Pipeline:
        """The nodes that write ``outputs``, and everything upstream of them."""
        start = self.only_nodes_with_outputs(*outputs)
        return self._subset(self._closure([n.name for n in start], self.upstream))

    def only_nodes_with_namespaces(self, node_namespaces: list[str]) -> Pipeline:
        unmatched = [
            ns
            for ns in node_namespaces
            if not any(
                n.namespace and (n.namespace == ns or n.namespace.startswith(f"{ns}."))
                for n in self._nodes
            )
        ]
        if unmatched:
            raise ValueError(
                f"Pipeline does not contain nodes with the following namespaces: {unmatched}"
            )
        return self._of(
            n
            for n in self._nodes
            if n.namespace
            and any(n.namespace == ns or n.namespace.startswith(f"{ns}.") for ns in node_namespaces)
        )

    def filter(
        self,
        tags: Iterable[str] | None = None,
        from_nodes: Iterable[str] | None = None,
        to_nodes: Iterable[str] | None = None,
        node_names: Iterable[str] | None = None,
        from_inputs: Iterable[str] | None = None,
        to_outputs: Iterable[str] | None = None,
        node_namespaces: Iterable[str] | None = None,
    ) -> Pipeline:
        """Kedro's ``filter``: the intersection of every selection given."""
        result: Pipeline = self
        steps: list[tuple[Iterable[str] | None, Callable[..., Pipeline]]] = [
            (tags, self.only_nodes_with_tags),
            (node_names, self.only_nodes),
            (from_nodes, self.from_nodes),
            (to_nodes, self.to_nodes),
            (from_inputs, self.from_inputs),
            (to_outputs, self.to_outputs),
        ]
        for value, select in steps:
            if value:
                result = result & select(*value)
        if node_namespaces:
            result = result & self.only_nodes_with_namespaces(list(node_namespaces))
        if not result._nodes:
            raise ValueError(
                "Pipeline contains no nodes after applying all provided filters. "
                "Please ensure that at least one pipeline with nodes has been defined."
            )
        return result

    def tag(self, tags: str | Iterable[str]) -> Pipeline:
        return Pipeline([n.tag(tags) for n in self._nodes])

    def describe(self, names_only: bool = True) -> str:
        def text(names: set[str]) -> str:
            return ", ".join(sorted(names)) if names else "None"

        listed = "\n".join(n.name if names_only else str(n) for n in self._nodes)
        return (
            "#### Pipeline execution order ####\n"
            f"Inputs: {text(self.inputs())}\n\n{listed}\n\n"
            f"Outputs: {text(self.outputs())}\n"
            "##################################"
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "kedro_version": kedro_version(),
                "pipeline": [
                    {
                        "name": n.name,
                        "inputs": list(n.inputs),
                        "outputs": list(n.outputs),
                        "tags": list(n.tags),
                    }
                    for n in self._nodes
                ],
            }
        )


def _name(node: Node) -> str:
    return node.name


def topological(nodes: Sequence[Node]) -> tuple[list[Node], list[str] | None]:
    """Nodes ordered so producers come first (stable); or the names along a cycle."""
    producer = {out: n.name for n in nodes for out in n.outputs}
    by_name = {n.name: n for n in nodes}
    ups = {n.name: [producer[i] for i in dict.fromkeys(n.inputs) if i in producer] for n in nodes}
    order: list[Node] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in (n.name for n in nodes):
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            name, i = stack.pop()
            if i == 0:
                state[name] = 1
                path.append(name)
            deps = ups[name]
            if i < len(deps):
                stack.append((name, i + 1))
                d = deps[i]
                if state.get(d) == 1:
                    return [], path[path.index(d) :] + [d]
                if not state.get(d):
                    stack.append((d, 0))
                continue
            state[name] = 2
            path.pop()
            order.append(by_name[name])
    return order, None
