"""Dataset types: memory plus stdlib file formats, and any class with ``load()``/``save(data)``.

File datasets hold a URI and do all their I/O through ``hookrunner.storage`` as whole byte
strings: local writes are atomic (temp file + rename), and ``s3://`` URIs go to the AWS
helper without any dataset knowing about S3.
"""

from __future__ import annotations

import copy
import csv
import inspect
import io
import json
import pickle
from collections.abc import Sequence
from typing import Any, ClassVar

import yaml

from ..kernel.errors import HookrunnerError, ResolveError, did_you_mean
from ..kernel.resolve import import_target
from ..services import storage


class DatasetError(HookrunnerError):
    """Loading or saving a dataset failed; the message names the dataset and its URI, and
    ``dataset`` its catalog name where the catalog raised it."""

    def __init__(self, message: str, dataset: str | None = None):
        super().__init__(message)
        self.dataset = dataset


class Dataset:
    """The protocol every dataset follows (custom classes need only load and save)."""

    def load(self) -> Any:
        raise NotImplementedError

    def save(self, data: Any) -> None:
        raise NotImplementedError

    def exists(self) -> bool:
        return False

    @property
    def persistent(self) -> bool:
        """True when saved data outlives the process (so ``--resume`` may skip its producer)."""
        return False


class MemoryDataset(Dataset):
    """Keeps the value in the process; loading something never saved is an error."""

    _EMPTY: ClassVar[object] = object()

    def __init__(self, data: Any = _EMPTY):
        self._data = data

    def load(self) -> Any:
        if self._data is MemoryDataset._EMPTY:
            raise DatasetError("no data has been saved to it yet")
        return self._data

    def save(self, data: Any) -> None:
        self._data = data

    def exists(self) -> bool:
        return self._data is not MemoryDataset._EMPTY

    def __repr__(self) -> str:
        return "MemoryDataset()"


class FileDataset(Dataset):
    """A whole-file dataset at a local path or an ``s3://`` URI."""

    type_name: ClassVar[str] = ""

    def __init__(self, path: str):
        self.path = path

    @property
    def persistent(self) -> bool:
        return True

    def exists(self) -> bool:
        return storage.exists(self.path)

    def load(self) -> Any:
        try:
            raw = storage.read_bytes(self.path)
        except FileNotFoundError:
            raise DatasetError(f"{self.path} does not exist") from None
        return self.decode(raw)

    def save(self, data: Any) -> None:
        # Encode fully before touching the target: a failing encoder leaves the old file.
        storage.write_bytes(self.path, self.encode(data))

    def decode(self, raw: bytes) -> Any:
        raise NotImplementedError

    def encode(self, data: Any) -> bytes:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"


class JSONDataset(FileDataset):
    type_name = "json"

    def __init__(self, path: str, indent: int | None = 2):
        super().__init__(path)
        self.indent = indent

    def decode(self, raw: bytes) -> Any:
        return json.loads(raw)

    def encode(self, data: Any) -> bytes:
        # What JSON cannot hold is refused, as Kedro's JSONDataset does (json.dump raises):
        # writing str(value) instead would not load back as what was saved.
        try:
            text = json.dumps(data, indent=self.indent, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DatasetError(_not_json(data, "data") or f"not JSON: {exc}") from None
        return (text + "\n").encode()


# How to turn a value JSON cannot hold into one it can, by type name.
_JSON_FIXES = {
    "set": "list(...) or sorted(...)",
    "frozenset": "list(...) or sorted(...)",
    "datetime": "value.isoformat()",
    "date": "value.isoformat()",
    "time": "value.isoformat()",
    "Decimal": "float(...) or str(...)",
    "bytes": "value.decode() or base64",
    "Path": "str(...)",
}


def _not_json(value: Any, at: str) -> str | None:
    """Where in ``value`` the first thing JSON cannot hold sits, and how to fix it."""
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"{at} is {value!r}: JSON has no NaN or Infinity (use None, or a string)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return (
                    f"{at} has a key of type {type(key).__name__} ({key!r}): JSON keys are strings"
                )
            found = _not_json(item, f"{at}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _not_json(item, f"{at}[{i}]")
            if found:
                return found
        return None
    kind = type(value).__name__
    fix = _JSON_FIXES.get(kind, "a mapping, list, string, number, boolean or None")
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return (
        f"{at} is {article} {kind} ({value!r:.60}), which JSON cannot hold: convert it first "
        f"({fix}), or save it to a pickle dataset"
    )


class YAMLDataset(FileDataset):
    type_name = "yaml"

    def decode(self, raw: bytes) -> Any:
        return yaml.safe_load(raw)

    def encode(self, data: Any) -> bytes:
        return yaml.safe_dump(data, sort_keys=False).encode()


class TextDataset(FileDataset):
    type_name = "text"

    def __init__(self, path: str, encoding: str = "utf-8"):
        super().__init__(path)
        self.encoding = encoding

    def decode(self, raw: bytes) -> Any:
        return raw.decode(self.encoding)

    def encode(self, data: Any) -> bytes:
        return str(data).encode(self.encoding)


class PickleDataset(FileDataset):
    """Python objects; only load pickles you wrote yourself (pickle runs code on load)."""

    type_name = "pickle"

    def decode(self, raw: bytes) -> Any:
        return pickle.loads(raw)  # noqa: S301 - the user's own artefacts

    def encode(self, data: Any) -> bytes:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


class CSVDataset(FileDataset):
    """A list of dicts, one per row, keyed by the header row (values stay strings)."""

    type_name = "csv"

    def __init__(self, path: str, delimiter: str = ","):
        super().__init__(path)
        self.delimiter = delimiter

    def decode(self, raw: bytes) -> Any:
        return list(csv.DictReader(io.StringIO(raw.decode("utf-8")), delimiter=self.delimiter))

    def encode(self, data: Any) -> bytes:
        rows = list(data)
        if rows and not all(isinstance(r, dict) for r in rows):
            raise DatasetError("csv datasets save a list of dicts (one per row)")
        fields: dict[str, None] = {}
        for r in rows:
            fields.update(dict.fromkeys(r))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(fields), delimiter=self.delimiter)
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()


