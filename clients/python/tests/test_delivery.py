"""Batching, retries, drops and closing, against the fake API."""

from __future__ import annotations

import logging
import math
import socket
import time
from datetime import datetime, timezone

from fake_api import Answer, FakeApi, Recorded

from model_performance import PerformanceTracker
from model_performance.records import MAX_BODY_BYTES

FAST_RETRIES = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}


def tracker_for(api: FakeApi, **options) -> PerformanceTracker:
    settings = {"sign": False, "flush_interval_s": 60.0, **FAST_RETRIES, **options}
    return PerformanceTracker(model_name="nba-game-predictor", endpoint=api.url, **settings)


def log_many(tracker: PerformanceTracker, count: int, prefix: str = "g") -> None:
    for i in range(count):
        tracker.log_prediction(model_version="v1", prediction=0.5, prediction_id=f"{prefix}-{i}")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_batches_split_at_batch_size(fake_api):
    tracker = tracker_for(fake_api, batch_size=100)
    log_many(tracker, 250)
    assert tracker.flush(timeout=10)
    sizes = [len(request.records()) for request in fake_api.posted()]
    assert sizes == [100, 100, 50]
    assert tracker.stats.sent == 250
    tracker.close()


def test_batch_body_shape(fake_api):
    tracker = tracker_for(fake_api)
    when = datetime(2023, 6, 12, 17, 0, tzinfo=timezone.utc)
    tracker.log_prediction(
        model_version="raptor",
        prediction=0.64,
        timestamp=when,
        prediction_id="2023-06-12-DEN-MIA",
        latency_ms=12.5,
        segment={"stage": "finals"},
        bet={"side": 1, "odds": 1.85, "stake": 10.0},
    )
    tracker.close()
    request = fake_api.posted()[0]
    assert request.path == "/v1/predictions"
    assert request.json()["model"] == "nba-game-predictor"
    assert request.records() == [
        {
            "id": "2023-06-12-DEN-MIA",
            "version": "raptor",
            "timestamp": "2023-06-12T17:00:00Z",
            "prediction": 0.64,
            "latency_ms": 12.5,
            "segment": {"stage": "finals"},
            "bet": {"side": 1, "odds": 1.85, "stake": 10.0},
        }
    ]


def test_actuals_sent_after_predictions(fake_api):
    tracker = tracker_for(fake_api)
    tracker.log_actual(prediction_id="g-1", actual=1)
    tracker.log_prediction(model_version="v1", prediction=0.7, prediction_id="g-1")
    tracker.close()
    paths = [request.path for request in fake_api.posted()]
    assert paths == ["/v1/predictions", "/v1/actuals"]


def test_large_records_split_by_body_size(fake_api):
    tracker = tracker_for(fake_api)
    features = {f"f{i}": "x" * 100 for i in range(20)}
    for i in range(1000):
        tracker.log_prediction(model_version="v1", prediction=0.5, prediction_id=f"g-{i}", features=features)
    tracker.close()
    posted = fake_api.posted()
    assert len(posted) > 1
    assert max(len(request.body) for request in posted) <= MAX_BODY_BYTES
    assert sum(len(request.records()) for request in posted) == 1000


def test_retries_503_then_stores(fake_api):
    fake_api.script(Answer(503, {"error": "storage unavailable"}), Answer(503, {"error": "storage unavailable"}))
    tracker = tracker_for(fake_api)
    log_many(tracker, 10)
    tracker.close()
    assert len(fake_api.posted()) == 3
    assert tracker.stats.sent == 10


def test_retry_after_is_honoured(fake_api):
    fake_api.script(Answer(503, {"error": "storage unavailable"}, {"Retry-After": "1"}))
    tracker = tracker_for(fake_api)
    log_many(tracker, 1)
    started = time.monotonic()
    tracker.flush(timeout=10)
    assert time.monotonic() - started >= 1.0
    assert tracker.stats.sent == 1
    tracker.close()


def test_retries_exhausted_count_failed(fake_api):
    fake_api.script(*[Answer(500, {"error": "internal"})] * 3)
    tracker = tracker_for(fake_api, max_retries=2)
    log_many(tracker, 7)
    tracker.close()
    assert len(fake_api.posted()) == 3
    assert tracker.stats.failed == 7


def test_unreachable_api_counts_failed():
    tracker = PerformanceTracker(
        model_name="m", endpoint=f"http://127.0.0.1:{closed_port()}", sign=False, max_retries=1, **FAST_RETRIES
    )
    log_many(tracker, 3)
    assert tracker.flush(timeout=10)
    assert tracker.stats.failed == 3
    tracker.close()


