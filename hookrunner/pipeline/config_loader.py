"""``context.config_loader``: the project's ``conf/`` folder as Kedro reads it.

With Kedro installed this is Kedro's own ``OmegaConfigLoader`` (``base_env="base"``,
``default_run_env="local"``, as a Kedro project's settings have it), so plugins that add
config patterns (kedro-mlflow's ``mlflow*``), register resolvers (kedro-boot) or read
``config_loader["parameters"]`` get exactly what ``kedro run`` gives them. Without Kedro,
``ConfigLoader`` below reads the same files with the same patterns: YAML/JSON files matching
a key's globs in ``conf/base`` then ``conf/<env>`` (``local`` by default), the environment's
top-level keys replacing base's (Kedro's default ``destructive`` merge; ``soft`` merges
mappings), ``MissingConfigException`` when a folder is missing or a key has no patterns
(as ``KeyError``, like Kedro's). It has no OmegaConf interpolation.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from ..kernel.errors import HookrunnerError

BASE_ENV = "base"
DEFAULT_RUN_ENV = "local"
PATTERNS: dict[str, list[str]] = {
    "catalog": ["catalog*", "catalog*/**", "**/catalog*"],
    "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    "credentials": ["credentials*", "credentials*/**", "**/credentials*"],
    "globals": ["globals.yml"],
}
SUFFIXES = (".yml", ".yaml", ".json")


class MissingConfigException(HookrunnerError, KeyError):
    """No configuration for a key (Kedro's ``kedro.config.MissingConfigException``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigLoader:
    """Kedro's config loader interface over ``conf_source`` (used when Kedro is not installed)."""

    def __init__(
        self,
        conf_source: str | os.PathLike[str],
        env: str | None = None,
        runtime_params: dict[str, Any] | None = None,
        *,
        config_patterns: dict[str, list[str]] | None = None,
        base_env: str | None = BASE_ENV,
        default_run_env: str | None = DEFAULT_RUN_ENV,
        custom_resolvers: dict[str, Callable[..., Any]] | None = None,
        merge_strategy: dict[str, str] | None = None,
    ):
        self.conf_source = str(conf_source)
        self.env = env
        self.runtime_params = runtime_params or {}
        self.base_env = base_env or ""
        self.default_run_env = default_run_env or ""
        self.merge_strategy = merge_strategy or {}
        self.config_patterns = copy.deepcopy(PATTERNS)
        self.config_patterns.update(config_patterns or {})
        self._resolvers: dict[str, Callable[..., Any]] = dict(custom_resolvers or {})
        self._set: dict[str, Any] = {}

    def _register_new_resolvers(self, resolvers: dict[str, Callable[..., Any]]) -> None:
        """Kept for plugins that register OmegaConf resolvers (this loader does not resolve)."""
        self._resolvers.update(resolvers)

    def _read(self, folder: Path, patterns: list[str]) -> tuple[dict[str, Any], int]:
        if not folder.is_dir():
            raise MissingConfigException(
                f"Given configuration path either does not exist or is not a valid "
                f"directory: {folder}"
            )
        matchers = [_glob(p) for p in patterns]
        files: list[Path] = []
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            hidden = any(part.startswith(".") for part in rel.split("/"))
            if (
                path.is_file()
                and path.suffix in SUFFIXES
                and not hidden
                and any(m.fullmatch(rel) for m in matchers)
            ):
                files.append(path)
        merged: dict[str, Any] = {}
        for path in files:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            if isinstance(data, dict):
                merged.update(data)
        return merged, len(files)

    def __getitem__(self, key: str) -> dict[str, Any]:
        if key in self._set:
            return copy.deepcopy(self._set[key])
        patterns = self.config_patterns.get(key)
        if not patterns:
            raise KeyError(f"No config patterns were found for '{key}' in your config loader")
        root = Path(self.conf_source)
        base, n_base = self._read(root / self.base_env, patterns) if self.base_env else ({}, 0)
        run_env = self.env or self.default_run_env
        env, n_env = self._read(root / run_env, patterns) if run_env else ({}, 0)
        if self.merge_strategy.get(key) == "soft":
            merged = _deep_merge(base, env)
        else:
            merged = {**base, **env}
        if key == "parameters" and self.runtime_params:
            merged = _deep_merge(merged, self.runtime_params)
        if not n_base + n_env and key != "globals":
            raise MissingConfigException(
                f"No files of YAML or JSON format found in {root / self.base_env} or "
                f"{root / run_env} matching the glob pattern(s): {patterns}"
            )
        return merged

    def __setitem__(self, key: str, value: Any) -> None:
        self._set[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[str]:
        return list(dict.fromkeys([*self.config_patterns, *self._set]))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __repr__(self) -> str:
        return (
            f"ConfigLoader(conf_source={self.conf_source!r}, env={self.env!r}, "
            f"config_patterns={self.config_patterns!r})"
        )


def _glob(pattern: str) -> re.Pattern[str]:
    """A glob as fsspec (Kedro's) reads it: ``**`` crosses folders (also none), ``*`` not."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def missing_config_types() -> tuple[type[BaseException], ...]:
    """The exceptions meaning "no such configuration": ours, and Kedro's when it is loaded."""
    import sys

    kedro = getattr(sys.modules.get("kedro.config"), "MissingConfigException", None)
    return (MissingConfigException,) + ((kedro,) if kedro is not None else ())


def make_config_loader(
    conf_source: str | os.PathLike[str], env: str | None, runtime_params: dict[str, Any]
) -> Any:
    """Kedro's ``OmegaConfigLoader`` when Kedro is installed, else ``ConfigLoader``."""
    try:
        from kedro.config import OmegaConfigLoader
    except ImportError:
        return ConfigLoader(conf_source, env, runtime_params)
    return OmegaConfigLoader(
        conf_source=str(conf_source),
        env=env,
        runtime_params=runtime_params,
        base_env=BASE_ENV,
        default_run_env=DEFAULT_RUN_ENV,
    )
