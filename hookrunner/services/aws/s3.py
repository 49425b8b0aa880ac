"""S3 objects as whole files, and AWS failures as ``AwsError``.

``storage`` calls ``s3_read``/``s3_write``/``s3_exists`` for ``s3://`` URIs; their client always
comes from ``slot.s3_client`` (the ``build_s3_client`` slot). AWS failures become ``AwsError``,
a ``HookrunnerError`` that names the URI and the AWS error code so the CLI can print it as one
line. boto3 is imported only when AWS is actually used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...kernel.errors import HookrunnerError
from .slot import s3_client

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
