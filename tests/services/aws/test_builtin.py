"""SNS feedback and SQS metadata built-ins against a real moto server: formats, routes, faults."""

from __future__ import annotations

import json
import threading
import time
import uuid

import boto3
import pytest

from hookrunner import HookRunner, ValidationError
from hookrunner import hooks as s3_hooks
from hookrunner.builtin import aws as builtin_aws
from hookrunner.services.aws import delivery
from hookrunner.services.aws.clients import service_client


def _queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _read(sqs, url: str, wait: int = 0) -> list[dict]:
    """Every message in the queue (deleted as read)."""
    out: list[dict] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait,
        ).get("Messages", [])
        if not got:
            return out
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        out.extend(got)


@pytest.fixture(autouse=True)
def _empty_outbox():
    """Each test starts with nothing queued: the delivery queue is one per process, and a
    message an earlier test left retrying against a dead endpoint would hold up this one's."""
    delivery.drain(0.0)
    yield


@pytest.fixture
def topics(aws):
    """Three SNS topics, each with an SQS queue subscribed, so what SNS sends can be read."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    tag = uuid.uuid4().hex[:8]
    out = {}
    for route in ("good", "bad", "neutral"):
        arn = sns.create_topic(Name=f"feedback-{route}-{tag}")["TopicArn"]
        url, qarn = _queue(sqs, f"feedback-{route}-{tag}")
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
        out[route] = (arn, url)
    return out


@pytest.fixture
def queue(aws):
    return _queue(boto3.client("sqs"), f"metadata-{uuid.uuid4().hex[:8]}")[0]


def _runner(project, hooks: str) -> HookRunner:
    return HookRunner.from_files(project.write("hooks.yaml", "version: 1\nhooks:\n" + hooks))


def _feedback_hooks(topics, neutral: str | None = None) -> str:
    return f"""
  - name: feedback_alerts
    event: session_feedback
    call: hookrunner.builtin.aws:feedback_sns
    with:
      topic_arn_good: {topics["good"][0]}
      topic_arn_bad: {topics["bad"][0]}
      topic_arn_neutral: {neutral or topics["neutral"][0]}
      subject_prefix: Virtual Agents Feedback
"""


def _add_feedback(runner: HookRunner, session_id: str, feedback: dict):
    stored: list[dict] = []

    def op(feedback=None, **_):
        stored.append(feedback)
        return len(stored)

    result = runner.wrap(
        "session_feedback", op, action="add", session_id=session_id, **{"feedback": feedback}
    )
    return result, stored


# --------------------------------------------------------------------------- SNS feedback


@pytest.mark.parametrize(
    ("rating", "route", "word"),
    [("up", "good", "positive"), ("down", "bad", "negative"), (None, "neutral", "neutral")],
)
def test_feedback_reaches_the_topic_of_its_rating(project, topics, rating, route, word):
    sqs = boto3.client("sqs")
    with _runner(project, _feedback_hooks(topics)) as runner:
        result, stored = _add_feedback(
            runner, "s-42", {"rating": rating, "comment": "Response was incomplete"}
        )
        assert result.ok and not result.vetoed and result.value == 1  # the operation's result
        assert stored == [{"rating": rating, "comment": "Response was incomplete"}]
    # close() drained the queue: the message is there now.
    for other in {"good", "bad", "neutral"} - {route}:
        assert _read(sqs, topics[other][1]) == []
    (msg,) = _read(sqs, topics[route][1])
    envelope = json.loads(msg["Body"])
    assert envelope["TopicArn"] == topics[route][0]
    assert envelope["Subject"] == f"Virtual Agents Feedback {word} on session s-42"
    assert envelope["Message"] == "Session: s-42\n\nResponse was incomplete"
    assert envelope["MessageAttributes"] == {
        "session_id": {"Type": "String", "Value": "s-42"},
        "rating": {"Type": "String", "Value": word},
    }


def test_a_none_route_sends_nothing(project, topics):
    sqs = boto3.client("sqs")
    before = delivery.OUTBOX.delivered
    with _runner(project, _feedback_hooks(topics, neutral="none")) as runner:
        result, stored = _add_feedback(runner, "s-1", {"comment": "meh"})
        assert result.value == 1 and stored
    assert delivery.OUTBOX.delivered == before
    for _, url in topics.values():
        assert _read(sqs, url) == []


def test_default_subject_prefix_and_failed_operation_sends_nothing(project, topics):
    sqs = boto3.client("sqs")
    hooks = _feedback_hooks(topics).replace("      subject_prefix: Virtual Agents Feedback\n", "")
    with _runner(project, hooks) as runner:

        def failing(**_):
            raise OSError("store down")

        with pytest.raises(OSError):
            runner.wrap(
                "session_feedback",
                failing,
                action="add",
                session_id="s-2",
                feedback={"rating": "up"},
            )
        _add_feedback(runner, "s-3", {"rating": "up", "comment": "ok"})
    (msg,) = _read(sqs, topics["good"][1])
    assert json.loads(msg["Body"])["Subject"] == "Feedback positive on session s-3"


# --------------------------------------------------------------------------- SQS metadata


def _metadata_hooks(queue: str, fields: str | None) -> str:
    extra = f"\n      metadata_fields: {fields}" if fields else ""
    return f"""
  - name: metadata_updates
    event: session_metadata
    call: hookrunner.builtin.aws:metadata_sqs
    with:
      queue_url: {queue}{extra}
