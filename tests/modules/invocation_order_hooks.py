from hookrunner import invocation

CALLS = []


def parser(parser):
    CALLS.append("parser_hook")


def note(**kw):
    CALLS.append(kw["event"])


def config_hook(command, cli_args):
    CALLS.append("config_hook")
    return invocation.default_config(command, cli_args)


def init_hook(command, cli_args, configs):
    CALLS.append("init_hook")
    return invocation.default_init(command, cli_args, configs)


def run_hook(command, cli_args, configs, context):
    CALLS.append("run_hook")
    return invocation.default_run(command, cli_args, configs, context)
