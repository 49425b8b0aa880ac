"""The quilt3 "development vs production" pattern as a ``build_s3_client`` slot hook.

In development (the default) S3 goes to a local endpoint (``DEV_S3_ENDPOINT``, a moto or
MinIO server); with ``HOOKRUNNER_ENV=production`` it is plain boto3 (profiles, regions, IAM).
Every S3 access of the run (here: the ``s3://`` datasets) gets its client from this hook.
"""

from __future__ import annotations

import os
from typing import Any


def environment_aware_s3_client(
    session_kwargs: dict[str, Any], client_kwargs: dict[str, Any]
) -> Any:
    import boto3

    session = boto3.session.Session(**session_kwargs)
    if os.environ.get("HOOKRUNNER_ENV", "development") == "development":
        endpoint = os.environ.get("DEV_S3_ENDPOINT", "http://127.0.0.1:5000")
        return session.client("s3", **{"endpoint_url": endpoint, **client_kwargs})
    return session.client("s3", **client_kwargs)
