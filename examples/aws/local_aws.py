"""Prepare and inspect the local AWS of the example (a moto server; see README.md).

python local_aws.py setup    # bucket + input CSV, alert topic with a queue subscribed
python local_aws.py show     # the totals the pipeline wrote to S3
python local_aws.py alerts   # alerts published to SNS, read back from the queue
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import boto3

ENDPOINT = os.environ.get("DEV_S3_ENDPOINT", "http://127.0.0.1:5000")
BUCKET = os.environ.get("EXAMPLE_BUCKET", "hookrunner-example")
HERE = Path(__file__).resolve().parent


def client(service: str):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1")


def queue_url() -> str:
    return client("sqs").get_queue_url(QueueName="pipeline-alerts")["QueueUrl"]


def setup() -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="in/sales.csv", Body=(HERE / "data/sales.csv").read_bytes())
    sns, sqs = client("sns"), client("sqs")
    topic = sns.create_topic(Name="pipeline-alerts")["TopicArn"]
    url = sqs.create_queue(QueueName="pipeline-alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    print(f"bucket s3://{BUCKET} with in/sales.csv; topic {topic} → queue {url}")


def show() -> None:
    body = client("s3").get_object(Bucket=BUCKET, Key="out/totals.json")["Body"].read()
    print(json.dumps(json.loads(body), indent=2))


def alerts() -> None:
    sqs = client("sqs")
    got = sqs.receive_message(QueueUrl=queue_url(), MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for m in got.get("Messages", []):
        envelope = json.loads(m["Body"])
        print(f"{envelope['Subject']}: {json.loads(envelope['Message'])['error']}")
        sqs.delete_message(QueueUrl=queue_url(), ReceiptHandle=m["ReceiptHandle"])


if __name__ == "__main__":
    {"setup": setup, "show": show, "alerts": alerts}[
        sys.argv[1] if len(sys.argv) > 1 else "setup"
    ]()
