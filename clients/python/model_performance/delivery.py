"""Background delivery: a bounded buffer of encoded records, sent in batches by one thread.

Logging a record never blocks on the network and never raises because the API is down. When
the buffer is full the record is dropped and counted. The worker thread retries throttling,
server errors and connection failures with backoff, and counts every record once as sent,
rejected or failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Deque, Dict, List, Optional, Tuple

from .records import encode_batch, split_by_size
from .transport import RETRYABLE_STATUSES, Response, RetryPolicy, Transport

logger = logging.getLogger("model_performance")

# Repeated warnings (drops, rejections, failures) are logged at most once per this many seconds.
WARNING_INTERVAL_S = 10.0

PREDICTIONS = "predictions"
ACTUALS = "actuals"


@dataclass(frozen=True)
class TrackerStats:
    """Counts of records since the tracker started.

    Every logged record ends up in exactly one counter. `sent` counts records the API stored,
    repeats included. `rejected` counts invalid ones, by the API's response or because they could
    not be encoded. `failed` counts records whose retries ran out, and `dropped` those that came
    while the buffer was full or the tracker closed. `pending` are buffered or in flight.
    """

    sent: int
    rejected: int
    failed: int
    dropped: int
    pending: int


@dataclass
class _Record:
    kind: str
    payload: bytes
    queued_at: float


class _RateLimitedWarning:
    """Logs one warning per interval and counts the ones it held back."""

    def __init__(self, interval_s: float = WARNING_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last = -float("inf")
        self._suppressed = 0
        self._lock = threading.Lock()

    def warn(self, message: str, *args: Any, level: int = logging.WARNING) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.interval_s:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        if suppressed:
            message += " (%d similar messages suppressed)"
            args = (*args, suppressed)
        logger.log(level, message, *args)


class Delivery:
    """Buffers encoded records and sends them from a background thread."""

    def __init__(
        self,
        model: str,
        transport: Transport,
        batch_size: int,
        max_queue_size: int,
        flush_interval_s: float,
    ) -> None:
        self.model = model
        self.transport = transport
        self.retry: RetryPolicy = transport.retry
        self.batch_size = batch_size
        self.max_queue_size = max_queue_size
        self.flush_interval_s = flush_interval_s

        self._cond = threading.Condition()
        self._buffer: Deque[_Record] = deque()
        self._enqueued = 0
        self._dequeued = 0
        self._completed = 0
        self._flush_target = 0
        self._closing = False
        # Set when close() runs out of time: retries stop and what is left counts as failed.
        self._abandon = threading.Event()
        self._counts: Dict[str, int] = {"sent": 0, "rejected": 0, "failed": 0, "dropped": 0}

        self._drop_warning = _RateLimitedWarning()
        self._reject_warning = _RateLimitedWarning()
        self._failure_warning = _RateLimitedWarning()

        self._thread = threading.Thread(target=self._run, name=f"model-performance-{model}", daemon=True)
        self._thread.start()

    # Called from the model server's threads.

    def enqueue(self, kind: str, payload: bytes) -> bool:
        """Buffer one encoded record, or drop and count it when the buffer is full. Never blocks."""
        with self._cond:
            if self._closing:
                reason = "the tracker is closed"
            elif len(self._buffer) >= self.max_queue_size:
                reason = f"the buffer holds its maximum of {self.max_queue_size} records"
            else:
                self._buffer.append(_Record(kind, payload, time.monotonic()))
                self._enqueued += 1
                # The worker waits without a timeout while the buffer is empty, so wake it.
                if len(self._buffer) == 1 or len(self._buffer) >= self.batch_size:
                    self._cond.notify_all()
                return True
            self._counts["dropped"] += 1
            dropped = self._counts["dropped"]
        self._drop_warning.warn("dropped a record because %s; %d dropped so far", reason, dropped)
        return False

    def count(self, outcome: str, records: int = 1) -> None:
        """Add to one of the outcome counters (sent, rejected, failed, dropped)."""
        with self._cond:
            self._counts[outcome] += records

    def warn_rejected(self, message: str, *args: Any) -> None:
        """Log a rate-limited warning about a rejected record."""
        self._reject_warning.warn(message, *args)

    def stats(self) -> TrackerStats:
        """Return a snapshot of the counters."""
        with self._cond:
            return TrackerStats(pending=self._enqueued - self._completed, **self._counts)

    def flush(self, timeout_s: Optional[float]) -> bool:
        """Send every record buffered before the call; return whether all were handled in time."""
        with self._cond:
            target = self._enqueued
            self._flush_target = max(self._flush_target, target)
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._completed >= target, timeout_s)

    def close(self, timeout_s: Optional[float]) -> bool:
        """Send what is buffered, stop the thread, and return whether everything was handled in time."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            # Retries stop and what is left counts as failed, so the thread ends promptly.
            self._abandon.set()
            self._thread.join(self.transport.timeout_s + 1.0)
            return False
        return True

    # The worker thread.

    def _run(self) -> None:
        while True:
            group = self._next_group()
            if group is None:
                return
            try:
                self._send_group(group)
            except Exception:  # noqa: BLE001 - the worker must outlive any bug in delivery
                logger.exception("failed to deliver %d records", len(group))
                self.count("failed", len(group))
            finally:
                with self._cond:
                    self._completed += len(group)
                    self._cond.notify_all()

    def _next_group(self) -> Optional[List[_Record]]:
        """Wait until a batch is due, then take it from the buffer. Returns None when closed and empty."""
        with self._cond:
            while True:
                if self._buffer and self._batch_due():
                    break
                if self._closing and not self._buffer:
                    return None
                timeout = None
                if self._buffer:
                    timeout = max(self._buffer[0].queued_at + self.flush_interval_s - time.monotonic(), 0.0)
                self._cond.wait(timeout)
            count = min(self.batch_size, len(self._buffer))
            group = [self._buffer.popleft() for _ in range(count)]
            self._dequeued += count
            return group

    def _batch_due(self) -> bool:
        return (
            self._closing
            or self._flush_target > self._dequeued
            or len(self._buffer) >= self.batch_size
            or time.monotonic() - self._buffer[0].queued_at >= self.flush_interval_s
        )

    def _send_group(self, group: List[_Record]) -> None:
        # Predictions go first, so actuals in the same group find their predictions stored.
        for kind in (PREDICTIONS, ACTUALS):
            payloads = [record.payload for record in group if record.kind == kind]
            for chunk in split_by_size(self.model, kind, payloads, self.batch_size):
                self._deliver(kind, chunk)

    def _deliver(self, kind: str, records: List[bytes]) -> None:
        """POST one batch, resending records the API reports as failed, until retries run out."""
        path = f"/v1/{kind}"
        pending = records
        attempt = 0
        while pending:
            retry_after_s: Optional[float] = None
            try:
                response = self.transport.send("POST", path, body=encode_batch(self.model, kind, pending))
            except OSError as error:
                problem = f"could not reach the API: {error}"
            else:
                outcome = self._apply_response(kind, pending, response)
                if outcome is None:
                    return
                pending, problem = outcome
                retry_after_s = response.retry_after_s
                if not pending:
                    return

            if attempt >= self.retry.max_retries or self._abandon.is_set():
                self.count("failed", len(pending))
                self._failure_warning.warn(
                    "gave up on %d %s after %d attempts: %s", len(pending), kind, attempt + 1, problem
                )
                return
            delay_s = self.retry.delay_s(attempt, retry_after_s)
            logger.debug("retrying %d %s in %.2f s: %s", len(pending), kind, delay_s, problem)
            self._abandon.wait(delay_s)
            attempt += 1

    def _apply_response(
        self, kind: str, pending: List[bytes], response: Response
    ) -> Optional[Tuple[List[bytes], str]]:
        """Count the records a response settles.

        Returns None when every record is settled, or the records to resend and the reason.
        """
        status = response.status
        body = response.body if isinstance(response.body, dict) else {}
        if status in (200, 207, 400) and ("stored" in body or "rejected" in body):
            return self._apply_per_record(kind, pending, body)

        if status == 413 and len(pending) > 1:
            # A gateway in front of the API may have a smaller body limit: halve and resend.
            middle = len(pending) // 2
            self._deliver(kind, pending[:middle])
            self._deliver(kind, pending[middle:])
            return None
        if status in RETRYABLE_STATUSES:
            return pending, f"HTTP {status}"

        error = body.get("error") or body.get("message") or "no error message"
        if status in (400, 413):
            self.count("rejected", len(pending))
            self.warn_rejected("the API rejected a batch of %d %s: HTTP %d: %s", len(pending), kind, status, error)
        else:
            self.count("failed", len(pending))
            self._failure_warning.warn(
                "the API refused a batch of %d %s: HTTP %d: %s", len(pending), kind, status, error, level=logging.ERROR
            )
        return None

    def _apply_per_record(
        self, kind: str, pending: List[bytes], body: Dict[str, Any]
    ) -> Optional[Tuple[List[bytes], str]]:
        stored = body.get("stored")
        rejected = body.get("rejected") or []
        failed = body.get("failed") or []
        self.count("sent", stored if isinstance(stored, int) else 0)

        if rejected:
            self.count("rejected", len(rejected))
            first = rejected[0] if isinstance(rejected[0], dict) else {}
            field = str(first.get("field"))
            # A reason about a feature may quote its value, which must stay out of the logs.
            reason = "withheld for a feature field" if field.startswith("features") else first.get("reason")
            self.warn_rejected(
                "the API rejected %d of %d %s; first: id %s, field %s: %s",
                len(rejected),
                len(pending),
                kind,
                first.get("id"),
                field,
                reason,
            )

        resend = []
        for entry in failed:
            index = entry.get("index") if isinstance(entry, dict) else None
            if isinstance(index, int) and 0 <= index < len(pending):
                resend.append(pending[index])
        unmatched = len(failed) - len(resend)
        if unmatched:
            self.count("failed", unmatched)
        if not resend:
            return None
        first = failed[0] if isinstance(failed[0], dict) else {}
        return resend, f"the API could not store {len(resend)} records: {first.get('reason')}"
