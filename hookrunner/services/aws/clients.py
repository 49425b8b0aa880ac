"""The SNS and SQS clients the built-in delivery hooks use, and whether AWS is usable here."""

from __future__ import annotations

from typing import Any

from .slot import cached_client, environment


def service_client(service: str, region: str | None = None) -> Any:
    """A cached boto3 client for SNS/SQS, failing fast: delivery does its own retries.

    Shares ``hooks``' client cache and its AWS environment key (plus the service's own
    ``AWS_ENDPOINT_URL_<SERVICE>``), so rotated credentials or a changed region build a new one.
    """

    def build() -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=3,
            read_timeout=10,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        session: Any = boto3.session.Session()  # the service is chosen at run time
        return session.client(service, region_name=region, config=config)

    env = environment(f"AWS_ENDPOINT_URL_{service.upper()}")
    return cached_client(("service", service, region, env), build)


def region_of(arn_or_url: str) -> str | None:
    """The region named in an SNS ARN or an SQS queue URL (None when it names none)."""
    if arn_or_url.startswith("arn:"):
        parts = arn_or_url.split(":")
        return parts[3] or None if len(parts) > 3 else None
    host = arn_or_url.split("://", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    if len(parts) >= 3 and parts[0] == "sqs":
        return parts[1]
    return None


def is_available() -> bool:
    """True when boto3 is importable and some credentials can be found."""
    try:
        import boto3
    except ImportError:
        return False
    try:
        return boto3.session.Session().get_credentials() is not None
    except Exception:
        return False
