"""Pipelines reading and writing ``s3://`` datasets against a real moto server."""

from __future__ import annotations

import json
import pickle
import uuid

import boto3
import pytest
from sources import source

from hookrunner import hooks as s3_hooks
from hookrunner.pipeline import RunOptions, run

NODES = """
def clean(rows, threshold):
    return [dict(r, amount=float(r["amount"])) for r in rows if float(r["amount"]) >= threshold]

def summarise(rows):
    return {"count": len(rows), "total": sum(r["amount"] for r in rows)}, {"rows": len(rows)}
"""

SLOT = source("s3_datasets_slot")


@pytest.fixture(autouse=True)
def _fresh_slot():
    s3_hooks.clear_client_cache()
    yield
    s3_hooks.clear_client_cache()


@pytest.fixture
def bucket(aws):
    name = f"p-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="in/sales.csv", Body=b"id,amount\n1,5\n2,50\n3,70\n")
    return name


def _pipeline(project, bucket: str, hooks: str = "hooks: []") -> str:
    nodes = project.module(NODES)
    project.write("hooks.yaml", f"version: 1\n{hooks}\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{threshold: 10}}
        catalog:
          sales: {{type: csv, path: "s3://{bucket}/in/sales.csv"}}
          clean_sales: {{type: pickle, path: "s3://{bucket}/work/clean.pkl"}}
          report: {{type: json, path: "s3://{bucket}/out/report.json"}}
          stats: {{type: yaml, path: "s3://{bucket}/out/stats.yaml"}}
        nodes:
          - name: clean
            func: {nodes}:clean
            inputs: [sales, "params:threshold"]
            outputs: clean_sales
          - name: summarise
            func: {nodes}:summarise
            inputs: clean_sales
            outputs: [report, stats]
        """,
    )
    return nodes


def test_a_pipeline_writes_and_reads_s3_datasets_seen_by_an_independent_client(
    project, bucket, cli
):
    _pipeline(project, bucket)
    out = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert out.returncode == 0, out.stdout + out.stderr
    s3 = boto3.client("s3")
    report = json.loads(s3.get_object(Bucket=bucket, Key="out/report.json")["Body"].read())
    assert report == {"count": 2, "total": 120.0}
    clean = pickle.loads(s3.get_object(Bucket=bucket, Key="work/clean.pkl")["Body"].read())
    assert [r["id"] for r in clean] == ["2", "3"]
    assert s3.get_object(Bucket=bucket, Key="out/stats.yaml")["Body"].read() == b"rows: 2\n"


def test_a_manifest_filled_slot_is_used_by_datasets(project, bucket, aws, monkeypatch):
    slot = project.module(SLOT)
    log = project.root / "slot.log"
    monkeypatch.setenv("SLOT_LOG", str(log))
    monkeypatch.setenv("DEV_S3_ENDPOINT", aws.url)
    _pipeline(
        project,
        bucket,
        f"hooks:\n  - name: dev_s3\n    event: build_s3_client\n    call: {slot}:build",
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # only the slot knows moto
    result = run(RunOptions(pipeline=project.root / "pipeline.yaml"))
    assert result.exit_code == 0, result.error
    assert len(log.read_text().splitlines()) == 1  # one cached client for the whole run
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    s3 = boto3.client("s3")
    assert json.loads(s3.get_object(Bucket=bucket, Key="out/report.json")["Body"].read()) == {
        "count": 2,
        "total": 120.0,
    }
    # The run's runner is closed: the slot is empty again.
    assert s3_hooks.current_builder()[0] == "default"


def test_a_missing_object_fails_the_run_naming_dataset_uri_and_code(project, bucket, cli):
    _pipeline(project, bucket)
    boto3.client("s3").delete_object(Bucket=bucket, Key="in/sales.csv")
    out = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert out.returncode == 1
    text = out.stdout + out.stderr
    assert "Traceback" not in text
    assert "'sales'" in text and f"s3://{bucket}/in/sales.csv" in text and "NoSuchKey" in text


def test_a_failed_run_alerts_through_sns(project, bucket, cli):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=f"alerts-{uuid.uuid4().hex[:8]}")["TopicArn"]
    url = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    _pipeline(
        project,
        bucket,
        "hooks:\n  - name: alert\n    event: on_pipeline_error\n"
        "    call: hookrunner.builtin.aws:sns_publish\n"
        f'    with: {{topic_arn: "{topic}", subject: pipeline failed}}',
    )
    boto3.client("s3").delete_object(Bucket=bucket, Key="in/sales.csv")
    out = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert out.returncode == 1
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])
    assert len(msgs) == 1
    envelope = json.loads(msgs[0]["Body"])
    assert envelope["Subject"] == "pipeline failed"
    sent = json.loads(envelope["Message"])
    assert "NoSuchKey" in sent["error"] and set(sent) >= {"error", "run_params"}
