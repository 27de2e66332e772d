"""Fixtures: a fake API for delivery tests, and a real `mpt serve` against the local emulator."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence

import pytest

from fake_api import FakeApi

REPO = Path(__file__).resolve().parents[3]
READY_TIMEOUT_S = 60.0

# Every AWS client in the tests uses dummy credentials and never probes instance metadata.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    with FakeApi() as api:
        yield api


@pytest.fixture(scope="session")
def emulator_endpoint() -> Iterator[str]:
    """The moto endpoint from MPT_TEST_ENDPOINT, or one started for this session."""
    endpoint = os.environ.get("MPT_TEST_ENDPOINT")
    if endpoint:
        yield endpoint
        return
    script = REPO / "scripts" / "emulator.sh"
    endpoint = subprocess.run([str(script), "start"], check=True, capture_output=True, text=True).stdout.strip()
    try:
        yield endpoint
    finally:
        subprocess.run([str(script), "stop", endpoint], check=False)


class ServerProcess:
    """A running `mpt serve`, whose log is read on a thread."""

    def __init__(self, emulator_endpoint: str, table: str, extra_args: Sequence[str] = ()) -> None:
        binary = Path(os.environ.get("MPT_BIN") or REPO / "target" / "debug" / "mpt")
        if not binary.is_file():
            pytest.fail(f"{binary} does not exist; build it with `cargo build -p mpt-cli` or set MPT_BIN")

        env = dict(os.environ)
        env.update(
            AWS_ENDPOINT_URL=emulator_endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
            MPT_TABLE=table,
            RUST_LOG="info",
        )
        env.pop("AWS_SESSION_TOKEN", None)
        self.lines: List[str] = []
        self._condition = threading.Condition()
        self._process = subprocess.Popen(
            [str(binary), "serve", "--addr", "127.0.0.1:0", *extra_args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        ready = self.wait_for("listening", READY_TIMEOUT_S)
        match = re.search(r"http://127\.0\.0\.1:\d+", ready or "")
        if match is None:
            self.stop()
            pytest.fail("mpt serve did not log its ready line; its log:\n" + "".join(self.lines))
        self.url = match.group(0)

    def _drain(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            with self._condition:
                self.lines.append(line)
                self._condition.notify_all()
        with self._condition:
            self._condition.notify_all()

    def wait_for(self, text: str, timeout_s: float) -> Optional[str]:
        """Return the first log line containing `text`, waiting up to `timeout_s` for it."""

        def find() -> Optional[str]:
            return next((line for line in self.lines if text in line), None)

        with self._condition:
            self._condition.wait_for(lambda: find() is not None or self._process.poll() is not None, timeout_s)
            return find()

    def stop(self) -> None:
        """Send SIGTERM and wait for the exit, killing the process if it does not stop in time."""
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@pytest.fixture(scope="session")
def api_table() -> str:
    """A fresh table name for this session's server."""
    return f"pytest-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def api_url(emulator_endpoint: str, api_table: str) -> Iterator[str]:
    """Base URL of `mpt serve` on a port of 127.0.0.1 the system picks, with a fresh table."""
    server = ServerProcess(emulator_endpoint, api_table)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def run_tick(emulator_endpoint: str, api_table: str) -> Callable[[], None]:
    """Return a function that runs compute-metrics and check-degradation once on the session's table.

    It starts a second `mpt serve --tick-every 1h`, whose first scheduled run starts at once with
    the current time as "now", waits for that run to finish, and stops the server.
    """

    def tick() -> None:
        server = ServerProcess(emulator_endpoint, api_table, ["--tick-every", "1h"])
        try:
            finished = server.wait_for("check-degradation finished", READY_TIMEOUT_S)
        finally:
            server.stop()
        if finished is None:
            pytest.fail("the scheduled run did not finish; the server's log:\n" + "".join(server.lines))

    return tick
