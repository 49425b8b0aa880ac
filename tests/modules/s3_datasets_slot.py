import json
import os

import boto3


def build(session_kwargs, client_kwargs):
    with open(os.environ["SLOT_LOG"], "a") as fh:
        fh.write(json.dumps({"pid": os.getpid()}) + "\n")
    if os.environ.get("ENVIRONMENT", "development") == "development":
        client_kwargs = {**client_kwargs, "endpoint_url": os.environ["DEV_S3_ENDPOINT"]}
    return boto3.session.Session(**session_kwargs).client("s3", **client_kwargs)
