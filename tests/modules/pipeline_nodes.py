import os


def add(x, y):
    return x + y


def split(s):
    if os.environ.get("HK_FAIL_SPLIT"):
        raise RuntimeError("split exploded")
    return s * 2, s * 3


def combine(p, q):
    return {"r": p + q}
