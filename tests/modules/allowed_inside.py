"""Nodes and hooks inside the allow-list of the allowed_modules tests."""


def node(x):
    return x


def hook(node):
    pass
