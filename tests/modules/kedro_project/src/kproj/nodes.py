"""The nodes both runs call."""


def clean(raw, minimum):
    return [r for r in raw if r["amount"] >= minimum]


def double(rows, factor, fail):
    if fail:
        raise ValueError("doubling failed on purpose")
    return [r["amount"] * factor for r in rows]


def stats(rows, model):
    return {"n": len(rows), "total": sum(r["amount"] for r in rows), "depth": model["depth"]}


def peak(doubled):
    return max(doubled)


def report(summary, doubled):
    return {"summary": summary, "doubled": doubled}
