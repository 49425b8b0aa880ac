"""Built-in AWS hooks: session feedback to SNS, session metadata to SQS, any event to either.

Use them from a manifest with their configuration under ``with:``::

    - name: feedback_alerts
      event: session_feedback
      call: hookrunner.builtin.aws:feedback_sns
      with: {topic_arn_good: none, topic_arn_bad: "${env:BAD_TOPIC}", topic_arn_neutral: none}

``feedback_sns`` and ``metadata_sqs`` are wrap hooks: they call ``original_func`` first, so only
an operation that succeeded is announced, and return its result unchanged. Sending happens on
``hookrunner.delivery``'s background queue, so AWS being slow or down never delays or fails the
operation; failures are retried with backoff, then logged and recorded.

Every function carries a ``check_with`` that the registry runs at load time, so a missing or
malformed parameter is a validation error pointing at the manifest line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ...kernel.jsonsafe import json_safe
from . import delivery
from .clients import is_available, region_of, service_client

__all__ = [
    "feedback_sns",
    "is_available",
    "is_feedback_sns_available",
    "is_metadata_sqs_available",
    "metadata_sqs",
    "sns_publish",
    "sqs_send",
]

DISABLED = "none"
RATINGS = {"up": ("good", "positive"), "down": ("bad", "negative"), None: ("neutral", "neutral")}
SUBJECT_MAX = 100  # SNS rejects longer subjects

Problems = list[tuple[str, str, str | None]]


def is_feedback_sns_available() -> bool:
    """boto3 is installed and credentials can be found (the session manager's name for it)."""
    return is_available()


def is_metadata_sqs_available() -> bool:
    return is_available()


# --------------------------------------------------------------------------- sending


def _attributes(values: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """String message attributes; None values are left out (AWS rejects empty ones)."""
    return {
        k: {"DataType": "String", "StringValue": str(v)}
        for k, v in values.items()
        if v is not None and str(v) != ""
    }


# How each service takes a message: (client method, target key, body key).
_API = {
    "sns": ("publish", "TopicArn", "Message"),
    "sqs": ("send_message", "QueueUrl", "MessageBody"),
}


def _enqueue(
    service: str,
    target: str,
    body: str,
    attributes: Mapping[str, Any],
    session_id: str | None,
    hook: str,
    max_attempts: int,
    backoff: float,
    *,
    subject: str | None = None,
    group_id: str | None = None,
) -> None:
    """Queue one SNS publish (``target`` a topic ARN) or SQS send (a queue URL) for delivery."""
    method, target_key, body_key = _API[service]
    request: dict[str, Any] = {target_key: target, body_key: body}
    if subject:
        request["Subject"] = " ".join(subject.split())[:SUBJECT_MAX]
    attrs = _attributes(attributes)
    if attrs:
        request["MessageAttributes"] = attrs
    if group_id:
        request["MessageGroupId"] = group_id

    def send() -> None:
        getattr(service_client(service, region_of(target)), method)(**request)

    delivery.submit(
        delivery.Message(service, target, send, session_id, hook, int(max_attempts), float(backoff))
    )


# --------------------------------------------------------------------------- feedback → SNS


def feedback_sns(
    original_func: Callable[..., Any],
    action: str,
    session_id: str | None,
    feedback: Mapping[str, Any] | None,
    *,
    topic_arn_good: str,
    topic_arn_bad: str,
    topic_arn_neutral: str,
    subject_prefix: str = "Feedback",
    max_attempts: int = 5,
    backoff: float = 0.5,
) -> Any:
    """After a feedback ``add`` succeeds, announce it on the topic its rating routes to.

    ``rating`` "up" → ``topic_arn_good``, "down" → ``topic_arn_bad``, anything else (None)
    → ``topic_arn_neutral``; a topic of ``"none"`` turns that route off.
    """
    result = original_func()
    if action != "add" or not isinstance(feedback, Mapping):
        return result
    route, word = RATINGS.get(feedback.get("rating"), RATINGS[None])
    topic = {"good": topic_arn_good, "bad": topic_arn_bad, "neutral": topic_arn_neutral}[route]
    if not topic or topic.lower() == DISABLED:
        return result
    comment = feedback.get("comment")
    _enqueue(
        "sns",
        topic,
        f"Session: {session_id}\n\n{'' if comment is None else comment}",
        {"session_id": session_id, "rating": word},
        session_id,
        "feedback_sns",
        max_attempts,
        backoff,
        subject=f"{subject_prefix} {word} on session {session_id}",
    )
    return result


# --------------------------------------------------------------------------- metadata → SQS


def metadata_sqs(
    original_func: Callable[..., Any],
    action: str,
    session_id: str | None,
    metadata: Mapping[str, Any] | None = None,
    keys: Iterable[str] | None = None,
    *,
    queue_url: str,
    metadata_fields: list[str] | None = None,
    max_attempts: int = 5,
    backoff: float = 0.5,
) -> Any:
    """After a metadata ``update``/``delete`` succeeds, send the changed fields to SQS.

    Only ``metadata_fields`` are sent (all when None); deleted fields are sent as null; a
    change that touches none of the fields sends nothing. ``get`` sends nothing.
    """
    result = original_func()
    if action == "update" and isinstance(metadata, Mapping):
        changed = dict(metadata)
    elif action == "delete" and keys is not None:
        changed = {k: None for k in ([keys] if isinstance(keys, str) else keys)}
    else:
        return result
    if metadata_fields is not None:
        wanted = set(metadata_fields)
        changed = {k: v for k, v in changed.items() if k in wanted}
    if not changed:
        return result
    body = {
        "session_id": session_id,
        "event_type": "metadata_update",
        "operation": action,
        "metadata": json_safe(changed),
        "timestamp": datetime.now(UTC).isoformat(),
    }
    _enqueue(
        "sqs",
        queue_url,
        json.dumps(body),
        {"session_id": session_id, "event_type": "metadata_update"},
        session_id,
        "metadata_sqs",
        max_attempts,
        backoff,
    )
    return result


# --------------------------------------------------------------------------- any event


def _event_message(event: dict[str, Any], result: Any, wrapped: bool) -> str:
    payload = json_safe(event)
    if wrapped:
        payload = {**payload, "result": json_safe(result)}
    return json.dumps(payload)


def _send_event(
    service: str,
    target: str,
    original_func: Callable[..., Any] | None,
    event: dict[str, Any],
    attributes: Mapping[str, Any] | None,
    max_attempts: int,
    backoff: float,
    **options: Any,
) -> Any:
    """``sns_publish``/``sqs_send``: run the operation (on a wrap event), then queue the event."""
    result = original_func() if original_func is not None else None
    sid = event.get("session_id")
    _enqueue(
        service,
        target,
        _event_message(event, result, original_func is not None),
        {**({"session_id": sid} if sid is not None else {}), **dict(attributes or {})},
        sid if isinstance(sid, str) else None,
        "sns_publish" if service == "sns" else "sqs_send",
        max_attempts,
        backoff,
        **options,
    )
    return result


def sns_publish(
    original_func: Callable[..., Any] | None = None,
    /,
    *,
    topic_arn: str,
    subject: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    max_attempts: int = 5,
    backoff: float = 0.5,
    **event: Any,
) -> Any:
    """Publish the event's arguments (JSON) to ``topic_arn``; works on any event.

    On a wrap event the operation runs first and its result is added as ``result``.
    """
    return _send_event(
        "sns", topic_arn, original_func, event, attributes, max_attempts, backoff, subject=subject
    )


def sqs_send(
    original_func: Callable[..., Any] | None = None,
    /,
    *,
    queue_url: str,
    attributes: Mapping[str, Any] | None = None,
    message_group_id: str | None = None,
    max_attempts: int = 5,
    backoff: float = 0.5,
    **event: Any,
) -> Any:
    """Send the event's arguments (JSON) to ``queue_url``; works on any event."""
    return _send_event(
        "sqs",
        queue_url,
        original_func,
        event,
        attributes,
        max_attempts,
        backoff,
        group_id=message_group_id,
    )


# --------------------------------------------------------------------------- load-time checks


def _topic(value: Any, key: str, allow_none: bool) -> Problems:
    if not isinstance(value, str) or not value:
        return [(key, f"expected an SNS topic ARN string, got {type(value).__name__}", None)]
    if allow_none and value.lower() == DISABLED:
        return []
    if not value.startswith("arn:") or value.count(":") < 5:
        hint = 'write "none" to turn this route off' if allow_none else None
        return [(key, "expected an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", hint)]
    return []


def _queue(value: Any, key: str) -> Problems:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        return [(key, "expected an SQS queue URL (https://sqs.REGION.amazonaws.com/...)", None)]
    return []


def _retry(bound: Mapping[str, Any]) -> Problems:
    out: Problems = []
    n = bound.get("max_attempts", 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        out.append(("max_attempts", "expected a whole number of attempts, at least 1", None))
    b = bound.get("backoff", 0)
    if isinstance(b, bool) or not isinstance(b, int | float) or b < 0:
        out.append(("backoff", "expected seconds (a number, at least 0)", None))
    return out


def _known(bound: Mapping[str, Any], allowed: set[str]) -> Problems:
    from ...kernel.errors import did_you_mean

    return [
        (k, f"{k!r} is not a parameter of this hook", did_you_mean(k, sorted(allowed)))
        for k in bound
        if k not in allowed
    ]


def _check_feedback(bound: Mapping[str, Any]) -> Problems:
    out: Problems = []
    for key in ("topic_arn_good", "topic_arn_bad", "topic_arn_neutral"):
        if key in bound:
            out += _topic(bound[key], key, allow_none=True)
    if not isinstance(bound.get("subject_prefix", ""), str):
        out.append(("subject_prefix", "expected a string", None))
    return out + _retry(bound)


def _check_metadata(bound: Mapping[str, Any]) -> Problems:
    out = _queue(bound["queue_url"], "queue_url") if "queue_url" in bound else []
    fields = bound.get("metadata_fields")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        out.append(("metadata_fields", "expected a list of field names (or leave it out)", None))
    return out + _retry(bound)


def _check_attributes(bound: Mapping[str, Any]) -> Problems:
    attrs = bound.get("attributes")
    if attrs is not None and not isinstance(attrs, Mapping):
        return [("attributes", "expected a mapping of attribute names to strings", None)]
    return []


def _check_sns(bound: Mapping[str, Any]) -> Problems:
    out = _known(bound, {"topic_arn", "subject", "attributes", "max_attempts", "backoff"})
    if "topic_arn" in bound:
        out += _topic(bound["topic_arn"], "topic_arn", allow_none=False)
    return out + _check_attributes(bound) + _retry(bound)


def _check_sqs(bound: Mapping[str, Any]) -> Problems:
    out = _known(bound, {"queue_url", "attributes", "message_group_id", "max_attempts", "backoff"})
    if "queue_url" in bound:
        out += _queue(bound["queue_url"], "queue_url")
    return out + _check_attributes(bound) + _retry(bound)


feedback_sns.check_with = _check_feedback  # type: ignore[attr-defined]
metadata_sqs.check_with = _check_metadata  # type: ignore[attr-defined]
sns_publish.check_with = _check_sns  # type: ignore[attr-defined]
sqs_send.check_with = _check_sqs  # type: ignore[attr-defined]
