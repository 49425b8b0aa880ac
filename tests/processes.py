"""Process groups as the tests see them: through /proc, not through hookrunner."""

from __future__ import annotations

import os
import signal
import time


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is in process group ``pgid``."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def wait_group_gone(pgid: int, seconds: float = 5.0) -> bool:
    """Wait until process group ``pgid`` has no live process; kill it and say False if it
    outlives ``seconds``."""
    deadline = time.monotonic() + seconds
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return False
        time.sleep(0.02)
    return True
