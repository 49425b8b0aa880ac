"""Kedro's settings. HOOKS stays as Kedro knows it; the manifest's hooks run around it."""

from kedro_orders.hooks import ProjectHooks

HOOKS = (ProjectHooks(),)
# Kedro's own switch works on hookrunner too: DISABLE_HOOKS_FOR_PLUGINS = ("hookrunner",)
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-telemetry",)
