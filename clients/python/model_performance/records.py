"""Encoding of prediction and actual records into the API's JSON, one record at a time."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Union

Timestamp = Union[datetime, str, float]

# The API rejects bodies over 1 MiB. The client keeps each request body under this many bytes.
MAX_BODY_BYTES = 1024 * 1024

# The API accepts at most this many records in one request.
MAX_BATCH_RECORDS = 1000


def format_timestamp(value: Timestamp) -> str:
    """Format a timestamp as RFC 3339 in UTC.

    A naive datetime is taken to be UTC, a number is seconds since the Unix epoch, and a string
    is sent as it is.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    if not isinstance(value, datetime):
        raise TypeError(f"a timestamp must be a datetime, an RFC 3339 string or epoch seconds, got {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    text = value.astimezone(timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def now_timestamp() -> str:
    """Return the current time in RFC 3339, UTC."""
    return format_timestamp(datetime.now(timezone.utc))


def encode_record(record: Dict[str, Any]) -> bytes:
    """Encode one record as compact JSON.

    NumPy scalars and arrays are converted to plain numbers and lists. Raises ValueError for NaN
    or infinite numbers, which JSON cannot carry, and TypeError for values that are not JSON.
    """
    text = json.dumps(record, separators=(",", ":"), allow_nan=False, default=_plain_value)
    return text.encode("utf-8")


def encode_batch(model: str, key: str, records: Sequence[bytes]) -> bytes:
    """Build a request body `{"model": ..., key: [...]}` from records already encoded."""
    head = b'{"model":' + json.dumps(model).encode("utf-8") + b',"' + key.encode("ascii") + b'":['
    return head + b",".join(records) + b"]}"


def envelope_bytes(model: str, key: str) -> int:
    """Return the size of a request body that contains no records."""
    return len(encode_batch(model, key, []))


def split_by_size(model: str, key: str, records: Sequence[bytes], max_records: int) -> List[List[bytes]]:
    """Split encoded records into chunks of at most `max_records` whose bodies fit in MAX_BODY_BYTES.

    A record too large for a body on its own gets a chunk of its own. The API rejects that request
    with a 413, and the record is counted as rejected.
    """
    budget = MAX_BODY_BYTES - envelope_bytes(model, key)
    chunks: List[List[bytes]] = []
    current: List[bytes] = []
    size = 0
    for record in records:
        # Every record after the first needs a comma separator.
        extra = len(record) + (1 if current else 0)
        if current and (len(current) >= max_records or size + extra > budget):
            chunks.append(current)
            current, size = [], 0
            extra = len(record)
        current.append(record)
        size += extra
    if current:
        chunks.append(current)
    return chunks


def _plain_value(value: Any) -> Any:
    # NumPy scalars have item() and arrays have tolist(); both give plain Python values.
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise TypeError(f"values of type {type(value).__name__} cannot be sent as JSON")


def prediction_record(
    prediction_id: str,
    model_version: str,
    prediction: Any,
    timestamp: Timestamp,
    actual: Any = None,
    latency_ms: Optional[float] = None,
    segment: Optional[Dict[str, str]] = None,
    features: Optional[Dict[str, Any]] = None,
    bet: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Build a `POST /v1/predictions` record, leaving out the optional fields that are None."""
    record: Dict[str, Any] = {
        "id": prediction_id,
        "version": model_version,
        "timestamp": format_timestamp(timestamp),
        "prediction": prediction,
    }
    optional = {"actual": actual, "latency_ms": latency_ms, "segment": segment, "features": features, "bet": bet}
    record.update({key: value for key, value in optional.items() if value is not None})
    return record


def actual_record(prediction_id: str, actual: Any, timestamp: Timestamp) -> Dict[str, Any]:
    """Build a `POST /v1/actuals` record."""
    return {"id": prediction_id, "actual": actual, "timestamp": format_timestamp(timestamp)}
