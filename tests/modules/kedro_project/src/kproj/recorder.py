"""A hooks class with Kedro's full signatures on every pipeline event that records what it is
given: the call order, argument names, and a description of each argument's type (Kedro's
roles for its objects, JSON types for data), as JSON lines in $RECORD_FILE."""

import json
import os
import sys

from kedro.framework.hooks import hook_impl
from kedro.pipeline.node import Node


def describe(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return type(value).__name__
    if isinstance(value, BaseException):
        return f"exception:{type(value).__name__}"
    if isinstance(value, Node):
        return "Node"
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, *[describe(v) for v in value]]
    if hasattr(value, "config_loader") and hasattr(value, "project_path"):
        return "KedroContext"
    if hasattr(value, "nodes") and hasattr(value, "filter") and hasattr(value, "outputs"):
        return "Pipeline"
    if all(hasattr(value, a) for a in ("load", "save", "exists", "keys", "items")):
        return "DataCatalog"
    if hasattr(value, "load") and hasattr(value, "save"):
        return "dataset"
    return type(value).__name__


def innermost_frame():
    tb = sys.exc_info()[2]
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name


def record(event, arguments, **facts):
    entry = {
        "event": event,
        "args": sorted(arguments),
        "types": {k: describe(v) for k, v in arguments.items()},
        **facts,
    }
    with open(os.environ["RECORD_FILE"], "a") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")


class Recorder:
    @hook_impl
    def after_context_created(self, context):
        record(
            "after_context_created",
            {"context": context},
            loader=type(context.config_loader).__name__,
            parameters=context.config_loader["parameters"],
            credentials=context._get_config_credentials(),
            package=context._package_name,
            env=context.env,
            project_path=type(context.project_path).__name__,
        )

    @hook_impl
    def after_catalog_created(
        self, catalog, conf_catalog, conf_creds, parameters, save_version, load_versions
    ):
        record(
            "after_catalog_created",
            {
                "catalog": catalog,
                "conf_catalog": conf_catalog,
                "conf_creds": conf_creds,
                "parameters": parameters,
                "save_version": save_version,
                "load_versions": load_versions,
            },
            creds=conf_creds,
            parameter_values=parameters,
            paths={k: v.get("path", "") for k, v in conf_catalog.items()},
            # Kedro's docs' MetadataHook walks the catalog this way.
            items=sorted(name for name, _ in catalog.items()),
        )

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog):
        record(
            "before_pipeline_run",
            {"run_params": run_params, "pipeline": pipeline, "catalog": catalog},
            keys=list(run_params),
            runner=run_params["runner"].split(" object at ")[0],
            nodes=[n.name for n in pipeline.nodes],
        )

    @hook_impl
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog):
        record(
            "after_pipeline_run",
            {
                "run_params": run_params,
                "run_result": run_result,
                "pipeline": pipeline,
                "catalog": catalog,
            },
            result=sorted(run_result),
            catalog_keys=sorted(catalog.keys()),
        )

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog):
        record(
            "on_pipeline_error",
            {"error": error, "run_params": run_params, "pipeline": pipeline, "catalog": catalog},
            exc_info=type(sys.exc_info()[1]).__name__,
            same=sys.exc_info()[1] is error,
            # Kedro's docs' pdb hook post-mortems this traceback: it ends in the node.
            innermost=innermost_frame(),
        )

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async, run_id):
        record(
            "before_node_run",
            {
                "node": node,
                "catalog": catalog,
                "inputs": inputs,
                "is_async": is_async,
                "run_id": run_id,
            },
            name=node.name,
            text=str(node),
            func=node._func_name,
        )

    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs, is_async, run_id):
        record(
            "after_node_run",
            {
                "node": node,
                "catalog": catalog,
                "inputs": inputs,
                "outputs": outputs,
                "is_async": is_async,
                "run_id": run_id,
            },
            name=node.name,
        )

    @hook_impl
    def on_node_error(self, error, node, catalog, inputs, is_async, run_id):
        record(
            "on_node_error",
            {
                "error": error,
                "node": node,
                "catalog": catalog,
                "inputs": inputs,
                "is_async": is_async,
                "run_id": run_id,
            },
            name=node.name,
            exc_info=type(sys.exc_info()[1]).__name__,
        )

    @hook_impl
    def before_dataset_loaded(self, dataset_name, node):
        record(
            "before_dataset_loaded", {"dataset_name": dataset_name, "node": node}, ds=dataset_name
        )

    @hook_impl
    def after_dataset_loaded(self, dataset_name, data, node):
        record(
            "after_dataset_loaded",
            {"dataset_name": dataset_name, "data": data, "node": node},
            ds=dataset_name,
        )

    @hook_impl
    def before_dataset_saved(self, dataset_name, data, node):
        record(
            "before_dataset_saved",
            {"dataset_name": dataset_name, "data": data, "node": node},
            ds=dataset_name,
        )

    @hook_impl
    def after_dataset_saved(self, dataset_name, data, node):
        record(
            "after_dataset_saved",
            {"dataset_name": dataset_name, "data": data, "node": node},
            ds=dataset_name,
        )