"""


def _store_op(**_):
    return "stored"


def test_only_listed_fields_are_sent_and_deletes_send_nulls(project, queue):
    sqs = boto3.client("sqs")
    with _runner(project, _metadata_hooks(queue, "[status, agent_state]")) as runner:
        r = runner.wrap(
            "session_metadata",
            _store_op,
            action="update",
            session_id="s-7",
            metadata={"status": "processing", "agent_state": "thinking", "internal": 1},
        )
        assert r.value == "stored"
        delivery.drain()
        runner.wrap(
            "session_metadata",
            _store_op,
            action="update",
            session_id="s-7",
            metadata={"internal": 2},
        )  # touches no listed field: nothing sent
        runner.wrap("session_metadata", _store_op, action="get", session_id="s-7", keys=None)
        delivery.drain()
        runner.wrap(
            "session_metadata",
            _store_op,
            action="delete",
            session_id="s-7",
            keys=["status", "internal"],
        )
    msgs = _read(sqs, queue)
    assert len(msgs) == 2
    bodies = sorted((json.loads(m["Body"]) for m in msgs), key=lambda b: b["operation"])
    for m in msgs:
        assert m["MessageAttributes"] == {
            "session_id": {"StringValue": "s-7", "DataType": "String"},
            "event_type": {"StringValue": "metadata_update", "DataType": "String"},
        }
    delete, update = bodies
    assert list(update) == ["session_id", "event_type", "operation", "metadata", "timestamp"]
    assert update["metadata"] == {"status": "processing", "agent_state": "thinking"}
    assert (update["session_id"], update["event_type"], update["operation"]) == (
        "s-7",
        "metadata_update",
        "update",
    )
    assert delete["operation"] == "delete" and delete["metadata"] == {"status": None}
    assert update["timestamp"].endswith("+00:00")


def test_all_fields_when_no_filter(project, queue):
    sqs = boto3.client("sqs")
    with _runner(project, _metadata_hooks(queue, None)) as runner:
        runner.wrap(
            "session_metadata",
            _store_op,
            action="update",
            session_id="s-8",
            metadata={"a": 1, "b": [1, 2]},
        )
    (msg,) = _read(sqs, queue)
    assert json.loads(msg["Body"])["metadata"] == {"a": 1, "b": [1, 2]}


# --------------------------------------------------------------------------- any event


def test_sns_publish_and_sqs_send_on_any_event(project, topics, queue):
    sqs = boto3.client("sqs")
    hooks = f"""
  - name: edits_to_sns
    event: post_file_edit
    call: hookrunner.builtin.aws:sns_publish
    with: {{topic_arn: "{topics["good"][0]}", subject: "file edited", attributes: {{team: data}}}}
  - name: edits_to_sqs
    event: post_file_edit
    call: hookrunner.builtin.aws:sqs_send
    with: {{queue_url: "{queue}"}}
  - name: feedback_to_sqs
    event: session_feedback
    call: hookrunner.builtin.aws:sqs_send
    with: {{queue_url: "{queue}"}}
