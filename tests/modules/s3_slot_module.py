import os

import boto3

CALLS = []


def build(session_kwargs, client_kwargs):
    # quilt3's development-vs-production pattern: a local endpoint outside production.
    CALLS.append(dict(client_kwargs))
    if os.environ.get("ENVIRONMENT", "development") == "development":
        client_kwargs = {**client_kwargs, "endpoint_url": os.environ["DEV_S3_ENDPOINT"]}
    return boto3.session.Session(**session_kwargs).client("s3", **client_kwargs)
