"""Nodes of the AWS example: plain functions, no AWS code (the catalog does the I/O)."""

from __future__ import annotations


def keep_large(rows: list[dict[str, str]], threshold: float) -> list[dict[str, object]]:
    """Sales at or above ``threshold``; an empty result is a failed run (it triggers the alert)."""
    kept = [dict(r, amount=float(r["amount"])) for r in rows if float(r["amount"]) >= threshold]
    if not kept:
        raise ValueError(f"no sales at or above {threshold}")
    return kept


def by_region(rows: list[dict[str, object]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in rows:
        totals[str(r["region"])] = totals.get(str(r["region"]), 0.0) + float(r["amount"])  # type: ignore[arg-type]
    return dict(sorted(totals.items()))