"""
    with _runner(project, hooks) as runner:
        r = runner.emit("post_file_edit", session_id="s-9", file_path="a.py", timestamp=None)
        assert r.ok and [h.name for h in r.results] == ["edits_to_sns", "edits_to_sqs"]
        assert (
            runner.wrap(
                "session_feedback", lambda **_: 7, action="add", session_id="s-9", feedback={"x": 1}
            ).value
            == 7
        )
    (sns_msg,) = _read(sqs, topics["good"][1])
    envelope = json.loads(sns_msg["Body"])
    assert envelope["Subject"] == "file edited"
    assert envelope["MessageAttributes"] == {
        "session_id": {"Type": "String", "Value": "s-9"},
        "team": {"Type": "String", "Value": "data"},
    }
    sent = json.loads(envelope["Message"])
    assert sent["file_path"] == "a.py" and sent["session_id"] == "s-9"
    assert sent["hook_type"] == "post_file_edit"
    bodies = [json.loads(m["Body"]) for m in _read(sqs, queue)]
    assert {b.get("file_path") for b in bodies} == {"a.py", None}
    wrapped = next(b for b in bodies if "result" in b)
    assert wrapped == {"action": "add", "session_id": "s-9", "feedback": {"x": 1}, "result": 7}


# --------------------------------------------------------------------------- validation


def test_a_missing_topic_is_a_validation_error_with_position(project):
    path = project.write(
        "hooks.yaml",
        """
        version: 1
        hooks:
          - name: alert
            event: on_pipeline_error
            call: hookrunner.builtin.aws:sns_publish
            with: {subject: failed}
        """,
    )
    with pytest.raises(ValidationError) as err:
        HookRunner.from_files(path)
    (problem,) = err.value.problems
    assert (problem.line, problem.column) == (5, 11)
    assert str(problem).startswith(f"{path}:5:11: hooks[0] 'alert' → call: parameter")
    assert "'topic_arn'" in problem.message and "`with:`" in problem.message


def test_validate_cli_reports_missing_topic_without_traceback(project, cli):
    project.write(
        "hooks.yaml",
        """
        version: 1
        hooks:
          - name: feedback_alerts
            event: session_feedback
            call: hookrunner.builtin.aws:feedback_sns
            with: {topic_arn_good: none, topic_arn_bad: none}
        """,
    )
    out = cli("validate", "hooks.yaml", cwd=project.root)
    assert out.returncode == 2, out.stderr
    text = out.stdout + out.stderr
    assert "hooks.yaml:5:11:" in text and "'topic_arn_neutral'" in text
    assert "Traceback" not in text


# --------------------------------------------------------------------------- faults


@pytest.fixture
def flaky(aws, monkeypatch):
    """A second moto endpoint (sharing the first's state) that tests can stop and restart."""
    from conftest import MotoEndpoint

    endpoint = MotoEndpoint()
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.url)
    yield endpoint
    endpoint.stop()


def test_endpoint_down_the_operation_succeeds_and_the_failure_is_recorded(
    project, topics, flaky, caplog
):
    failures: list[delivery.Failure] = []
    remove = delivery.add_listener(failures.append)
    flaky.stop()
    hooks = _feedback_hooks(topics) + "      max_attempts: 2\n      backoff: 0.05\n"
    try:
        with _runner(project, hooks) as runner:
            t0 = time.monotonic()
            result, stored = _add_feedback(runner, "s-down", {"rating": "down", "comment": "x"})
            assert time.monotonic() - t0 < 0.5  # enqueued, not sent inline
            assert result.ok and result.value == 1 and stored
    finally:
        remove()
    (failure,) = [f for f in failures if f.session_id == "s-down"]
    assert failure.service == "sns" and failure.target == topics["bad"][0]
    assert failure.attempts == 2 and "EndpointConnectionError" in failure.error
    assert failure.hook == "feedback_sns"
    assert "given up after 2 attempt(s)" in caplog.text
    assert "testing" not in caplog.text  # no credentials in logs


def test_endpoint_back_within_the_retry_window_delivers(project, topics, flaky, caplog):
    caplog.set_level("INFO", logger="hookrunner.delivery")
    sqs = boto3.client("sqs")  # the session endpoint shares moto's state
    flaky.stop()
    hooks = _feedback_hooks(topics) + "      max_attempts: 8\n      backoff: 0.1\n"
    failures: list[delivery.Failure] = []
    remove = delivery.add_listener(failures.append)
    try:
        with _runner(project, hooks) as runner:
            _add_feedback(runner, "s-back", {"rating": "up", "comment": "later"})
            timer = threading.Timer(0.4, flaky.start)
            timer.start()
            timer.join()
    finally:
        remove()
    assert [f for f in failures if f.session_id == "s-back"] == []
    assert "failed (attempt 1/8, EndpointConnectionError); retrying" in caplog.text
    (msg,) = _read(sqs, topics["good"][1])
    assert json.loads(msg["Body"])["Message"] == "Session: s-back\n\nlater"


def test_a_full_queue_drops_and_records_instead_of_blocking():
    outbox = delivery.Outbox(max_pending=1)
    failures: list[delivery.Failure] = []
    outbox.add_listener(failures.append)
    gate = threading.Event()
    assert outbox.submit(delivery.Message("sqs", "q/one", gate.wait, "s", "h"))
    assert not outbox.submit(delivery.Message("sqs", "q/two", lambda: None, "s", "h"))
    assert [f.target for f in failures] == ["q/two"] and "queue full" in failures[0].error
    gate.set()
    assert outbox.drain(5) == 0 and outbox.delivered == 1


def test_drain_is_bounded_and_records_what_it_gave_up():
    outbox = delivery.Outbox()
    failures: list[delivery.Failure] = []
    outbox.add_listener(failures.append)

    def fail():
        raise ConnectionError("down")

    outbox.submit(delivery.Message("sns", "arn:aws:sns:r:1:t", fail, "s", "h", 10, 5.0))
    t0 = time.monotonic()
    assert outbox.drain(0.3) == 1
    assert time.monotonic() - t0 < 2
    (failure,) = failures
    assert "drain deadline" in failure.error and failure.attempts == 1


