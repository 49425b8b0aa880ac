"""Objects sent to another process with the environment's values as ``${env:NAME}`` text.

A distributed run pickles what its tasks need (parameters, configured datasets, nodes) and
what a worker reports back (hook calls, errors, event arguments). ``seal`` pickles an object
and writes every string that holds a secret (``kernel.secrets``) as the variable it came from,
in the form it had there (as is, repr, JSON, URL-encoded); ``unseal`` rebuilds the object in
the receiving process from *that* process's environment, and registers the values there so
the receiver masks them too. A piece of a value (a module cut out of a dotted path) cannot be
rebuilt from its variable: it travels masked. With no secret registered ``seal`` returns the
object itself, so a run without secrets pays nothing.
"""

from __future__ import annotations

import io
import os
import pickle
from typing import Any

from ..kernel import secrets
from ..kernel.errors import HookrunnerError

_TAG = "hookrunner.env"


class Sealed:
    """A pickled object whose secrets are variable names; opaque in reprs and logs."""

    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data

    def __repr__(self) -> str:
        return f"<sealed: {len(self.data)} bytes>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Sealed, (self.data,))


class EnvUnset(HookrunnerError):
    """A sealed value names a variable this process's environment does not set."""


_SEALER: type[pickle.Pickler] | None = None


def _pickler() -> type[pickle.Pickler]:
    global _SEALER
    if _SEALER is None:
        _SEALER = _make_pickler()
    return _SEALER


def _make_pickler() -> type[pickle.Pickler]:
    base: Any
    try:  # what Dask itself pickles with: closures and classes defined in __main__ too
        from cloudpickle import Pickler  # type: ignore[import-untyped]

        base = Pickler
    except ImportError:  # pragma: no cover - cloudpickle comes with dask.distributed
        base = pickle.Pickler

    class _Sealer(base):
        def persistent_id(self, obj: Any) -> Any:
            if type(obj) is not str or not secrets.holds(obj):
                return None
            parts: list[Any] = []
            for part in secrets.split(obj):
                if isinstance(part, str):
                    parts.append(part)
                elif part.piece:
                    parts.append(secrets.MASK)
                else:
                    parts.append((part.name, part.encoding))
            return (_TAG, tuple(parts))

    return _Sealer


class _Opener(pickle.Unpickler):
    def __init__(self, data: bytes, missing: str):
        super().__init__(io.BytesIO(data))
        self.missing = missing

    def persistent_load(self, pid: Any) -> Any:
        tag, parts = pid
        if tag != _TAG:
            raise pickle.UnpicklingError(f"unknown persistent id {tag!r}")
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            name, encoding = part
            value = os.environ.get(name)
            if value is None:
                if self.missing == "mask":
                    out.append(secrets.MASK)
                    continue
                raise EnvUnset(
                    f"environment variable {name!r} is not set in this process (a value of "
                    "the run comes from it); set it on every worker"
                )
            secrets.register(value, name)
            out.append(secrets.encode(value, tuple(encoding)))
        return "".join(out)


def seal(obj: Any) -> Any:
    """``obj`` ready to travel: a ``Sealed`` when secrets are registered, else ``obj``."""
    if not secrets.known():
        return obj
    buffer = io.BytesIO()
    _pickler()(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return Sealed(buffer.getvalue())


def unseal(obj: Any, missing: str = "raise") -> Any:
    """The object ``seal`` made, rebuilt from this process's environment (``missing="mask"``:
    a variable this process lacks reads as ``<from env>`` instead of raising ``EnvUnset``)."""
    if not isinstance(obj, Sealed):
        return obj
    return _Opener(obj.data, missing).load()
