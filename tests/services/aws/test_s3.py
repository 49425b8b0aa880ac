"""The S3 client slot and ``s3://`` storage, against a real moto server over HTTP."""

from __future__ import annotations

import http.server
import threading
import uuid

import boto3
import pytest
from sources import source

from hookrunner import HookRunner
from hookrunner import hooks as s3_hooks
from hookrunner.services import storage
from hookrunner.services.aws import slot
from hookrunner.services.aws.s3 import AwsError


@pytest.fixture(autouse=True)
def _fresh_slot():
    s3_hooks.set_build_s3_client_hook(None)
    s3_hooks.clear_client_cache()
    yield
    s3_hooks.set_build_s3_client_hook(None)
    s3_hooks.clear_client_cache()


@pytest.fixture
def bucket(aws):
    name = f"b-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def recording_builder(calls: list, tag: str):
    def build(session_kwargs, client_kwargs):
        calls.append(tag)
        return boto3.session.Session(**session_kwargs).client("s3", **client_kwargs)

    return build


# --------------------------------------------------------------------------- the API


def test_set_returns_previous_and_none_restores_default():
    assert s3_hooks.get_build_s3_client_hook() is None
    first = recording_builder([], "first")
    second = recording_builder([], "second")
    assert s3_hooks.set_build_s3_client_hook(first) is None
    assert s3_hooks.set_build_s3_client_hook(second) is first
    assert s3_hooks.get_build_s3_client_hook() is second
    assert s3_hooks.set_build_s3_client_hook(None) is second
    assert s3_hooks.get_build_s3_client_hook() is None
    assert s3_hooks.current_builder() == ("default", s3_hooks.default_build_s3_client)


def test_set_rejects_a_non_callable():
    with pytest.raises(TypeError, match="callable"):
        s3_hooks.set_build_s3_client_hook("boto3")  # type: ignore[arg-type]


def test_temporary_override_restores_on_exit_even_after_an_error():
    outer = recording_builder([], "outer")
    inner = recording_builder([], "inner")
    s3_hooks.set_build_s3_client_hook(outer)
    with pytest.raises(RuntimeError):
        with s3_hooks.override_build_s3_client(inner) as previous:
            assert previous is outer
            assert s3_hooks.get_build_s3_client_hook() is inner
            raise RuntimeError("boom")
    assert s3_hooks.get_build_s3_client_hook() is outer


def test_storage_uses_the_api_hook_and_an_independent_client_sees_the_object(bucket):
    calls: list[str] = []
    s3_hooks.set_build_s3_client_hook(recording_builder(calls, "api"))
    uri = f"s3://{bucket}/dir/data.json"
    storage.write_bytes(uri, b'{"a": 1}')
    assert storage.read_bytes(uri) == b'{"a": 1}'
    assert storage.exists(uri)
    assert not storage.exists(f"s3://{bucket}/dir/other.json")
    assert calls == ["api"]  # one client, cached for every later access
    body = boto3.client("s3").get_object(Bucket=bucket, Key="dir/data.json")["Body"].read()
    assert body == b'{"a": 1}'


def test_clients_are_cached_per_builder_and_arguments_and_built_once_across_threads(aws):
    calls: list[str] = []
    s3_hooks.set_build_s3_client_hook(recording_builder(calls, "api"))
    barrier = threading.Barrier(8)
    got: list[object] = []

    def grab() -> None:
        barrier.wait()
        got.append(s3_hooks.s3_client())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in got}) == 1 and calls == ["api"]
    other = s3_hooks.s3_client(client_kwargs={"region_name": "eu-west-1"})
    assert other is not got[0] and other.meta.region_name == "eu-west-1"
    assert s3_hooks.s3_client(client_kwargs={"region_name": "eu-west-1"}) is other
    assert calls == ["api", "api"]


def test_default_builder_honours_aws_endpoint_url(bucket, aws):
    client = s3_hooks.s3_client()
    assert client.meta.endpoint_url == aws.url
    storage.write_bytes(f"s3://{bucket}/k.txt", b"x")
    assert storage.read_bytes(f"s3://{bucket}/k.txt") == b"x"


# --------------------------------------------------------------------------- manifest slot

SLOT_MODULE = source("s3_slot_module")


