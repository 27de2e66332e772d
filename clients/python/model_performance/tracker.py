"""PerformanceTracker: log predictions and actuals for one model, and read its metrics."""

from __future__ import annotations

import atexit
import logging
import uuid
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Callable, Dict, List, Optional, Sequence, Type
from urllib.parse import quote

from .auth import Authenticator
from .delivery import ACTUALS, PREDICTIONS, Delivery, TrackerStats
from .records import (
    MAX_BATCH_RECORDS,
    Timestamp,
    actual_record,
    encode_record,
    format_timestamp,
    now_timestamp,
    prediction_record,
)
from .transport import RetryPolicy, Transport

logger = logging.getLogger("model_performance")

# Pages fetched at most by get_history and get_alerts, so a broken `next` token cannot loop forever.
MAX_PAGES = 1000


class PerformanceTracker:
    """Sends one model's predictions and actuals to the API, and reads its metrics back.

    `log_prediction` and `log_actual` only buffer the record. A background thread sends
    batches of up to `batch_size` records once `flush_interval_s` has passed since the oldest
    buffered record, or sooner when a batch is full. They never block on the network and never
    raise because the API is down: with the buffer full, records are dropped and counted in
    `stats`. The read methods (`get_metrics`, `get_history`, `compare`, `get_alerts`) and the
    configuration methods (`register_model`, `set_monitors`) are synchronous and raise ApiError.

    Authentication: requests are signed with AWS SigV4 (service `execute-api`) when botocore is
    installed and finds credentials, unless `sign=False`. An `api_key` is sent as `x-api-key`.
    The region comes from `region`, an execute-api endpoint's host, or AWS_REGION.
    """

    def __init__(
        self,
        model_name: str,
        endpoint: str,
        api_key: Optional[str] = None,
        region: Optional[str] = None,
        sign: Optional[bool] = None,
        batch_size: int = MAX_BATCH_RECORDS,
        flush_interval_s: float = 1.0,
        max_queue_size: int = 10_000,
        timeout_s: float = 10.0,
        max_retries: int = 5,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        if not model_name:
            raise ValueError("model_name is empty; pass the model's name, for example 'nba-game-predictor'")
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"endpoint {endpoint!r} is not an http(s) URL; pass the API's base URL")
        if not 1 <= batch_size <= MAX_BATCH_RECORDS:
            raise ValueError(f"batch_size must be from 1 to {MAX_BATCH_RECORDS}, got {batch_size}")
        if max_queue_size < 1:
            raise ValueError(f"max_queue_size must be at least 1, got {max_queue_size}")

        self.model_name = model_name
        self.endpoint = endpoint.rstrip("/")
        auth = Authenticator(endpoint, api_key=api_key, region=region, sign=sign)
        retry = RetryPolicy(max_retries=max_retries, backoff_base_s=backoff_base_s, backoff_max_s=backoff_max_s)
        self._transport = Transport(self.endpoint, auth, timeout_s, retry)
        self._delivery = Delivery(model_name, self._transport, batch_size, max_queue_size, flush_interval_s)
        self._model_path = "/v1/models/" + quote(model_name, safe="")
        atexit.register(self._close_at_exit)

    # Writing: buffered, never raises because of the API.

    def log_prediction(
        self,
        model_version: str,
        prediction: Any,
        actual: Any = None,
        timestamp: Optional[Timestamp] = None,
        prediction_id: Optional[str] = None,
        latency_ms: Optional[float] = None,
        segment: Optional[Dict[str, str]] = None,
        features: Optional[Dict[str, Any]] = None,
        bet: Optional[Dict[str, Any]] = None,
    ) -> str:
        """Buffer one prediction and return its id (a new UUID when `prediction_id` is None).

        `prediction` is a probability for a binary model, a class label or a map of class
        probabilities for a multiclass one, and a number for a regression. `timestamp` defaults
        to now. A naive datetime is taken to be UTC, and a number is seconds since the Unix
        epoch. A record that cannot be encoded (NaN, objects that are not JSON) is counted as
        rejected and logged, not raised.
        """
        if prediction_id is None:
            prediction_id = uuid.uuid4().hex
        when = timestamp if timestamp is not None else datetime.now(timezone.utc)
        optional = {"actual": actual, "latency_ms": latency_ms, "segment": segment, "features": features, "bet": bet}
        self._enqueue(
            PREDICTIONS,
            prediction_id,
            lambda: prediction_record(prediction_id, model_version, prediction, when, **optional),
        )
        return prediction_id

    def log_actual(self, prediction_id: str, actual: Any, timestamp: Optional[Timestamp] = None) -> None:
        """Buffer the true outcome for a prediction id. `timestamp` (when it became known) defaults to now."""
        when = timestamp if timestamp is not None else now_timestamp()
        self._enqueue(ACTUALS, prediction_id, lambda: actual_record(prediction_id, actual, when))

    def _enqueue(self, kind: str, prediction_id: str, build: Callable[[], Dict[str, Any]]) -> None:
        """Build, encode and buffer a record. One that cannot be encoded is counted as rejected."""
        try:
            payload = encode_record(build())
        except (TypeError, ValueError, OverflowError, OSError) as error:
            self._delivery.count("rejected")
            self._delivery.warn_rejected("could not encode a record for id %s: %s", prediction_id, error)
            return
        self._delivery.enqueue(kind, payload)

    @property
    def stats(self) -> TrackerStats:
        """Counts of records sent, rejected, failed, dropped and still pending."""
        return self._delivery.stats()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Send every record logged so far and wait; return False if `timeout` seconds passed first."""
        return self._delivery.flush(timeout)

    def close(self, timeout: Optional[float] = 10.0) -> bool:
        """Send what is buffered and stop the background thread.

        Waits up to `timeout` seconds, then stops retrying and counts what is left as failed.
        Returns whether everything was handled in time. Records logged afterwards are dropped.
        """
        atexit.unregister(self._close_at_exit)
        return self._delivery.close(timeout)

    def _close_at_exit(self) -> None:
        if not self._delivery.close(10.0):
            logger.warning("exited before every record was sent: %s", self.stats)

    def __enter__(self) -> "PerformanceTracker":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    # Reading and configuration: synchronous, raise ApiError.

    def get_metrics(
        self,
        time_window: str = "7d",
        version: Optional[str] = None,
        segment: Optional[str] = None,
        at: Optional[Timestamp] = None,
    ) -> Dict[str, Any]:
        """Return the model's metrics over a window, for example `time_window="7d"`.

        The result is the API's response with the entries of its `metrics` map added at the top
        level, so `result["accuracy"]` and `result["predictions"]` both work. Top-level fields
        (`model`, `version`, `window`, `start`, `end`, `predictions`, `labelled`,
        `label_coverage`, `samples`, `intervals`, `reasons`) win over a metric of the same name,
        and the `metrics` map itself stays under "metrics". An undefined metric is None, and
        `result["reasons"]` gives the reason. `segment` is written `key:value`.
        """
        query = {
            "window": time_window,
            "version": version,
            "segment": segment,
            "at": None if at is None else format_timestamp(at),
        }
        response = self._transport.request_json("GET", self._model_path + "/metrics", query)
        metrics = response.get("metrics") or {}
        return {**metrics, **response}

    def get_history(
        self,
        metric: str,
        time_window: str = "1d",
        version: Optional[str] = None,
        start: Optional[Timestamp] = None,
        end: Optional[Timestamp] = None,
        page_size: Optional[int] = None,
    ) -> List[Dict[str, Any]]:
        """Return every history point (`end`, `value`, `labelled`) of a metric, following pages."""
        query: Dict[str, Any] = {
            "metric": metric,
            "window": time_window,
            "version": version,
            "from": None if start is None else format_timestamp(start),
            "to": None if end is None else format_timestamp(end),
            "limit": page_size,
        }
        points: List[Dict[str, Any]] = []
        for page in self._pages(self._model_path + "/history", query):
            points.extend(page.get("points") or [])
        return points

    def compare(
        self, baseline: str, candidate: str, time_window: str = "30d", at: Optional[Timestamp] = None
    ) -> Dict[str, Any]:
        """Return the API's comparison of two versions over a window, paired on shared ids where possible."""
        query = {
            "baseline": baseline,
            "candidate": candidate,
            "window": time_window,
            "at": None if at is None else format_timestamp(at),
        }
        return self._transport.request_json("GET", self._model_path + "/compare", query)

    def get_alerts(self, page_size: Optional[int] = None) -> Dict[str, Any]:
        """Return `{"alerts": [...], "current": {...}}`: every alert sent, oldest first, across pages."""
        alerts: List[Dict[str, Any]] = []
        current: Dict[str, Any] = {}
        for page in self._pages(self._model_path + "/alerts", {"limit": page_size}):
            alerts.extend(page.get("alerts") or [])
            current = page.get("current") or current
        return {"alerts": alerts, "current": current}

    def register_model(
        self,
        task: str,
        threshold: Optional[float] = None,
        classes: Optional[Sequence[str]] = None,
        segments: Optional[Sequence[str]] = None,
        reference: Optional[Dict[str, Timestamp]] = None,
    ) -> Dict[str, Any]:
        """Register or update the model: `task` is binary, multiclass or regression."""
        body: Dict[str, Any] = {"task": task}
        if threshold is not None:
            body["threshold"] = threshold
        if classes is not None:
            body["classes"] = list(classes)
        if segments is not None:
            body["segments"] = list(segments)
        if reference is not None:
            body["reference"] = {key: format_timestamp(value) for key, value in reference.items()}
        return self._transport.request_json("PUT", self._model_path, payload=body) or {}

    def set_monitors(self, monitors: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
        """Replace the model's monitor rules (the `monitors` list of `PUT /v1/models/{model}/monitors`)."""
        body = {"monitors": list(monitors)}
        return self._transport.request_json("PUT", self._model_path + "/monitors", payload=body) or {}

    def _pages(self, path: str, query: Dict[str, Any]) -> List[Dict[str, Any]]:
        pages = []
        token: Optional[str] = None
        for _ in range(MAX_PAGES):
            response = self._transport.request_json("GET", path, {**query, "next": token})
            pages.append(response)
            token = response.get("next")
            if not token:
                return pages
        logger.warning("stopped reading %s after %d pages", path, MAX_PAGES)
        return pages
