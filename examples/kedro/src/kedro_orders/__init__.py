"""kedro-orders: a Kedro project whose hooks are declared in conf/*/hooks.yaml."""