def test_a_manifest_filled_slot_wins_while_its_runner_is_open(project, bucket, aws, monkeypatch):
    mod = project.module(SLOT_MODULE)
    monkeypatch.setenv("DEV_S3_ENDPOINT", aws.url)
    # The process default would fail: prove the manifest's builder is the one used.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    manifest = project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: dev_s3
            event: build_s3_client
            call: {mod}:build
        """,
    )
    api_calls: list[str] = []
    s3_hooks.set_build_s3_client_hook(recording_builder(api_calls, "api"))
    import importlib

    with HookRunner.from_files(manifest) as runner:
        assert s3_hooks.current_builder()[0] == "manifest"
        storage.write_bytes(f"s3://{bucket}/m.txt", b"via manifest")
        assert storage.read_bytes(f"s3://{bucket}/m.txt") == b"via manifest"
        assert runner.emit(
            "build_s3_client", session_kwargs={}, client_kwargs={}
        ).value.meta.endpoint_url == (aws.url)
    assert importlib.import_module(mod).CALLS[0] == {}
    assert api_calls == []
    # Closed: the process-wide hook applies again.
    assert s3_hooks.current_builder() == ("api", s3_hooks.get_build_s3_client_hook())
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    assert storage.read_bytes(f"s3://{bucket}/m.txt") == b"via manifest"
    assert api_calls == ["api"]


def test_the_slot_default_is_the_process_hook(project, aws):
    manifest = project.write("hooks.yaml", "version: 1\nhooks: []\n")
    calls: list[str] = []
    s3_hooks.set_build_s3_client_hook(recording_builder(calls, "api"))
    with HookRunner.from_files(manifest) as runner:
        client = runner.emit("build_s3_client", session_kwargs={}, client_kwargs={}).value
    assert calls == ["api"] and client.meta.endpoint_url == aws.url


# --------------------------------------------------------------------------- errors


def test_missing_bucket_and_key_name_the_uri_and_the_aws_code(bucket):
    with pytest.raises(AwsError) as missing_bucket:
        storage.read_bytes("s3://no-such-bucket-here/x.json")
    assert missing_bucket.value.code == "NoSuchBucket"
    assert "s3://no-such-bucket-here/x.json" in str(missing_bucket.value)
    assert "'no-such-bucket-here' does not exist" in str(missing_bucket.value)
    with pytest.raises(AwsError) as missing_key:
        storage.read_bytes(f"s3://{bucket}/absent.json")
    assert missing_key.value.code == "NoSuchKey"
    assert f"s3://{bucket}/absent.json: no such object (AWS error NoSuchKey)" in str(
        missing_key.value
    )
    with pytest.raises(AwsError) as no_write:
        storage.write_bytes("s3://no-such-bucket-here/y.json", b"{}")
    assert no_write.value.code == "NoSuchBucket"


class _Refusing(http.server.BaseHTTPRequestHandler):
    """An S3-compatible endpoint that rejects every request with a fixed AWS error."""

    code = "AccessDenied"
    status = 403

    def _refuse(self) -> None:
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{self.code}</Code>"
            f"<Message>refused</Message><RequestId>1</RequestId></Error>"
        ).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDenied", "access denied"),
        ("InvalidAccessKeyId", "the AWS credentials were rejected"),
    ],
)
def test_denied_and_bad_credentials_are_clear(aws, monkeypatch, code, expected):
    handler = type("H", (_Refusing,), {"code": code})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(AwsError) as err:
            storage.read_bytes("s3://locked/secret.json")
        assert err.value.code == code
        assert str(err.value).startswith(f"s3://locked/secret.json: {expected} (AWS error {code})")
        with pytest.raises(AwsError) as err:
            storage.write_bytes("s3://locked/secret.json", b"1")
        assert err.value.code == code
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_endpoint_is_an_aws_error(aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    s3_hooks.set_build_s3_client_hook(
        lambda sk, ck: boto3.session.Session(**sk).client(
            "s3", config=boto3.session.Config(retries={"total_max_attempts": 1}), **ck
        )
    )
    with pytest.raises(AwsError) as err:
        storage.read_bytes("s3://any/x")
    assert err.value.code == "EndpointConnectionError"


def test_a_failing_manifest_builder_falls_back_to_the_process_hook(project, bucket):
    mod = project.module("def build(session_kwargs, client_kwargs):\n    raise OSError('no vpn')\n")
    manifest = project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - name: broken\n    event: build_s3_client\n    call: {mod}:build\n",
    )
    calls: list[str] = []
    s3_hooks.set_build_s3_client_hook(recording_builder(calls, "api"))
    seen = []
    with HookRunner.from_files(manifest) as runner:
        runner.set_observer(seen.append)
        storage.write_bytes(f"s3://{bucket}/f.txt", b"fallback")
    assert calls == ["api"]
    (result,) = [r for r in seen if r.event == "build_s3_client"]
    assert [(h.name, h.ok, str(h.error)) for h in result.results] == [("broken", False, "no vpn")]
    assert boto3.client("s3").get_object(Bucket=bucket, Key="f.txt")["Body"].read() == b"fallback"


def test_reloading_a_manifest_filled_slot_keeps_clients_of_the_live_plan_only(
    project, bucket, aws, monkeypatch
):
    mod = project.module(SLOT_MODULE)
    monkeypatch.setenv("DEV_S3_ENDPOINT", aws.url)
    manifest = project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - name: dev_s3\n    event: build_s3_client\n    call: {mod}:build\n",
    )

    def manifest_plans() -> list[object]:
        return [k[1] for k in slot._clients if k[0] == "manifest"]

    seen: list[object] = []
    with HookRunner.from_files(manifest) as runner:
        for n in range(4):
            if n:
                runner.reload()
            plan = runner.registry.plans["build_s3_client"]
            assert all(plan is not old for old in seen)  # every reload makes a new plan
            seen.append(plan)
            storage.write_bytes(f"s3://{bucket}/r{n}.txt", b"x")
            assert storage.read_bytes(f"s3://{bucket}/r{n}.txt") == b"x"
            # One client, built by the live plan; none kept for the retired ones.
            assert len(manifest_plans()) == 1 and manifest_plans()[0] is plan
    assert manifest_plans() == []
