"""Nodes of the timeline example: they sleep a little so that the chart has something to show."""

import time


def extract(seconds):
    time.sleep(seconds)
    return list(range(100))


def join(orders, customers):
    time.sleep(0.06)
    return [(o, customers[o % len(customers)]) for o in orders]


def enrich(joined, prices):
    time.sleep(0.1)
    return [(o, c, prices[o % len(prices)]) for o, c in joined]


def score(enriched):
    time.sleep(0.15)
    return [p * 1.1 for _, _, p in enriched]


def summarize(enriched):
    time.sleep(0.05)
    return {"rows": len(enriched)}


def publish(scores, summary, fail):
    time.sleep(0.03)
    if fail:
        raise RuntimeError("the report endpoint refused the upload (HTTP 503)")
    return {"rows": summary["rows"], "top": max(scores)}
