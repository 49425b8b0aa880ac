"""The cyclic garbage collector during a pipeline run.

A run keeps everything it loaded (the pipeline file's document and positions, the nodes,
the hooks and their plans) until it ends, and every pass of the collector over the older
generations traverses all of it again: at 10,000 nodes those passes cost as much as the
run's own work. ``freeze()`` moves what exists now out of the collector's sight
(``gc.freeze``) until ``thaw()``; whatever the run allocates is collected as usual.

Concurrent runs share the freeze (the last one to end thaws). A host application that froze
objects itself, or turned the collector off, is left alone: thawing would thaw its objects.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_holders = 0


def freeze() -> bool:
    """Freeze the objects that exist now; True when the caller must ``thaw(True)`` later."""
    global _holders
    with _lock:
        if not gc.isenabled() or (_holders == 0 and gc.get_freeze_count()):
            return False
        gc.freeze()
        _holders += 1
        return True


def thaw(frozen: bool) -> None:
    """Undo one ``freeze()`` that returned True; the last one hands the objects back."""
    global _holders
    if not frozen:
        return
    with _lock:
        _holders -= 1
        if _holders == 0:
            gc.unfreeze()
