"""One pipeline: clean the orders, total them per customer, report."""

from kedro.pipeline import Pipeline, node

from kedro_orders import nodes


def register_pipelines():
    return {
        "__default__": Pipeline(
            [
                node(
                    nodes.clean,
                    ["raw_orders", "params:min_amount"],
                    "clean_orders",
                    name="clean",
                    tags=["etl"],
                ),
                node(nodes.totals, "clean_orders", "totals", name="totals", tags=["money"]),
                node(nodes.report, "totals", "report", name="report", tags=["money", "reporting"]),
            ]
        )
    }
