"""Nodes and the pipeline graph, shaped like Kedro's so that Kedro hooks read them unmodified.

Everything a run needs per node (argument mapping, output shape, upstream nodes) is decided
here once, when the pipeline file loads; ``Node.run`` only moves values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..kernel.errors import HookrunnerError


class OutputShapeError(HookrunnerError, TypeError):
    """A node returned something that does not fit its declared ``outputs``."""


class Node:
    """One step: a function, the datasets it reads and writes, and its tags.

    ``inputs`` and ``outputs`` are lists of dataset names (as in Kedro); how they map onto the
    function's parameters and return value is kept privately.
    """

    __slots__ = (
        "name",
        "func",
        "tags",
        "inputs",
        "outputs",
        "namespace",
        "confirms",
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
        self.func = func
        self.tags = frozenset(tags)
        self.namespace = None
        self.confirms: tuple[str, ...] = ()
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
    def short_name(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.inputs!r} -> {self.outputs!r})"

    def __str__(self) -> str:
        return f"{self.name}: {getattr(self.func, '__name__', self.func)}({', '.join(self.inputs)}) -> [{', '.join(self.outputs)}]"

    def run(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Call the function with ``inputs`` (by dataset name); return outputs by dataset name."""
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


class Pipeline:
    """Nodes in a topological order (ties keep file order), with Kedro's query methods."""

    def __init__(self, nodes: Sequence[Node]):
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
