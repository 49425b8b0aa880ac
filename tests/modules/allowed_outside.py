"""A module outside the allow-list: importing it leaves a mark, which must never appear."""

import os

with open(os.environ["HR_OUTSIDE_MARK"], "a", encoding="utf-8") as fh:
    fh.write(__name__ + "\n")


def f(*args, **kwargs):
    return None


def node(x):
    return x


class Hooks:
    def before_node_run(self, node):
        pass


class Dataset:
    def __init__(self, path):
        self.path = path

    def load(self):
        return 1

    def save(self, data):
        pass
