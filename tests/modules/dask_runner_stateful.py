import os

SEEN = []
SAVED = []


def saved(dataset_name, data):
    SAVED.append((dataset_name, data))


def remember(node):
    SEEN.append((node.name, os.getpid()))


def flaky(node):
    raise ValueError(f"flaky on {node.name}")


def double_s(node, inputs):
    if node.name == "B":
        return {"s": inputs["s"] * 10}
