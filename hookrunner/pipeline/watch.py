"""What ``hookrunner run --watch`` watches: a pipeline file and everything it uses."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..host.modules import forget, project_modules
from ..host.reload import watch_list
from ..kernel.document import Document
from ..kernel.errors import ValidationError
from .spec import hook_manifest, load_document, validate_pipeline


class PipelineFiles:
    """The watch target of ``hookrunner run --watch``: the pipeline file, its manifests and
    includes, and the project's modules (node functions and hooks).

    ``reload`` re-imports changed modules and checks the whole set (schema, hooks, graph); the
    caller re-runs the pipeline after each reload that did not raise.
    """

    def __init__(
        self, pipeline: str | os.PathLike[str], hooks: Iterable[str | os.PathLike[str]] = ()
    ):
        self.pipeline = Path(pipeline).resolve()
        self.hooks = [Path(h).resolve() for h in hooks]
        self._generation = 1
        self._watched: set[Path] | None = None

    @property
    def generation(self) -> int:
        return self._generation

    def _documents(self) -> list[Document]:
        doc, _ = load_document(self.pipeline)
        if doc is None:
            return []
        return hook_manifest(doc, list(self.hooks)).files  # the pipeline document is one

    def watched_files(self) -> set[Path]:
        self._watched = watch_list([self.pipeline, *self.hooks], self._documents())
        return self._watched

    def reload(self, changed: Iterable[str | os.PathLike[str]] = ()) -> None:
        # The watcher's current set (it asks for the files after every reload).
        watched = self._watched if self._watched is not None else self.watched_files()
        forget(list(changed), project_modules({str(p.parent) for p in watched}))
        _, found = validate_pipeline(self.pipeline, list(self.hooks))
        problems = [p for p in found if p.severity != "warning"]  # a run prints warnings
        if problems:
            raise ValidationError(problems)
        self._generation += 1
