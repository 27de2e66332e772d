"""Read and configuration calls, against the fake API."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_api import Answer

from model_performance import ApiError, PerformanceTracker
from model_performance.transport import parse_retry_after

METRICS_RESPONSE = {
    "model": "nba-game-predictor",
    "version": "raptor",
    "window": "7d",
    "predictions": 120,
    "labelled": 118,
    "metrics": {"accuracy": 0.64, "precision": None},
    "reasons": {"precision": "no predicted positives in the window"},
}


@pytest.fixture
def tracker(fake_api):
    tracker = PerformanceTracker(model_name="nba game", endpoint=fake_api.url + "/", sign=False, **{"backoff_base_s": 0.01})
    yield tracker
    tracker.close()


def query_of(path: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(path).query).items()}


def test_get_metrics_merges_metrics_map(fake_api, tracker):
    fake_api.script(Answer(200, METRICS_RESPONSE))
    metrics = tracker.get_metrics(time_window="7d")
    assert metrics["accuracy"] == 0.64
    assert metrics["predictions"] == 120
    assert metrics["precision"] is None
    assert metrics["metrics"] == METRICS_RESPONSE["metrics"]


def test_get_metrics_query(fake_api, tracker):
    fake_api.script(Answer(200, METRICS_RESPONSE))
    at = datetime(2023, 6, 13, tzinfo=timezone.utc)
    tracker.get_metrics(time_window="1d", version="raptor", segment="stage:finals", at=at)
    path = fake_api.requests[0].path
    assert urlsplit(path).path == "/v1/models/nba%20game/metrics"
    assert query_of(path) == {"window": "1d", "version": "raptor", "segment": "stage:finals", "at": "2023-06-13T00:00:00Z"}


def test_get_history_follows_pages(fake_api, tracker):
    fake_api.script(
        Answer(200, {"points": [{"end": "a", "value": 0.7}], "next": "token-1"}),
        Answer(200, {"points": [{"end": "b", "value": 0.6}], "next": None}),
    )
    points = tracker.get_history("roc_auc", time_window="1d")
    assert [point["end"] for point in points] == ["a", "b"]
    assert query_of(fake_api.requests[1].path)["next"] == "token-1"


def test_get_alerts_joins_pages(fake_api, tracker):
    fake_api.script(
        Answer(200, {"alerts": [{"monitor": "a"}], "current": {}, "next": "t"}),
        Answer(200, {"alerts": [{"monitor": "b"}], "current": {"a": {"state": "firing"}}, "next": None}),
    )
    alerts = tracker.get_alerts()
    assert [alert["monitor"] for alert in alerts["alerts"]] == ["a", "b"]
    assert alerts["current"] == {"a": {"state": "firing"}}


def test_unknown_model_raises_api_error(fake_api, tracker):
    fake_api.script(Answer(404, {"error": "model not found", "field": "model", "detail": "register it first"}))
    with pytest.raises(ApiError) as raised:
        tracker.get_metrics()
    assert raised.value.status == 404
    assert raised.value.field == "model"


def test_read_retries_503(fake_api, tracker):
    fake_api.script(Answer(503, {"error": "busy"}, {"Retry-After": "0"}), Answer(200, METRICS_RESPONSE))
    assert tracker.get_metrics()["accuracy"] == 0.64


def test_register_model_body(fake_api, tracker):
    fake_api.script(Answer(200, {"task": "binary"}))
    tracker.register_model("binary", threshold=0.5, segments=["stage"])
    request = fake_api.requests[0]
    assert request.method == "PUT"
    assert request.json() == {"task": "binary", "threshold": 0.5, "segments": ["stage"]}


def test_set_monitors_body(fake_api, tracker):
    rule = {"name": "accuracy-floor", "kind": "threshold", "metric": "accuracy", "window": "7d", "below": 0.6}
    fake_api.script(Answer(200, {"monitors": [rule]}))
    tracker.set_monitors([rule])
    request = fake_api.requests[0]
    assert urlsplit(request.path).path == "/v1/models/nba%20game/monitors"
    assert request.json() == {"monitors": [rule]}


def test_retry_after_seconds():
    assert parse_retry_after("3") == 3.0


def test_retry_after_http_date_in_past():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_retry_after_garbage_is_none():
    assert parse_retry_after("soon") is None
