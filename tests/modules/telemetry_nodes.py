import time


def extract():
    time.sleep(0.02)
    return [1, 2, 3]


def double(rows):
    return [r * 2 for r in rows]


def total(rows, fail=False):
    if fail:
        raise ValueError("row 7 is not a number")
    return sum(rows)


def traced_total(rows, fail=False):
    """Makes a span of its own with the OpenTelemetry API (it must nest under the node)."""
    from opentelemetry import trace

    with trace.get_tracer("user-code").start_as_current_span("add up"):
        return total(rows, fail)
