import json

from hookrunner.invocation import config_factory


def add_env(parser):
    parser.add_argument("--env", default="base", help="merge conf/ENV.yaml over params")


config = config_factory(params_files=["conf/{env}.yaml"])


def show(configs, cli_args, context):
    print(
        "context:",
        json.dumps({"env": cli_args["env"], "params": context.params, "ctx_env": context.env}),
    )
