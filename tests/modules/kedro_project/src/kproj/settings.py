"""Kedro settings: the tests write HOOKS and DISABLE_HOOKS_FOR_PLUGINS below this line."""
