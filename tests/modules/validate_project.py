"""A project whose code leaves marks: importing it is allowed for validate, anything else is not
(constructing its hooks class or dataset, calling its functions or a check of its own)."""

import os
import sys

MARKS = os.environ["HR_VALIDATE_MARKS"]


def _mark(what):
    with open(os.path.join(MARKS, what), "w", encoding="utf-8") as fh:
        fh.write(what)


_mark("imported")
print("printed while importing")


class Hooks:
    def __init__(self, threshold):
        _mark("constructed")
        sys.exit(5)

    def before_node_run(self, node):
        _mark("called")


def hook(file_path, level):
    _mark("called")


def _check(bound):
    _mark("checked")
    return []


hook.check_with = _check


def node(x):
    _mark("node called")
    return x


class Dataset:
    def __init__(self, path, mode="r"):
        _mark("dataset constructed")
        sys.exit(5)

    def load(self):
        return 1

    def save(self, data):
        pass
