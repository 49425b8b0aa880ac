"""The error an invalid manifest stops ``kedro run`` with.

It is hookrunner's ``ValidationError`` (``except HookrunnerError`` catches it, ``problems``
lists them) and click's ``ClickException``, so Kedro's CLI (a click app) prints it as it
prints its own errors, ``Error: ...`` with every problem at ``file:line:col``, without a
traceback, and exits 2 as click does for invalid input. Called from Python
(``session.run()`` in a notebook) it is raised like any exception.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import click

from ..kernel.errors import Problem, ValidationError, shown_path


class KedroManifestError(ValidationError, click.ClickException):
    """The project's hooks manifests are invalid (or a switch names no hook)."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem]):
        super().__init__([_shown(p) for p in problems])

    def __reduce__(self) -> tuple[type[KedroManifestError], tuple[list[Problem]]]:
        # Raised in a ParallelRunner worker, it travels to the driver pickled.
        return (type(self), (self.problems,))

    def format_message(self) -> str:
        n = len(self.problems)
        lines = [f"hookrunner: invalid hooks manifest ({n} problem{'s' if n != 1 else ''}):"]
        lines += [f"  {p}" for p in self.problems]
        lines.append(
            "Nothing ran: fix the above (`hookrunner list --kedro .` checks the manifests)."
        )
        return "\n".join(lines)


def _shown(problem: Problem) -> Problem:
    """The problem with its file relative to the current folder when it lies below it (Kedro
    runs from the project's folder: ``conf/base/hooks.yaml:4:5``); every other field, its
    severity too, as it was."""
    return dataclasses.replace(problem, file=shown_path(problem.file))
