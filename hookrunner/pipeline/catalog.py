"""The data catalog: dataset names to datasets, with parameters as read-only entries.

Shaped like Kedro 1.x's ``DataCatalog`` (``load``, ``save``, ``exists``, ``in``, ``keys``,
``items``, ``catalog[name] = dataset``, ``get``, ``get_type``, ``filter``, ``_datasets``...) so
hooks written for Kedro can use it. Undeclared names become memory datasets on first save;
the parameters are entries as Kedro adds them (``parameters``, ``params:a``, ``params:a.b``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..kernel.errors import MESSAGE_MAX, quoted, raised, shorten, text_of
from .datasets import DatasetError, MemoryDataset, ParamsDataset, make_dataset

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


def flat_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Kedro's parameter entries: ``parameters`` (all of them), then ``params:NAME`` for
    each parameter and, depth first, every nested key (``params:a.b``)."""
    out: dict[str, Any] = {"parameters": params}

    def add(name: str, value: Any) -> None:
        out[f"{PARAMS_PREFIX}{name}"] = value
        if isinstance(value, Mapping):
            for key, inner in value.items():
                add(f"{name}.{key}", inner)

    for key, value in params.items():
        add(str(key), value)
    return out


def _is_dataset(value: Any) -> bool:
    return callable(getattr(value, "load", None)) and callable(getattr(value, "save", None))


