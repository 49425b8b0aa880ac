"""A pipeline node that is also an instance of Kedro's ``kedro.pipeline.node.Node``.

Plugins check ``isinstance(node, Node)`` against Kedro's class (kedro-viz hashes a node's
``str()`` into its id only then). This module imports Kedro, so it is imported only when
Kedro's node module is already loaded (``kedro_api.node_type``). The node behaves as
hookrunner's ``Node`` (which has Kedro's API itself); the private attributes Kedro's own
methods read are set too, for plugins that call those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kedro.pipeline.node import Node as _KedroNodeBase

from .graph import Node


class KedroNode(Node, _KedroNodeBase):  # type: ignore[misc]
    """hookrunner's node, registered as a Kedro ``Node`` (hookrunner's methods come first)."""

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        inputs: str | Sequence[str] | Mapping[str, str] | None,
        outputs: str | Sequence[str] | Mapping[str, str] | None,
        tags: Iterable[str] = (),
    ):
        Node.__init__(self, name, func, inputs, outputs, tags)
        self.__dict__.update(_func=func, _namespace=None, _confirms=None, _preview_fn=None)
