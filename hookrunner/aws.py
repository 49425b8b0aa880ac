"""S3 objects as whole files, and the SNS/SQS clients the built-in delivery hooks use.

``storage`` calls ``s3_read``/``s3_write``/``s3_exists`` for ``s3://`` URIs; their client always
comes from ``hooks.s3_client`` (the ``build_s3_client`` slot). AWS failures become ``AwsError``,
a ``HookrunnerError`` that names the URI and the AWS error code so the CLI can print it as one
line. boto3 is imported only when AWS is actually used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import HookrunnerError
from .hooks import _environment, cached_client, s3_client

# AWS error codes grouped by what the user has to fix.
_MISSING_BUCKET = {"NoSuchBucket"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "AuthorizationError"}
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "InvalidToken",
    "UnrecognizedClientException",
}


class AwsError(HookrunnerError):
    """An AWS call failed; ``uri`` is what was accessed, ``code`` the AWS error code."""

    def __init__(self, uri: str, code: str, message: str, hint: str | None = None):
        self.uri = uri
        self.code = code
        self.hint = hint
        text = f"{uri}: {message} (AWS error {code})"
        super().__init__(text + (f"; {hint}" if hint else ""))


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` → ``("bucket", "a/b")``."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise AwsError(uri, "InvalidURI", "the URI names no bucket", "write s3://bucket/key")
    return bucket, key


def translate(exc: BaseException, uri: str) -> AwsError:
    """A botocore exception as an ``AwsError`` saying what to fix."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(
            err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        )
        if code in _MISSING_BUCKET:
            bucket = split_uri(uri)[0] if uri.startswith("s3://") else uri
            return AwsError(
                uri, code, f"bucket {bucket!r} does not exist", "create it or fix the path"
            )
        if code in _MISSING_KEY:
            return AwsError(uri, code, "no such object", "check the key, or save it first")
        if code in _DENIED:
            return AwsError(
                uri, code, "access denied", "the credentials in use lack permission for it"
            )
        if code in _BAD_CREDENTIALS:
            return AwsError(
                uri,
                code,
                "the AWS credentials were rejected",
                "check AWS_PROFILE / AWS_ACCESS_KEY_ID and the secret key",
            )
        return AwsError(uri, code, str(err.get("Message") or exc))
    if isinstance(exc, bx.NoCredentialsError):
        return AwsError(
            uri,
            "NoCredentials",
            "no AWS credentials found",
            "configure a profile or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(exc, bx.ProfileNotFound):
        return AwsError(uri, "ProfileNotFound", str(exc), "check AWS_PROFILE")
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionClosedError):
        return AwsError(uri, "EndpointConnectionError", "cannot reach the AWS endpoint")
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(uri, type(exc).__name__, str(exc))
    raise exc


def _call(uri: str, fn: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, uri) from None


def s3_read(uri: str, **client_args: Any) -> bytes:
    bucket, key = split_uri(uri)
    client = _client(uri, client_args)
    response = _call(uri, client.get_object, Bucket=bucket, Key=key)
    return _call(uri, response["Body"].read)


def s3_write(uri: str, data: bytes, **client_args: Any) -> None:
    """One whole-object put: S3 never exposes a partially written object."""
    bucket, key = split_uri(uri)
    if not key:
        raise AwsError(uri, "InvalidURI", "the URI names no key", "write s3://bucket/key")
    client = _client(uri, client_args)
    _call(uri, client.put_object, Bucket=bucket, Key=key, Body=bytes(data))


def s3_exists(uri: str, **client_args: Any) -> bool:
    from botocore.exceptions import ClientError

    bucket, key = split_uri(uri)
    client = _client(uri, client_args)
    try:
        client.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as exc:
        if translate(exc, uri).code in _MISSING_KEY | _MISSING_BUCKET:
            return False
        raise translate(exc, uri) from None
    except Exception as exc:
        raise translate(exc, uri) from None


def _client(uri: str, args: Mapping[str, Any]) -> Any:
    try:
        return s3_client(args.get("session_kwargs"), args.get("client_kwargs"))
    except Exception as exc:
        from botocore.exceptions import BotoCoreError

        if isinstance(exc, BotoCoreError):
            raise translate(exc, uri) from None
        raise


# --------------------------------------------------------------------------- SNS and SQS


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
        return boto3.session.Session().client(service, region_name=region, config=config)

    env = _environment(f"AWS_ENDPOINT_URL_{service.upper()}")
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