BUILTIN_TYPES: dict[str, type[Dataset]] = {
    "memory": MemoryDataset,
    "json": JSONDataset,
    "yaml": YAMLDataset,
    "text": TextDataset,
    "pickle": PickleDataset,
    "csv": CSVDataset,
}


class DatasetConfigError(HookrunnerError):
    """A catalog entry cannot become a dataset; ``key`` is the entry key at fault."""

    def __init__(self, key: str | None, message: str, hint: str | None = None):
        super().__init__(message)
        self.key, self.message, self.hint = key, message, hint


def dataset_class(type_name: str, allowed: Sequence[str] | None = None) -> type[Any]:
    """A built-in type name or a dotted path to a class with ``load`` and ``save`` (its
    module imported only inside ``allowed``, the run's ``settings.allowed_modules``)."""
    if type_name in BUILTIN_TYPES:
        return BUILTIN_TYPES[type_name]
    if ":" not in type_name and "." not in type_name:
        raise DatasetConfigError(
            "type",
            f"unknown dataset type {type_name!r}",
            did_you_mean(type_name, BUILTIN_TYPES)
            or f"built-in types: {', '.join(BUILTIN_TYPES)}; or a class as 'pkg.mod:Class'",
        )
    try:
        cls = import_target(type_name, allowed)
    except ResolveError as exc:
        raise DatasetConfigError("type", exc.message, exc.hint) from None
    if not inspect.isclass(cls):
        raise DatasetConfigError("type", f"{type_name!r} is not a class")
    missing = [m for m in ("load", "save") if not callable(getattr(cls, m, None))]
    if missing:
        raise DatasetConfigError(
            "type", f"{cls.__name__} has no {missing[0]}() method", "a dataset needs load and save"
        )
    return cls


def make_dataset(
    config: dict[str, Any],
    base: Any,
    allowed: Sequence[str] | None = None,
    construct: bool = True,
) -> Any:
    """Build one dataset from its catalog entry; relative paths resolve against ``base``.

    With ``construct=False`` (validate) a class of the project is checked, not called: the
    options against its constructor's signature, and None is returned."""
    cfg = dict(config)
    cls = dataset_class(str(cfg.pop("type", "memory")), allowed)
    if isinstance(cfg.get("path"), str):
        cfg["path"] = storage.resolve(cfg["path"], base)
    if cls is MemoryDataset:
        if cfg:
            raise DatasetConfigError(
                next(iter(cfg)), f"memory datasets take no options, got {next(iter(cfg))!r}"
            )
        return MemoryDataset()
    if issubclass(cls, FileDataset) and "path" not in cfg:
        raise DatasetConfigError(None, f"a {cls.type_name} dataset needs a 'path'")
    try:
        sig = inspect.signature(cls)
        sig.bind(**cfg)
    except TypeError as exc:
        params = [p for p in sig.parameters if p != "self"]
        bad = next((k for k in cfg if k not in sig.parameters), None)
        raise DatasetConfigError(
            bad,
            f"{cls.__name__} does not accept these options: {exc}",
            (did_you_mean(bad, params) if bad else None)
            or f"accepted: {', '.join(params) or 'none'}",
        ) from None
    except ValueError:  # a signature that cannot be read: let the constructor decide
        pass
    if not construct and cls not in BUILTIN_TYPES.values():
        return None
    try:
        return cls(**cfg)
    except Exception as exc:
        raise DatasetConfigError(None, f"creating {cls.__name__} failed: {exc}") from None


class ParamsDataset(Dataset):
    """Read-only view of a parameter (``params:a.b``) or of all of them (``parameters``)."""

    def __init__(self, value: Any):
        self._value = value

    def load(self) -> Any:
        # Nodes get their own copy: a node mutating params must not leak into other nodes.
        return copy.deepcopy(self._value)

    def save(self, data: Any) -> None:
        raise DatasetError("parameters are read-only")

    def exists(self) -> bool:
        return True
