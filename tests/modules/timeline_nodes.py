import time


def nap(seconds):
    time.sleep(seconds)
    return seconds


def boom(x):
    raise RuntimeError(f"cannot publish {x}")