def test_log_does_not_block_while_api_hangs(fake_api):
    fake_api.open.clear()
    tracker = tracker_for(fake_api, flush_interval_s=0.0, batch_size=10, timeout_s=5.0)
    started = time.monotonic()
    log_many(tracker, 2000)
    elapsed = time.monotonic() - started
    fake_api.open.set()
    tracker.close()
    assert elapsed < 1.0


def test_full_buffer_drops_and_counts(fake_api, caplog):
    tracker = tracker_for(fake_api, max_queue_size=10)
    with caplog.at_level(logging.WARNING, logger="model_performance"):
        log_many(tracker, 25)
    assert tracker.stats.dropped == 15
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1
    tracker.close()
    assert tracker.stats.sent == 10


def test_per_record_rejections_counted(fake_api, caplog):
    def reject_second(request: Recorded):
        return {
            "stored": len(request.records()) - 1,
            "rejected": [{"index": 1, "id": "g-1", "field": "features.elo", "reason": "got secret-value-42"}],
            "failed": [],
        }

    fake_api.script(Answer(207, reject_second))
    tracker = tracker_for(fake_api)
    with caplog.at_level(logging.DEBUG, logger="model_performance"):
        for i in range(3):
            tracker.log_prediction(
                model_version="v1", prediction=0.5, prediction_id=f"g-{i}", features={"elo": "secret-value-42"}
            )
        tracker.close()
    stats = tracker.stats
    assert stats.rejected == 1
    assert stats.sent == 2
    assert "secret-value-42" not in caplog.text


def test_failed_records_are_resent(fake_api):
    def fail_first(request: Recorded):
        return {"stored": 2, "rejected": [], "failed": [{"index": 0, "id": "g-0", "reason": "storage throttled"}]}

    fake_api.script(Answer(207, fail_first))
    tracker = tracker_for(fake_api)
    log_many(tracker, 3)
    tracker.close()
    posted = fake_api.posted()
    assert len(posted) == 2
    assert [record["id"] for record in posted[1].records()] == ["g-0"]
    assert tracker.stats.sent == 3


def test_413_halves_the_batch(fake_api):
    fake_api.script(Answer(413, {"message": "Request Too Long"}))
    tracker = tracker_for(fake_api)
    log_many(tracker, 10)
    tracker.close()
    sizes = [len(request.records()) for request in fake_api.posted()]
    assert sizes == [10, 5, 5]
    assert tracker.stats.sent == 10


def test_unauthorised_counts_failed(fake_api):
    fake_api.script(Answer(403, {"message": "Missing Authentication Token"}))
    tracker = tracker_for(fake_api)
    log_many(tracker, 4)
    tracker.close()
    assert len(fake_api.posted()) == 1
    assert tracker.stats.failed == 4


def test_nan_prediction_rejected_locally(fake_api):
    tracker = tracker_for(fake_api)
    tracker.log_prediction(model_version="v1", prediction=math.nan, prediction_id="g-nan")
    tracker.close()
    assert tracker.stats.rejected == 1
    assert fake_api.posted() == []


def test_close_flushes_buffer(fake_api):
    tracker = tracker_for(fake_api)
    log_many(tracker, 5)
    assert fake_api.posted() == []
    assert tracker.close()
    assert tracker.stats.sent == 5


def test_context_manager_closes(fake_api):
    with tracker_for(fake_api) as tracker:
        log_many(tracker, 2)
    assert len(fake_api.posted()[0].records()) == 2


def test_log_after_close_is_dropped(fake_api):
    tracker = tracker_for(fake_api)
    tracker.close()
    log_many(tracker, 1)
    assert tracker.stats.dropped == 1


def test_flush_interval_sends_without_flush(fake_api):
    tracker = tracker_for(fake_api, flush_interval_s=0.05)
    log_many(tracker, 1)
    deadline = time.monotonic() + 5
    while not fake_api.posted() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fake_api.posted()) == 1
    tracker.close()


def test_generated_prediction_id_returned(fake_api):
    tracker = tracker_for(fake_api)
    prediction_id = tracker.log_prediction(model_version="v1", prediction=0.2)
    tracker.close()
    assert fake_api.posted()[0].records()[0]["id"] == prediction_id


def test_epoch_timestamp_formatted(fake_api):
    tracker = tracker_for(fake_api)
    tracker.log_prediction(model_version="v1", prediction=0.2, timestamp=1686589200, prediction_id="g-1")
    tracker.close()
    assert fake_api.posted()[0].records()[0]["timestamp"] == "2023-06-12T17:00:00Z"


def test_bad_timestamp_rejected_locally(fake_api):
    tracker = tracker_for(fake_api)
    tracker.log_prediction(model_version="v1", prediction=0.2, timestamp=object(), prediction_id="g-1")
    tracker.close()
    assert tracker.stats.rejected == 1
