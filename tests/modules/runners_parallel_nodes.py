import threading

BARRIER = threading.Barrier(2, timeout=10)


def left(seed):
    BARRIER.wait()
    return [seed, "left"]


def right(seed):
    BARRIER.wait()
    return [seed, "right"]


def join(a, b):
    return {"left": a, "right": b}
