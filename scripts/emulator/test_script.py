"""Checks that every start of scripts/emulator.sh runs its own server and that stopping one by
its URL leaves the others running."""

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "emulator.sh"


def run(*args):
    return subprocess.run([str(SCRIPT), *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def answers(url):
    try:
        urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
        return True
    except (urllib.error.URLError, OSError):
        return False


def stopped(url):
    for _ in range(50):
        if not answers(url):
            return True
        time.sleep(0.1)
    return False


def test_stop_by_url_leaves_other_server_running():
    first = run("start")
    second = run("start")
    try:
        assert first != second
        run("stop", first)
        assert stopped(first)
        assert answers(second)
    finally:
        run("stop", first)
        run("stop", second)
    assert stopped(second)
