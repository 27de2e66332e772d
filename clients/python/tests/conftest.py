"""Fixtures: a fake API for delivery tests, and a real `mpt serve` against the local emulator."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Iterator, List

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
        subprocess.run([str(script), "stop"], check=False)


@pytest.fixture(scope="session")
def api_url(emulator_endpoint: str) -> Iterator[str]:
    """Base URL of `mpt serve` on a port of 127.0.0.1 the system picks, with a fresh table."""
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
        MPT_TABLE=f"pytest-{uuid.uuid4().hex[:12]}",
        RUST_LOG="info",
    )
    env.pop("AWS_SESSION_TOKEN", None)
    server = subprocess.Popen(
        [str(binary), "serve", "--addr", "127.0.0.1:0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield _wait_until_ready(server)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_ready(server: subprocess.Popen) -> str:
    """Read the server's log until its ready line, and keep draining it afterwards."""
    lines: List[str] = []
    found: List[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            lines.append(line)
            match = re.search(r"listening.*?(http://127\.0\.0\.1:\d+)", line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(READY_TIMEOUT_S) or not found:
        server.kill()
        pytest.fail("mpt serve did not log its ready line; its log:\n" + "".join(lines))
    return found[0]
