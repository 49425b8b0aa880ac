"""``--help`` that reads like a man page: an option shows the kind of value it takes (``PATH``,
``N``, ``TEXT``, or its own metavar), a flag shows nothing, instead of Python type names
such as ``<list[Path]>``. Every command is made with ``Command``."""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperOption

# Python type names (as typer reports them: ``<list[Path]>``), as a value is told to a user.
_LABELS = {"path": "PATH", "str": "TEXT", "int": "N", "float": "NUMBER"}


class _ReadableOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None
        if self.metavar:
            return self.metavar
        shown = str(super().display_type_rich(ctx) or "").strip("<>")
        if shown.startswith("list[") and shown.endswith("]"):
            shown = shown[5:-1]  # repeatable: its help says so
        if shown == "bool":
            return None
        return _LABELS.get(shown.lower(), shown.upper() or None)


class _ReadableArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # its name says it, in capitals (the usage line shows it too)


class Command(TyperCommand):
    """A typer command whose help shows values by kind (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _readable(param)

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # --help is added here
        for param in params:
            _readable(param)
        return params


def _readable(param: Any) -> None:
    if type(param) is TyperOption:
        param.__class__ = _ReadableOption
    elif type(param) is TyperArgument:
        param.__class__ = _ReadableArgument
        if param.metavar is None and param.name:
            param.metavar = param.name.upper()
