"""The pipeline's functions: plain Python, no hooks here."""


def clean(orders, min_amount):
    return [o for o in orders if o["amount"] >= min_amount]


def totals(orders):
    out = {}
    for o in orders:
        out[o["customer"]] = out.get(o["customer"], 0) + o["amount"]
    return out


def report(totals):
    top = max(totals, key=totals.get)
    return {"customers": len(totals), "revenue": sum(totals.values()), "top": top}
