import json
import os
import threading
import time

from hookrunner.kernel.events import CATALOGUE

EVENTS = []
_lock = threading.Lock()


class Recorder:
    def __init__(self, log=None, stamped=False):
        self.log = log
        self.stamped = stamped

    def _rec(self, event, kw):
        node = kw.get("node")
        entry = [event, getattr(node, "name", None), kw.get("dataset_name")]
        if event == "after_command_run":
            entry.append(kw["exit_code"])
        with _lock:
            EVENTS.append(tuple(entry))
            if self.log:
                line = [entry, os.getpid(), time.time()] if self.stamped else entry
                with open(self.log, "a") as fh:
                    fh.write(json.dumps(line) + "\n")


def _make(name, style):
    if style == "wrap":

        def method(self, original_func, **kw):
            self._rec(name, kw)
            return original_func()
    else:

        def method(self, **kw):
            self._rec(name, kw)

    method.__name__ = name
    return method


for _spec in CATALOGUE:
    if _spec.style != "slot":
        setattr(Recorder, _spec.name, _make(_spec.name, _spec.style))
