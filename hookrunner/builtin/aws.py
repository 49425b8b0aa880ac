"""Built-in AWS hooks, under the path manifests name: ``hookrunner.builtin.aws:sns_publish``.

They live in ``hookrunner.services.aws.builtin``; these are the names manifests write.
"""

from ..services.aws.builtin import (
    feedback_sns,
    is_available,
    is_feedback_sns_available,
    is_metadata_sqs_available,
    metadata_sqs,
    sns_publish,
    sqs_send,
)

__all__ = [
    "feedback_sns",
    "is_available",
    "is_feedback_sns_available",
    "is_metadata_sqs_available",
    "metadata_sqs",
    "sns_publish",
    "sqs_send",
]
