"""Project hooks as Kedro's documentation writes them."""

import logging

from kedro.framework.hooks import hook_impl

calls = []


class ProjectHooks:
    def __init__(self, prefix="run"):
        self.prefix = prefix

    @property
    def _logger(self):
        return logging.getLogger(__name__)

    @hook_impl
    def after_context_created(self, context):
        calls.append(("after_context_created", {"context": context}))

    @hook_impl
    def after_catalog_created(self, catalog, conf_catalog, conf_creds, save_version):
        calls.append(
            (
                "after_catalog_created",
                {
                    "catalog": catalog,
                    "conf_catalog": conf_catalog,
                    "conf_creds": conf_creds,
                    "save_version": save_version,
                },
            )
        )

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline):
        calls.append(("before_pipeline_run", {"run_params": run_params, "pipeline": pipeline}))

    @hook_impl(tryfirst=True)
    def before_node_run(self, node, inputs, catalog):
        calls.append(("before_node_run", {"node": node, "inputs": inputs, "catalog": catalog}))
        return {"x": inputs["x"] + 1}

    @hook_impl
    def after_node_run(self, node, outputs, run_id):
        calls.append(("after_node_run", {"node": node, "outputs": outputs, "run_id": run_id}))

    @hook_impl(trylast=True)
    def on_node_error(self, error, node, catalog, inputs, is_async, run_id):
        calls.append(
            (
                "on_node_error",
                {
                    "error": error,
                    "node": node,
                    "catalog": catalog,
                    "inputs": inputs,
                    "is_async": is_async,
                    "run_id": run_id,
                },
            )
        )

    @hook_impl
    def before_dataset_loaded(self, dataset_name, node):
        calls.append(("before_dataset_loaded", {"dataset_name": dataset_name, "node": node}))

    @hook_impl
    def after_dataset_saved(self, dataset_name, data, node=None):
        # pluggy (>= 1.7) passes a defaulted parameter too when the event provides it
        calls.append(
            ("after_dataset_saved", {"dataset_name": dataset_name, "data": data, "node": node})
        )

    @hook_impl(specname="after_pipeline_run")
    def report(self, run_params, run_result):
        calls.append(
            (
                "after_pipeline_run",
                {"run_params": run_params, "run_result": run_result, "prefix": self.prefix},
            )
        )

    @hook_impl
    def on_pipeline_error(self, error, *args, **kwargs):
        calls.append(("on_pipeline_error", {"error": error, "args": args, "kwargs": kwargs}))

    def helper_not_a_hook(self, value):
        return value
