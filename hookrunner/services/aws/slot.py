"""The S3 client slot (quilt3's ``build_s3_client`` hook) and the one way to get an S3 client.

Three layers decide which builder makes a client, most specific first:

1. a ``build_s3_client`` hook in the manifests of an open ``HookRunner`` (the most recently
   created one whose manifests fill the slot; the host says which runners are open), or of
   a registry ``attach``-ed here (a distributed runner's worker);
2. the process-wide hook set with ``set_build_s3_client_hook`` (or ``override_build_s3_client``);
3. ``default_build_s3_client``: plain boto3, so profiles, ``AWS_ENDPOINT_URL``, regions and
   retry settings from the environment or ``~/.aws/config`` all apply.

The slot event's own default is layer 2-or-3 (``process_build_s3_client``), so a manifest hook
that fails falls back to whatever the process would use without the manifest.

``s3_client()`` is the single entry point every S3 access of hookrunner uses. Clients are cached
per (builder, arguments, AWS environment) because building one costs milliseconds and boto3
clients are safe to share between threads; creating them is serialised under a lock because
boto3 sessions are not. ``clients.service_client`` (SNS/SQS) shares this cache through
``cached_client``.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from ...host import runner as host
from ...kernel.runtime import slots
from ...kernel.runtime.plan import Plan


class _HasRegistry(Protocol):
    """A holder of a registry whose manifests may fill the slot (a runner, a worker's)."""

    @property
    def registry(self) -> Any: ...


BuildClientHook = Callable[[dict[str, Any], dict[str, Any]], Any]
"""``hook(session_kwargs, client_kwargs) -> boto3 S3 client`` (the slot's signature too)."""

SLOT = "build_s3_client"

_lock = threading.RLock()
_hook: BuildClientHook | None = None
_attached: list[weakref.ReferenceType[_HasRegistry]] = []
_clients: dict[tuple[Any, ...], Any] = {}

# Environment variables that change what a default-built client talks to or signs with.
_ENV_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


def default_build_s3_client(
    session_kwargs: Mapping[str, Any] | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """Build an S3 client the way boto3 would on its own (profiles, env, config files)."""
    import boto3

    session = boto3.session.Session(**dict(session_kwargs or {}))
    return session.client("s3", **dict(client_kwargs or {}))


def get_build_s3_client_hook() -> BuildClientHook | None:
    """The process-wide builder set with ``set_build_s3_client_hook``, or None (the default)."""
    return _hook


def set_build_s3_client_hook(hook: BuildClientHook | None) -> BuildClientHook | None:
    """Install ``hook`` as the process-wide builder; return the previous one (None = default).

    ``None`` restores ``default_build_s3_client``. A manifest that fills the
    ``build_s3_client`` slot still takes precedence while its runner is open.
    """
    global _hook
    if hook is not None and not callable(hook):
        raise TypeError(f"a build_s3_client hook must be callable, not {type(hook).__name__}")
    with _lock:
        previous, _hook = _hook, hook
    return previous


@contextmanager
def override_build_s3_client(hook: BuildClientHook | None) -> Iterator[BuildClientHook | None]:
    """Use ``hook`` inside the ``with`` block, then restore whatever was set before."""
    previous = set_build_s3_client_hook(hook)
    try:
        yield previous
    finally:
        set_build_s3_client_hook(previous)


def process_build_s3_client(
    session_kwargs: Mapping[str, Any] | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """The slot's default: the process-wide hook when one is set, else boto3's default."""
    builder = _hook or default_build_s3_client
    return builder(dict(session_kwargs or {}), dict(client_kwargs or {}))


# --------------------------------------------------------------------------- manifest layer


def attach(holder: _HasRegistry) -> None:
    """Let ``holder.registry``'s manifests fill the slot until ``detach`` (open runners do
    without: the host lists them)."""
    with _lock:
        _attached[:] = [r for r in _attached if r() is not None]
        _attached.append(weakref.ref(holder))


def detach(holder: _HasRegistry) -> None:
    with _lock:
        _attached[:] = [r for r in _attached if r() is not None and r() is not holder]
        prune()


def _holders() -> list[_HasRegistry]:
    """Who may fill the slot, oldest first: attached registries, then the open runners."""
    with _lock:
        attached = [r() for r in _attached]
    return [h for h in attached if h is not None] + list(host.open_runners())


def _live_plans() -> list[Plan]:
    """The slot plans of the current registries of everyone who may fill the slot."""
    return [p for h in _holders() if (p := h.registry.plans.get(SLOT)) is not None]


def prune() -> None:
    """Drop clients built by plans no open runner uses any more.

    Manifest-built clients are keyed by their ``Plan``; every reload makes new plans, so
    this runs whenever a runner swaps in a new registry (and on close), or a long-running
    process would keep one client, and the whole old registry, per reload.
    """
    with _lock:
        live = {id(p) for p in _live_plans()}
        for k in [k for k in _clients if k[0] == "manifest" and id(k[1]) not in live]:
            del _clients[k]


def _manifest_plan() -> Plan | None:
    """The slot's plan in the newest open runner whose manifests fill it."""
    for holder in reversed(_holders()):
        plan = holder.registry.plans.get(SLOT)
        if plan is not None and any(not h.off for h in plan.hooks):
            return plan
    return None


def current_builder() -> tuple[str, Any]:
    """Which layer builds clients now: ``("manifest", plan)``, ``("api", hook)`` or default."""
    plan = _manifest_plan()
    if plan is not None:
        return "manifest", plan
    if _hook is not None:
        return "api", _hook
    return "default", default_build_s3_client


# --------------------------------------------------------------------------- the entry point


def _freeze(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def environment(*extra: str) -> tuple[str | None, ...]:
    """The AWS environment a client depends on (``extra``: e.g. a service's endpoint var)."""
    return tuple(os.environ.get(k) for k in (*_ENV_KEYS, *extra))


def cached_client(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """The client cached under ``key``, else ``build()``'s (built once, under the lock).

    Keys start with a tag naming who built the client ("manifest", "api", "default",
    "service"); include ``environment()`` so a changed AWS environment builds a new client.
    """
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = build()
            # A reload may have retired this plan while it built: use, but do not keep, it.
            if key[0] != "manifest" or any(p is key[1] for p in _live_plans()):
                _clients[key] = client
    return client


def s3_client(
    session_kwargs: Mapping[str, Any] | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """The S3 client for these arguments, built through the slot and cached."""
    sk = dict(session_kwargs or {})
    ck = dict(client_kwargs or {})
    layer, builder = current_builder()

    def build() -> Any:
        if layer == "manifest":
            client = builder.emit({"session_kwargs": sk, "client_kwargs": ck}).value
        else:
            client = builder(sk, ck)
        if client is None:
            raise TypeError(f"the {layer} build_s3_client hook returned None, not a client")
        return client

    return cached_client((layer, builder, _freeze(sk), _freeze(ck), environment()), build)


def clear_client_cache() -> None:
    """Forget cached clients, S3 and SNS/SQS (e.g. after rotating credentials in-process)."""
    with _lock:
        _clients.clear()


def _prune_after(_: host.HookRunner) -> None:
    prune()


# The host tells the slot when registries change or runners close; the slot event's default
# (layer 2-or-3 above) is this module's.
host.on_swap(_prune_after)
host.on_close(_prune_after)
slots.provide(SLOT, process_build_s3_client)
