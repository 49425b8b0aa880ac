"""The last valid manifest set, kept on disk for processes that load their hooks afresh.

A long-running process keeps its last good registry in memory when an edit is invalid (hot
reload). A process started once per event (the command a coding agent runs for each of its
hooks) has no memory between calls: this module records the text of every file of the last
manifest set that loaded and compiled, and builds from those texts when the files on disk
are invalid, so one bad edit does not switch every hook off.

The record also keeps each file's parsed form (data and positions) with its size and
modification time: a file that still has them is not parsed again, which is most of what
loading a small manifest costs (YAML is not even imported then).
"""

from __future__ import annotations

import json
import os
import stat
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..kernel.document import Document, load_text, read_text
from ..kernel.errors import Problem, ValidationError
from ..kernel.manifest import Loader, Manifest
from ..kernel.registry import Registry, build
from ..kernel.runtime.hook import State

PathLike = str | os.PathLike[str]
FORMAT = 1  # the record's layout; another one is ignored (and replaced at the next save)


class Loaded(NamedTuple):
    """What ``load`` found: the registry to use (None: there is none), the problems of the
    files on disk (empty when they are valid), and, when the registry is the last good set
    rather than the files on disk, when that set was saved (seconds since the epoch)."""

    registry: Registry | None
    problems: tuple[Problem, ...] = ()
    saved: float | None = None


class _File(NamedTuple):
    real: str  # the resolved path
    name: str  # the path as the loader was given it (what problems print)
    stamp: tuple[int, int]  # (st_mtime_ns, st_size) when it was read
    text: str
    parsed: str | None = None  # the parsed form as JSON (None: JSON cannot hold it exactly)
    reused: bool = False  # taken from the record: nothing to save for it


def record_path(paths: Sequence[PathLike], folder: Path) -> Path:
    """Where the record of this manifest set lives (one per set of top-level files)."""
    key = "\0".join(os.path.realpath(p) for p in paths)
    return folder / f"manifests-{zlib.crc32(key.encode()):08x}.json"  # the record names them


def load(
    paths: Sequence[PathLike],
    record: Path,
    state: State,
    environ: dict[str, str] | None = None,
) -> Loaded:
    """Load and compile ``paths``; when they are invalid, the last good set recorded at
    ``record``."""
    saved = _read(record)
    known = {f["real"]: f for f in saved["files"]} if saved else {}
    loader = _Loader(environ, known, pinned=False)
    manifest = _collect(loader, paths)
    try:
        if manifest.problems:
            raise ValidationError(manifest.problems)
        registry = build(manifest, state)
    except ValidationError as exc:
        return _fallback(paths, saved, state, environ, exc.problems)
    if not all(f.reused for f in loader.read) or _names(saved) != [f.real for f in loader.read]:
        _save(record, paths, loader.read)
    return Loaded(registry)


def _fallback(
    paths: Sequence[PathLike],
    saved: dict[str, Any] | None,
    state: State,
    environ: dict[str, str] | None,
    problems: list[Problem],
) -> Loaded:
    """The recorded set, whatever the disk says now (None when there is none, or when it no
    longer compiles either: a hook module it imports changed)."""
    if saved is None or saved["paths"] != [os.path.realpath(p) for p in paths]:
        return Loaded(None, tuple(problems))
    loader = _Loader(environ, {f["real"]: f for f in saved["files"]}, pinned=True)
    manifest = _collect(loader, paths)
    try:
        if manifest.problems:
            raise ValidationError(manifest.problems)
        registry = build(manifest, state)
    except ValidationError:
        return Loaded(None, tuple(problems))
    return Loaded(registry, tuple(problems), float(saved["saved"]))


def _collect(loader: _Loader, paths: Sequence[PathLike]) -> Manifest:
    from ..kernel.document import bulk

    with bulk():
        for p in paths:
            loader.add_file(p)
        loader.add_plugins()
    return loader.result()


class _Loader(Loader):
    """Reads each file once, keeping its text; a file recorded with the same size and
    modification time (or any recorded file, when ``pinned``) is taken from the record."""

    def __init__(self, environ: dict[str, str] | None, known: dict[str, Any], pinned: bool):
        super().__init__(environ)
        self.known = known
        self.pinned = pinned
        self.read: list[_File] = []

    def add_file(
        self,
        path: PathLike,
        stack: tuple[str, ...] = (),
        origin: tuple[Document, tuple[str | int, ...], str] | None = None,
    ) -> None:
        real = os.path.realpath(path)  # never raises, symlink loops included
        name = str(path)
        rec = self.known.get(real)
        if self.pinned and rec is not None:
            self._add(_File(real, name, tuple(rec["stamp"]), rec["text"], rec["parsed"]), stack)
            return
        try:
            st = os.stat(real)
        except OSError:
            super().add_file(path, stack, origin)  # the loader says what is wrong
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if (
            rec is not None
            and tuple(rec["stamp"]) == stamp
            and rec["name"] == name
            and stat.S_ISREG(st.st_mode)
        ):
            self._add(_File(real, name, stamp, rec["text"], rec["parsed"], True), stack)
            return
        try:
            text = read_text(real)  # regular files only, the size cap enforced while reading
        except ValidationError:
            super().add_file(path, stack, origin)  # read it again to report it as the loader does
            return
        self._add(_File(real, name, stamp, text, _parsed(text, name)), stack)

    def _add(self, file: _File, stack: tuple[str, ...]) -> None:
        if file.parsed is not None:
            doc = _document(file.name, json.loads(file.parsed))
        else:
            try:
                doc = load_text(file.text, file.name)
            except ValidationError as exc:
                self.m.problems.extend(exc.problems)
                return
        self.read.append(file)
        self.add_document(doc, stack + (file.real,))


# --------------------------------------------------------------------------- the record


def _read(record: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def _names(saved: dict[str, Any] | None) -> list[str]:
    return [f["real"] for f in saved["files"]] if saved else []


def _save(record: Path, paths: Sequence[PathLike], files: list[_File]) -> None:
    """Write the record atomically (a crash or a concurrent writer never leaves half of one);
    failing to write it only costs the next process its shortcut."""
    data = {
        "format": FORMAT,
        "saved": time.time(),
        "paths": [os.path.realpath(p) for p in paths],
        "files": [
            {
                "real": f.real,
                "name": f.name,
                "stamp": list(f.stamp),
                "text": f.text,
                "parsed": f.parsed,
            }
            for f in files
        ],
    }
    tmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, record)
    except OSError:
        tmp.unlink(missing_ok=True)


def _parsed(text: str, name: str) -> str | None:
    """A document's data and positions as JSON text, or None when the text does not parse
    or JSON cannot give them back exactly (YAML dates, integer keys, NaN...): that file is
    then parsed each time."""
    try:
        doc = load_text(text, name)
    except ValidationError:
        return None
    doc.locate()  # every position, not only the ones a first load records
    parsed = {
        "data": doc.data,
        "positions": [[list(p), *at] for p, at in doc.positions.items()],
        "key_positions": [[list(p), *at] for p, at in doc.key_positions.items()],
    }
    try:
        encoded = json.dumps(parsed, allow_nan=False)
    except (TypeError, ValueError):
        return None
    back = _document(name, json.loads(encoded))
    if back.data != doc.data or back.positions != doc.positions:
        return None
    return encoded


def _document(name: str, parsed: dict[str, Any]) -> Document:
    return Document(
        file=name,
        data=parsed["data"],
        positions={tuple(p): (line, col) for p, line, col in parsed["positions"]},
        key_positions={tuple(p): (line, col) for p, line, col in parsed["key_positions"]},
    )