def test_is_available_reflects_credentials(aws, monkeypatch):
    assert builtin_aws.is_feedback_sns_available() and builtin_aws.is_metadata_sqs_available()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert not builtin_aws.is_available()


# --------------------------------------------------------------------------- sessions


def test_a_session_drains_on_end_and_records_given_up_deliveries(project, topics, queue, flaky):
    from hookrunner.services.sessions.session import Session
    from hookrunner.services.sessions.store import Store

    sqs = boto3.client("sqs")
    hooks = (
        _feedback_hooks(topics)
        + "      max_attempts: 2\n      backoff: 0.05\n"
        + _metadata_hooks(queue, "[status]")
    )
    store = Store(project.root / ".hookrunner" / "sessions.db")
    runner = _runner(project, hooks)
    try:
        with Session(runner, store, session_id="s-live") as s:
            s.update_metadata({"status": "running", "secret_field": 1})
        # Ended: the queue was drained before the runner closed.
        (msg,) = _read(sqs, queue)
        assert json.loads(msg["Body"])["metadata"] == {"status": "running"}

        flaky.stop()
        with Session(runner, store, session_id="s-dead") as s:
            assert s.add_feedback({"rating": "down", "comment": "late"}).value == 1
        rows = [c for c in store.hook_calls("s-dead") if c["event"] == "delivery"]
        assert [(r["hook"], r["ok"]) for r in rows] == [("feedback_sns", False)]
        assert rows[0]["error"] == (
            f"sns to {topics['bad'][0]}: EndpointConnectionError (2 attempt(s))"
        )
        assert store.feedback("s-dead")[0]["comment"] == "late"  # the operation succeeded
        assert [c for c in store.hook_calls("s-live") if c["event"] == "delivery"] == []
    finally:
        runner.close()
        store.close()


def test_with_values_are_checked_at_load_time_with_positions(project):
    path = project.write(
        "hooks.yaml",
        """
        version: 1
        hooks:
          - name: feedback_alerts
            event: session_feedback
            call: hookrunner.builtin.aws:feedback_sns
            with:
              topic_arn_good: none
              topic_arn_bad: my-topic
              topic_arn_neutral: none
              max_attempts: 0
          - name: metadata_updates
            event: session_metadata
            call: hookrunner.builtin.aws:metadata_sqs
            with: {queue_url: queue, metadata_fields: status}
          - name: alert
            event: on_pipeline_error
            call: hookrunner.builtin.aws:sns_publish
            with: {topic_arn: "arn:aws:sns:us-east-1:123456789012:alerts", subjct: oops}
        """,
    )
    with pytest.raises(ValidationError) as err:
        HookRunner.from_files(path)
    got = [(p.line, p.column, p.crumb(), p.message, p.hint) for p in err.value.problems]
    assert got == [
        (
            8,
            22,
            "hooks[0] 'feedback_alerts' → with.topic_arn_bad",
            "expected an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
            'write "none" to turn this route off',
        ),
        (
            10,
            21,
            "hooks[0] 'feedback_alerts' → with.max_attempts",
            "expected a whole number of attempts, at least 1",
            None,
        ),
        (
            14,
            23,
            "hooks[1] 'metadata_updates' → with.queue_url",
            "expected an SQS queue URL (https://sqs.REGION.amazonaws.com/...)",
            None,
        ),
        (
            14,
            47,
            "hooks[1] 'metadata_updates' → with.metadata_fields",
            "expected a list of field names (or leave it out)",
            None,
        ),
        (
            18,
            76,
            "hooks[2] 'alert' → with.subjct",
            "'subjct' is not a parameter of this hook",
            "did you mean 'subject'?",
        ),
    ]


def test_service_clients_follow_the_whole_aws_environment(aws, monkeypatch):
    s3_hooks.clear_client_cache()
    first = service_client("sns", "us-east-1")
    assert service_client("sns", "us-east-1") is first
    assert service_client("sqs", "us-east-1") is not first
    # Rotated temporary credentials, another region or config file: a new client each time.
    changes = [
        ("AWS_SESSION_TOKEN", "token-2"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
        ("AWS_ENDPOINT_URL_SNS", aws.url),
    ]
    clients = [first]
    for name, value in changes:
        monkeypatch.setenv(name, value)
        client = service_client("sns", "us-east-1")
        assert all(client is not c for c in clients), name
        assert service_client("sns", "us-east-1") is client
        clients.append(client)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", aws.url)  # another service's endpoint
    assert service_client("sns", "us-east-1") is clients[-1]
    s3_hooks.clear_client_cache()
