"""Which process owns a session (or a temporary file), and whether it is still alive.

A session row records its process: the pid, the machine it runs on, and the process's start
time (Linux: the boot id and the start tick from ``/proc``), so that a pid the system reused
for another process is not taken for the owner. A ``running`` session whose owner is gone was
killed (``kill -9``, ``os._exit``, the OOM killer, a power cut): the store reports it
``crashed``.

The machine (``Owner.host``) is where a pid means something: the host name, the boot id and
the PID namespace. Containers often share a host name and a bind-mounted store, and a pid of
one container is another process, or none, in the next: a process can check an owner only
when the recorded machine is exactly its own. Any other owner (another host, container or
boot, a row written before all three were kept) cannot be told from here and stays as
recorded.
"""

from __future__ import annotations

import os
from typing import NamedTuple


class Owner(NamedTuple):
    pid: int
    host: str  # ``machine()``: where ``pid`` names this process
    # Tells this process from a later one with the same pid; None where it cannot be read.
    started: str | None


_current: Owner | None = None


def current() -> Owner:
    """This process (worked out again after a fork, which may also have left its namespace)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        pid = os.getpid()
        _current = Owner(pid, machine(), start_token(pid))
    return _current


def machine() -> str:
    """``HOSTNAME/BOOT_ID/PIDNS``: the host name, the boot id and the inode of this process's
    PID namespace, a part left empty where it cannot be read (only the host name when neither
    can). Two processes share it exactly when a pid means the same process to both (short of
    another host of the same name that cannot be read either)."""
    import socket  # here: a process that never begins or reads a session skips it

    try:
        ns: str | None = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        ns = None
    boot = _boot_id()
    name = socket.gethostname()
    return name if boot is None and ns is None else f"{name}/{boot or ''}/{ns or ''}"


def host_name(host: str | None) -> str | None:
    """The host name part of a recorded ``machine()`` (for messages)."""
    return None if host is None else host.split("/", 1)[0]


def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (field 3 on), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces and ")".
    return text[text.rfind(")") + 2 :].split()


def start_token(pid: int) -> str | None:
    """``BOOT_ID:START_TICKS`` of process ``pid`` (Linux), or None."""
    fields = _stat(pid)
    boot = _boot_id()
    if fields is None or boot is None or len(fields) < 20:
        return None
    return f"{boot}:{fields[19]}"  # field 22: start time, in clock ticks since boot


def alive(pid: int | None, host: str | None, started: str | None) -> bool | None:
    """Whether the process that recorded ``(pid, host, started)`` still runs: True, False,
    or None when it cannot be told (``host`` is not exactly this process's ``machine()``:
    another host, container or boot, or a row written before all of it was recorded)."""
    me = current()
    if pid is None or host is None or host != me.host:
        return None
    if pid == me.pid:
        return started is None or me.started is None or started == me.started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except OSError:
        return None
    fields = _stat(pid)
    if fields is None:
        return True  # it exists, and nothing more can be read here
    if fields[0] in ("Z", "X"):  # exited, not reaped yet
        return False
    if started is not None:
        token = start_token(pid)
        if token is not None and token != started:
            return False  # the pid now belongs to another process
    return True
