import os

RAN = []


def first():
    RAN.append("first")
    return 1


def second(x):
    RAN.append("second")
    return x + 1


def third(x):
    RAN.append("third")
    if os.environ.get("HK_FAIL_THIRD"):
        raise RuntimeError("third failed")
    return x + 1
