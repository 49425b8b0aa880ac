import json
import os

import boto3


def build(session_kwargs, client_kwargs, endpoint, log):
    with open(log, "a") as fh:
        fh.write(json.dumps(os.getpid()) + "\n")
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("s3", endpoint_url=endpoint)
