"""Hooks for this project: each method or function names the event arguments it needs."""

import time


class Timing:
    def __init__(self):
        self.started = {}

    def before_node_run(self, node):
        self.started[node.name] = time.perf_counter()

    def after_node_run(self, node):
        ms = (time.perf_counter() - self.started.pop(node.name)) * 1e3
        print(f"[timing] {node.name}: {ms:.1f} ms")


def announce(session_id):
    print(f"[hooks] session {session_id} started")
