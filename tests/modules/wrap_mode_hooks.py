import time

from hookrunner import Veto

LOG = []


def outer(original_func, x):
    LOG.append("outer in")
    r = original_func()
    LOG.append(("outer out", [h.name for h in r.results], r.value, r.vetoed))
    return "kept in its result"


def scale(original_func, x):
    LOG.append("scale in")
    return original_func(x=x * 10)


def skip(original_func):
    LOG.append("skip")


def refuse(original_func):
    raise Veto("not today")


def broken(original_func):
    original_func()
    raise RuntimeError("wrapper broke")


def shield(original_func):
    try:
        return original_func()
    except KeyError as exc:
        LOG.append(("shielded", str(exc)))


def a(x):
    LOG.append(("a", x))


def b(x):
    LOG.append(("b", x))


def first(x):
    return f"first {x}"


def no(x):
    return False


def slow(x):
    time.sleep(0.02)


def fails(x):
    raise KeyError("inner")


def errors(error_info):
    LOG.append(("post_error", error_info["hook"]))
