"""The client against a real `mpt serve` backed by the local emulator."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fake_api import Answer, FakeApi

from model_performance import ApiError, PerformanceTracker

GAME_TIME = datetime(2023, 6, 12, 17, 0, tzinfo=timezone.utc)


def unique_model() -> str:
    return f"client-{uuid.uuid4().hex[:10]}"


def tracker_for(url: str, model: str, **options) -> PerformanceTracker:
    settings = {"sign": False, "flush_interval_s": 60.0, "backoff_base_s": 0.01, "backoff_max_s": 0.05, **options}
    return PerformanceTracker(model_name=model, endpoint=url, **settings)


def test_predictions_and_actuals_stored(api_url):
    tracker = tracker_for(api_url, unique_model())
    for i in range(20):
        tracker.log_prediction(
            model_version="v1",
            prediction=0.1 + i * 0.04,
            timestamp=GAME_TIME + timedelta(minutes=i),
            prediction_id=f"g-{i}",
            latency_ms=12.5,
            segment={"stage": "finals"},
        )
    for i in range(10):
        tracker.log_actual(prediction_id=f"g-{i}", actual=i % 2)
    assert tracker.flush(timeout=30)
    stats = tracker.stats
    tracker.close()
    assert stats.sent == 30
    assert stats.rejected == 0
    assert stats.failed == 0


def test_invalid_prediction_rejected_by_api(api_url):
    tracker = tracker_for(api_url, unique_model())
    tracker.register_model("binary")
    tracker.log_prediction(model_version="v1", prediction=0.4, timestamp=GAME_TIME, prediction_id="ok")
    tracker.log_prediction(model_version="v1", prediction=1.7, timestamp=GAME_TIME, prediction_id="bad")
    tracker.close()
    assert tracker.stats.sent == 1
    assert tracker.stats.rejected == 1


def test_resending_same_prediction_counts_sent(api_url):
    model = unique_model()
    for _ in range(2):
        tracker = tracker_for(api_url, model)
        tracker.log_prediction(model_version="v1", prediction=0.4, timestamp=GAME_TIME, prediction_id="same")
        tracker.close()
        assert tracker.stats.sent == 1


def test_conflicting_actual_rejected(api_url):
    tracker = tracker_for(api_url, unique_model())
    tracker.log_prediction(model_version="v1", prediction=0.4, actual=1, timestamp=GAME_TIME, prediction_id="g-1")
    tracker.flush(timeout=30)
    tracker.log_actual(prediction_id="g-1", actual=0)
    tracker.close()
    assert tracker.stats.rejected == 1


def test_batches_reach_server_through_proxy(api_url):
    with FakeApi(upstream=api_url) as proxy:
        tracker = tracker_for(proxy.url, unique_model(), batch_size=25)
        for i in range(60):
            tracker.log_prediction(model_version="v1", prediction=0.5, timestamp=GAME_TIME, prediction_id=f"g-{i}")
        tracker.close()
        assert len(proxy.posted()) == 3
    assert tracker.stats.sent == 60


def test_503_retried_then_stored(api_url):
    with FakeApi(upstream=api_url) as proxy:
        proxy.script(Answer(503, {"error": "storage unavailable"}, {"Retry-After": "0"}))
        tracker = tracker_for(proxy.url, unique_model())
        for i in range(5):
            tracker.log_prediction(model_version="v1", prediction=0.5, timestamp=GAME_TIME, prediction_id=f"g-{i}")
        tracker.close()
        assert len(proxy.posted()) == 2
    assert tracker.stats.sent == 5


def test_register_model_then_read_back(api_url):
    tracker = tracker_for(api_url, unique_model())
    answer = tracker.register_model("binary", threshold=0.6, segments=["stage"])
    tracker.close()
    assert answer["task"] == "binary"


def test_unknown_model_metrics_raise_404(api_url):
    tracker = tracker_for(api_url, unique_model())
    with pytest.raises(ApiError) as raised:
        tracker.get_metrics(time_window="7d")
    tracker.close()
    assert raised.value.status == 404


def test_metrics_after_scheduled_run(api_url, run_tick):
    tracker = tracker_for(api_url, unique_model())
    tracker.register_model("binary", threshold=0.5)
    # Three hours before the current hour, so the records sit inside the 1d window ending at it.
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    rows = [(0.9, 1), (0.8, 1), (0.7, 0), (0.4, 1), (0.3, 0), (0.2, 0), (0.65, 1), (0.55, 0)]
    for i, (score, _) in enumerate(rows):
        tracker.log_prediction(
            model_version="v1", prediction=score, timestamp=start + timedelta(minutes=5 * i), prediction_id=f"g-{i}"
        )
    tracker.log_prediction(model_version="v1", prediction=0.5, timestamp=start, prediction_id="g-unlabelled")
    assert tracker.flush(timeout=30)
    for i, (_, outcome) in enumerate(rows):
        tracker.log_actual(prediction_id=f"g-{i}", actual=outcome)
    assert tracker.flush(timeout=30)

    run_tick()
    metrics = tracker.get_metrics(time_window="1d", version="v1")
    history = tracker.get_history("accuracy", time_window="1d", version="v1")
    tracker.close()

    expected_accuracy = sum((score >= 0.5) == (outcome == 1) for score, outcome in rows) / len(rows)
    assert metrics["predictions"] == len(rows) + 1
    assert metrics["labelled"] == len(rows)
    assert metrics["accuracy"] == pytest.approx(expected_accuracy, abs=1e-12)
    assert metrics["metrics"]["accuracy"] == metrics["accuracy"]
    assert [point["value"] for point in history][-1] == pytest.approx(expected_accuracy, abs=1e-12)
