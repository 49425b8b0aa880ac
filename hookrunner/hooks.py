"""The S3 client slot, under the name quilt3 gives it: ``hookrunner.hooks``.

It lives in ``hookrunner.services.aws.slot``; these are the names users write.
"""

from .services.aws.slot import (
    BuildClientHook,
    clear_client_cache,
    current_builder,
    default_build_s3_client,
    get_build_s3_client_hook,
    override_build_s3_client,
    process_build_s3_client,
    s3_client,
    set_build_s3_client_hook,
)

__all__ = [
    "BuildClientHook",
    "clear_client_cache",
    "current_builder",
    "default_build_s3_client",
    "get_build_s3_client_hook",
    "override_build_s3_client",
    "process_build_s3_client",
    "s3_client",
    "set_build_s3_client_hook",
]
