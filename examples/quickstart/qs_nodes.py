"""Quick-start pipeline nodes: read raw orders, clean them, aggregate, report."""


def clean(orders, min_amount):
    """Trim and normalise fields, drop duplicates and rows without a usable amount."""
    seen = set()
    rows = []
    for row in orders:
        order_id = row["order_id"].strip()
        try:
            amount = float(row["amount"])
        except ValueError:
            continue
        if order_id in seen or amount < min_amount:
            continue
        seen.add(order_id)
        rows.append(
            {
                "order_id": order_id,
                "customer": row["customer"].strip(),
                "region": row["region"].strip().lower(),
                "amount": amount,
            }
        )
    return rows, len(orders) - len(rows)


def aggregate(orders):
    """Totals per region and per customer."""
    regions, customers = {}, {}
    for o in orders:
        regions[o["region"]] = round(regions.get(o["region"], 0.0) + o["amount"], 2)
        customers[o["customer"]] = round(customers.get(o["customer"], 0.0) + o["amount"], 2)
    return {"regions": regions, "customers": customers}


def report(totals, dropped, currency):
    """The JSON report: what came in, what was kept, who spent most."""
    top = max(totals["customers"].items(), key=lambda kv: kv[1])
    return {
        "currency": currency,
        "dropped_rows": dropped,
        "revenue": round(sum(totals["regions"].values()), 2),
        "by_region": dict(sorted(totals["regions"].items())),
        "top_customer": {"name": top[0], "amount": top[1]},
    }
