"""Hooks of the timeline example: an audit that takes a few milliseconds per node, a
notifier that fails for one node (and only logs it), and a checkpoint policy that vetoes
checkpoints of nodes whose outputs only live in memory."""

import time

from hookrunner import Veto


def audit(node):
    time.sleep(0.004)


def notify(node):
    if node.name == "join":
        raise ConnectionError("chat webhook unreachable")


def keep_checkpoint(checkpoint_data):
    if checkpoint_data.get("node") == "summarize":
        raise Veto("summary is recomputed, no checkpoint needed")
