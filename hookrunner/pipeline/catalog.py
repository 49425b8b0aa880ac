"""The data catalog: dataset names to datasets, with parameters as read-only entries.

Shaped like Kedro's ``DataCatalog`` (``load``, ``save``, ``exists``, ``in``, ``keys``) so hooks
written for Kedro can use it. Undeclared names become memory datasets on first save.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from .datasets import DatasetError, MemoryDataset, ParamsDataset

PARAMS_PREFIX = "params:"


def lookup_param(params: Mapping[str, Any], dotted: str) -> Any:
    """``a.b`` → ``params["a"]["b"]``; KeyError naming the first missing part."""
    node: Any = params
    walked = []
    for part in dotted.split("."):
        walked.append(part)
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(".".join(walked))
        node = node[part]
    return node


def missing_param(params: Mapping[str, Any], dotted: str) -> tuple[str, list[str]] | None:
    """None when ``a.b`` names a parameter; else the first missing dotted prefix and the
    dotted names that exist at that level (empty when the walk hit a non-mapping)."""
    node: Any = params
    walked: list[str] = []
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            prefix = ".".join(walked)
            choices = (
                [f"{prefix}.{k}" if prefix else str(k) for k in node]
                if isinstance(node, Mapping)
                else []
            )
            return ".".join([*walked, part]), choices
        walked.append(part)
        node = node[part]
    return None


def is_param(name: str) -> bool:
    return name == "parameters" or name.startswith(PARAMS_PREFIX)


class Catalog:
    """Named datasets; thread-safe for the thread runner (memory entries are created once)."""

    def __init__(
        self, datasets: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None
    ):
        self._datasets: dict[str, Any] = dict(datasets or {})
        self.params: dict[str, Any] = dict(params or {})
        self._lock = threading.Lock()

    def _dataset(self, name: str) -> Any:
        ds = self._datasets.get(name)
        if ds is not None:
            return ds
        if is_param(name):
            value = (
                self.params
                if name == "parameters"
                else lookup_param(self.params, name[len(PARAMS_PREFIX) :])
            )
            ds = ParamsDataset(value)
        else:
            ds = MemoryDataset()
        with self._lock:
            return self._datasets.setdefault(name, ds)

    def get(self, name: str) -> Any:
        """The dataset object behind ``name`` (a memory dataset if undeclared)."""
        return self._dataset(name)

    def load(self, name: str) -> Any:
        ds = self._dataset(name)
        try:
            return ds.load()
        except DatasetError as exc:
            raise DatasetError(f"loading dataset {name!r} failed: {exc}", name) from None
        except Exception as exc:
            raise DatasetError(
                f"loading dataset {name!r} ({ds!r}) failed: {type(exc).__name__}: {exc}", name
            ) from exc

    def save(self, name: str, data: Any) -> None:
        ds = self._dataset(name)
        try:
            ds.save(data)
        except DatasetError as exc:
            raise DatasetError(f"saving dataset {name!r} failed: {exc}", name) from None
        except Exception as exc:
            raise DatasetError(
                f"saving dataset {name!r} ({ds!r}) failed: {type(exc).__name__}: {exc}", name
            ) from exc

    def exists(self, name: str) -> bool:
        ds = self._datasets.get(name)
        if ds is None:
            return is_param(name)
        exists = getattr(ds, "exists", None)
        return bool(exists()) if callable(exists) else False

    def persistent(self, name: str) -> bool:
        """True when ``name`` is stored outside the process (whether it holds data or not)."""
        ds = self._datasets.get(name)
        return ds is not None and bool(getattr(ds, "persistent", True))

    def persisted(self, name: str) -> bool:
        """True when ``name`` is stored outside the process and its data exists now."""
        return self.persistent(name) and self.exists(name)

    def __contains__(self, name: object) -> bool:
        return name in self._datasets or (isinstance(name, str) and is_param(name))

    def __getitem__(self, name: str) -> Any:
        return self._dataset(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._datasets))

    def keys(self) -> list[str]:
        return list(self._datasets)

    def list(self) -> list[str]:
        return list(self._datasets)

    def __repr__(self) -> str:
        return f"Catalog({sorted(self._datasets)})"
