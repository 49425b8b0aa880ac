"""Nodes and hooks for runs that are interrupted or whose hooks exit
(tests/pipeline/test_hostile_runs.py). Marker files go to the current directory."""

import sys
import time


def quick():
    return {"done": True}


def slow():
    with open("slow.started", "w") as fh:
        fh.write("1")
    time.sleep(30)
    return {"late": True}


def exits_node():
    sys.exit(2)


def after(node):
    print(f"AFTER {node.name}", flush=True)


def before_exits(node):
    sys.exit(3)


def before_generator_exit(node):
    raise GeneratorExit


class Fatal(BaseException):
    pass


def before_fatal(node):
    raise Fatal("fatal")


def session_end(session_id):
    with open("session_end.fired", "a") as fh:
        fh.write(session_id + "\n")


def node_error(node, error):
    with open("on_node_error.fired", "a") as fh:
        fh.write(f"{node.name} {type(error).__name__}\n")


def use(q):
    return {"used": q}


def held():
    """A node function that runs until the test writes ``release`` (at most 60 s)."""
    import threading

    with open(f"held.{threading.get_ident()}.started", "w") as fh:
        fh.write("1")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            open("release").close()
            break
        except FileNotFoundError:
            time.sleep(0.02)
    return {"held": True}


def pause(dataset_name):
    """A dataset hook that is still running when the test interrupts the run."""
    with open("pause.started", "w") as fh:
        fh.write(dataset_name)
    time.sleep(1.0)


def after_data(dataset_name):
    with open("after_data.fired", "a") as fh:
        fh.write(dataset_name + "\n")
