"""Node functions: plain Python, one job each."""


def keep_large(orders, min_amount):
    return [o for o in orders if float(o["amount"]) >= min_amount]


def summarise(orders):
    total = sum(float(o["amount"]) for o in orders)
    return {"orders": len(orders), "total": round(total, 2)}
