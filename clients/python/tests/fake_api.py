"""A scriptable HTTP server on 127.0.0.1 that replaces the API in tests, or sits in front of it.

It records every request. Scripted responses are used first, in order. After them it forwards to
`upstream` when one is set, and otherwise stores every record (200 with `stored` = the count).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Union


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def records(self) -> List[Dict[str, Any]]:
        """The predictions or actuals the body carries."""
        payload = self.json() or {}
        return payload.get("predictions") or payload.get("actuals") or []


@dataclass
class Answer:
    """A scripted response. `body` may be a function of the request, for per-record answers."""

    status: int
    body: Union[None, Dict[str, Any], Callable[[Recorded], Dict[str, Any]]] = None
    headers: Dict[str, str] = field(default_factory=dict)


class FakeApi:
    """Runs the server in a thread; use as a context manager."""

    def __init__(self, upstream: Optional[str] = None) -> None:
        self.upstream = upstream
        self.requests: List[Recorded] = []
        self.answers: List[Answer] = []
        # Cleared to hold every request until the test sets it again.
        self.open = threading.Event()
        self.open.set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self.answers.extend(answers)

    def posted(self) -> List[Recorded]:
        with self._lock:
            return [request for request in self.requests if request.method == "POST"]

    def __enter__(self) -> "FakeApi":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.open.set()
        self._server.shutdown()
        self._server.server_close()

    def _respond(self, request: Recorded) -> Answer:
        with self._lock:
            self.requests.append(request)
            scripted = self.answers.pop(0) if self.answers else None
        if scripted is not None:
            return scripted
        if self.upstream is not None:
            return self._forward(request)
        return Answer(200, {"stored": len(request.records()), "rejected": [], "failed": []})

    def _forward(self, request: Recorded) -> Answer:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = urllib.request.Request(
            self.upstream + request.path, data=request.body or None, method=request.method, headers=headers
        )
        try:
            with urllib.request.urlopen(upstream, timeout=30) as reply:
                return Answer(reply.status, json.loads(reply.read() or b"null"))
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, json.loads(error.read() or b"null"))

    def _handler_class(self) -> type:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                fake.open.wait(30)
                answer = fake._respond(request)
                payload = answer.body(request) if callable(answer.body) else answer.body
                raw = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
