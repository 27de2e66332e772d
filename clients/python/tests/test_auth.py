"""API key and SigV4 headers."""

from __future__ import annotations

import pytest

from model_performance import PerformanceTracker
from model_performance.auth import region_from_endpoint

AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def dummy_credentials(no_aws_credentials, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")


def send_one(tracker: PerformanceTracker) -> None:
    tracker.log_prediction(model_version="v1", prediction=0.5, prediction_id="g-1")
    tracker.close()


def test_api_key_sent_as_header(fake_api, no_aws_credentials):
    tracker = PerformanceTracker(model_name="m", endpoint=fake_api.url, api_key="key-123")
    send_one(tracker)
    headers = fake_api.posted()[0].headers
    assert headers["x-api-key"] == "key-123"
    assert "authorization" not in headers


def test_sigv4_headers_with_credentials(fake_api, dummy_credentials):
    tracker = PerformanceTracker(model_name="m", endpoint=fake_api.url)
    send_one(tracker)
    headers = fake_api.posted()[0].headers
    authorization = headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "x-amz-date" in headers
    assert headers["x-amz-security-token"] == "session-token"


def test_sigv4_and_api_key_together(fake_api, dummy_credentials):
    tracker = PerformanceTracker(model_name="m", endpoint=fake_api.url, api_key="key-123")
    send_one(tracker)
    headers = fake_api.posted()[0].headers
    assert headers["x-api-key"] == "key-123"
    assert "x-api-key" in headers["authorization"]


def test_sign_false_sends_no_signature(fake_api, dummy_credentials):
    tracker = PerformanceTracker(model_name="m", endpoint=fake_api.url, sign=False)
    send_one(tracker)
    assert "authorization" not in fake_api.posted()[0].headers


def test_no_credentials_sends_no_signature(fake_api, no_aws_credentials):
    tracker = PerformanceTracker(model_name="m", endpoint=fake_api.url)
    send_one(tracker)
    assert "authorization" not in fake_api.posted()[0].headers


def test_sign_true_without_credentials_raises(fake_api, no_aws_credentials):
    with pytest.raises(ValueError, match="no AWS credentials"):
        PerformanceTracker(model_name="m", endpoint=fake_api.url, sign=True)


def test_region_from_execute_api_endpoint():
    assert region_from_endpoint("https://abc123.execute-api.ap-southeast-2.amazonaws.com/Prod") == "ap-southeast-2"


def test_region_from_other_endpoint_is_none():
    assert region_from_endpoint("http://127.0.0.1:8080") is None
