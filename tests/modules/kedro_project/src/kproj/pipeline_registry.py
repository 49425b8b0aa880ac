"""The project's pipeline, as pipeline.yaml declares it for hookrunner."""

from kedro.pipeline import Pipeline, node

from kproj import nodes


def register_pipelines():
    pipeline = Pipeline(
        [
            node(nodes.clean, ["raw", "params:minimum"], "rows", name="clean"),
            node(nodes.double, ["rows", "params:factor", "params:fail"], "doubled", name="double"),
            node(nodes.stats, ["rows", "params:model"], "summary", name="stats"),
            node(nodes.peak, "doubled", "peak", name="extra"),
            node(nodes.report, ["summary", "doubled"], "report", name="report"),
        ]
    )
    return {"__default__": pipeline}
