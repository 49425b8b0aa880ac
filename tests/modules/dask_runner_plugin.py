import json
import os

_LOG = os.path.join(os.path.dirname(__file__), "calls.jsonl")


def record(tag, node):
    with open(_LOG, "a") as fh:
        fh.write(json.dumps([tag, node.name, os.getpid()]) + "\n")


class _Hooks:
    def after_node_run(self, node):
        record("object", node)


hooks = _Hooks()


def shipped(node):
    record("shipped", node)


def clash(node):
    record("plugin clash", node)
