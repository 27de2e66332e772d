"""HTTP requests to the API: JSON bodies, authentication, and retries with backoff."""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlencode

from .auth import Authenticator

# Statuses worth sending again: throttling and server-side failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

# The longest Retry-After the client waits; a larger value is treated as this many seconds.
MAX_RETRY_AFTER_S = 60.0

USER_AGENT = "model-performance-python/0.1.0"


class ApiError(Exception):
    """A request the API rejected, or that could not reach the API after every retry.

    `status` is the HTTP status, or None when no response arrived. `error`, `field` and
    `detail` come from the API's error body when it has one.
    """

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        error: Optional[str] = None,
        field: Optional[str] = None,
        detail: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class Response:
    """An HTTP response with its JSON body parsed (None when the body is empty or not JSON)."""

    status: int
    body: Any
    retry_after_s: Optional[float]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: full-jitter exponential backoff, capped."""

    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0

    def delay_s(self, attempt: int, retry_after_s: Optional[float] = None) -> float:
        """Return the wait before retry number `attempt` (0-based), honouring Retry-After."""
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), MAX_RETRY_AFTER_S)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        return random.uniform(0.0, ceiling)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Parse a Retry-After header, given in seconds or as an HTTP date, into seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


class Transport:
    """Sends JSON requests to one API endpoint."""

    def __init__(self, endpoint: str, auth: Authenticator, timeout_s: float, retry: RetryPolicy) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth
        self.timeout_s = timeout_s
        self.retry = retry

    def send(
        self,
        method: str,
        path: str,
        query: Optional[Mapping[str, Any]] = None,
        body: Optional[bytes] = None,
    ) -> Response:
        """Send one request without retrying.

        Raises OSError (including urllib.error.URLError and timeouts) when no response arrives.
        """
        url = self.endpoint + path
        params = {key: value for key, value in (query or {}).items() if value is not None}
        if params:
            url += "?" + urlencode(params)
        payload = body if body is not None else b""
        headers: Dict[str, str] = {"accept": "application/json", "user-agent": USER_AGENT}
        if body is not None:
            headers["content-type"] = "application/json"
        headers = self.auth.headers(method, url, payload, headers)

        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                return _response(reply.status, reply.read(), reply.headers.get("retry-after"))
        except urllib.error.HTTPError as error:
            with error:
                return _response(error.code, error.read(), error.headers.get("retry-after"))

    def request_json(
        self,
        method: str,
        path: str,
        query: Optional[Mapping[str, Any]] = None,
        payload: Any = None,
        stop: Optional[threading.Event] = None,
    ) -> Any:
        """Send a request, retrying throttling, server errors and connection failures.

        Returns the parsed JSON body of a 2xx response. Raises ApiError for any other status, or
        when every retry failed.
        """
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        attempt = 0
        while True:
            try:
                response = self.send(method, path, query, body)
            except OSError as error:
                if attempt >= self.retry.max_retries:
                    raise ApiError(f"{method} {path} failed after {attempt + 1} attempts: {error}") from error
                _wait(self.retry.delay_s(attempt), stop)
                attempt += 1
                continue

            if 200 <= response.status < 300:
                return response.body
            if response.status in RETRYABLE_STATUSES and attempt < self.retry.max_retries:
                _wait(self.retry.delay_s(attempt, response.retry_after_s), stop)
                attempt += 1
                continue
            raise error_from_response(method, path, response)


def error_from_response(method: str, path: str, response: Response) -> ApiError:
    """Build an ApiError from a non-2xx response and its `{error, field, detail}` body."""
    body = response.body if isinstance(response.body, dict) else {}
    error = body.get("error")
    field = body.get("field")
    detail = body.get("detail")
    parts = [f"{method} {path} returned HTTP {response.status}"]
    if error:
        parts.append(str(error))
    if field:
        parts.append(f"field {field}")
    if detail:
        parts.append(str(detail))
    return ApiError(": ".join(parts), status=response.status, error=error, field=field, detail=detail)


def _response(status: int, raw: bytes, retry_after: Optional[str]) -> Response:
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return Response(status=status, body=body, retry_after_s=parse_retry_after(retry_after))


def _wait(delay_s: float, stop: Optional[threading.Event]) -> None:
    if stop is None:
        time.sleep(delay_s)
    else:
        stop.wait(delay_s)