class Catalog:
    """Named datasets; thread-safe for the thread runner (memory entries are created once)."""

    def __init__(
        self, datasets: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None
    ):
        self._datasets: dict[str, Any] = dict(datasets or {})
        self.params: dict[str, Any] = dict(params or {})
        for name, value in flat_parameters(self.params).items():
            self._datasets.setdefault(name, ParamsDataset(value))
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

    def dataset(self, name: str) -> Any:
        """The dataset object behind ``name`` (a memory dataset if undeclared)."""
        return self._dataset(name)

    def materialize(self, names: Iterable[str]) -> None:
        """Register each name (a memory dataset when undeclared), once, before a run."""
        missing = set(names).difference(self._datasets)
        params = [n for n in missing if is_param(n)]
        with self._lock:
            for name in missing.difference(params):
                self._datasets.setdefault(name, MemoryDataset())
        for name in params:
            self._dataset(name)

    def get(self, key: str, fallback_to_runtime_pattern: bool = False, version: Any = None) -> Any:
        """Kedro's ``get``: the dataset registered as ``key``, else None (or, with
        ``fallback_to_runtime_pattern``, a new memory dataset, Kedro's default pattern)."""
        if key not in self and not fallback_to_runtime_pattern:
            return None
        return self._dataset(key)

    def get_type(self, ds_name: str) -> str | None:
        """The dataset's class as ``module.Qualname`` (None when not registered)."""
        if ds_name not in self:
            return None
        cls = type(self._dataset(ds_name))
        return f"{cls.__module__}.{cls.__qualname__}"

    def load(self, ds_name: str, version: str | None = None) -> Any:
        if version is not None:
            raise DatasetError(f"loading dataset {ds_name!r}: versioned datasets are not supported")
        ds = self._dataset(ds_name)
        try:
            return ds.load()
        except DatasetError as exc:
            raise DatasetError(
                f"loading dataset {ds_name!r} failed: {shorten(text_of(exc), MESSAGE_MAX)}", ds_name
            ) from None
        except Exception as exc:
            raise DatasetError(
                f"loading dataset {ds_name!r} ({quoted(ds, 100)}) failed: {raised(exc)}", ds_name
            ) from exc

    def save(self, ds_name: str, data: Any) -> None:
        ds = self._dataset(ds_name)
        try:
            ds.save(data)
        except DatasetError as exc:
            raise DatasetError(
                f"saving dataset {ds_name!r} failed: {shorten(text_of(exc), MESSAGE_MAX)}", ds_name
            ) from None
        except Exception as exc:
            raise DatasetError(
                f"saving dataset {ds_name!r} ({quoted(ds, 100)}) failed: {raised(exc)}", ds_name
            ) from exc

    def exists(self, ds_name: str) -> bool:
        ds = self._datasets.get(ds_name)
        if ds is None:
            return is_param(ds_name)
        exists = getattr(ds, "exists", None)
        return bool(exists()) if callable(exists) else False

    def persistent(self, name: str) -> bool:
        """True when ``name`` is stored outside the process (whether it holds data or not)."""
        ds = self._datasets.get(name)
        return ds is not None and bool(getattr(ds, "persistent", True))

    def persisted(self, name: str) -> bool:
        """True when ``name`` is stored outside the process and its data exists now."""
        return self.persistent(name) and self.exists(name)

    def __contains__(self, dataset_name: object) -> bool:
        return dataset_name in self._datasets or (
            isinstance(dataset_name, str) and is_param(dataset_name)
        )

    def __getitem__(self, ds_name: str) -> Any:
        return self._dataset(ds_name)

    def __setitem__(self, key: str, value: Any) -> None:
        """Register a dataset (anything with ``load`` and ``save``), or raw data as a memory
        dataset, replacing what ``key`` named (Kedro's ``catalog[name] = ...``)."""
        with self._lock:
            self._datasets[key] = value if _is_dataset(value) else MemoryDataset(value)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._datasets))

    def __len__(self) -> int:
        return len(self._datasets)

    def keys(self) -> list[str]:
        return list(self._datasets)

    def values(self) -> list[Any]:
        return list(self._datasets.values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._datasets.items())

    def filter(
        self,
        name_regex: re.Pattern[str] | str | None = None,
        type_regex: re.Pattern[str] | str | None = None,
        by_type: type | list[type] | None = None,
    ) -> list[str]:
        """Dataset names matching every filter given (as Kedro's ``filter``)."""
        names = self.keys()
        if name_regex:
            names = [n for n in names if re.search(name_regex, n)]
        if type_regex:
            names = [n for n in names if re.search(type_regex, self.get_type(n) or "")]
        if by_type:
            types = tuple(by_type) if isinstance(by_type, list) else (by_type,)
            names = [n for n in names if isinstance(self._datasets[n], types)]
        return names

    def release(self, ds_name: str) -> None:
        release = getattr(self._dataset(ds_name), "release", None)
        if callable(release):
            release()

    def confirm(self, ds_name: str) -> None:
        confirm = getattr(self._dataset(ds_name), "confirm", None)
        if not callable(confirm):
            raise DatasetError(f"Dataset '{ds_name}' does not have 'confirm' method")
        confirm()

    # Kedro's dataset factories and validation: a pipeline file has neither.
    default_runtime_patterns: dict[str, dict[str, Any]] = {
        "{default}": {"type": "hookrunner.pipeline.datasets.MemoryDataset"}
    }

    @property
    def config_resolver(self) -> None:
        return None

    @property
    def validator_specs(self) -> dict[str, Any]:
        return {}

    @property
    def validators(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(
        cls,
        catalog: dict[str, dict[str, Any]] | None,
        credentials: dict[str, dict[str, Any]] | None = None,
        load_versions: dict[str, str] | None = None,
        save_version: str | None = None,
        validation_enabled: bool = True,
    ) -> Catalog:
        """A catalog from pipeline-file entries (relative paths against the working folder)."""
        from pathlib import Path

        base = Path.cwd()
        return cls({name: make_dataset(cfg, base) for name, cfg in (catalog or {}).items()})

    def to_config(
        self,
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, str | None], None]:
        """(entries of the datasets stored outside the process, credentials, load versions,
        save version), in Kedro's shape."""
        config: dict[str, dict[str, Any]] = {}
        for name, ds in self._datasets.items():
            type_name = getattr(ds, "type_name", "")
            if type_name and isinstance(getattr(ds, "path", None), str):
                config[name] = {"type": type_name, "path": ds.path}
        return config, {}, {}, None

    def __repr__(self) -> str:
        return f"Catalog({sorted(self._datasets)})"

    def list(self) -> list[str]:  # Kedro before 1.0 (kedro-telemetry still falls back to it)
        return [*self._datasets]
